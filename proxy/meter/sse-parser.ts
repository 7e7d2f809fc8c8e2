// Incremental Server-Sent Events parser over raw bytes (WHATWG HTML "event stream" rules) for the
// usage tap. Owns line splitting and event assembly only; imports nothing but node:buffer.
import { Buffer } from 'node:buffer';

export interface SseParserOptions {
  /** Called once per dispatched event. `type` is the `event:` field, or "message" when absent. */
  onEvent(type: string, data: string): void;
  /**
   * Asked when an `event:` line names the type. Returning false drops that event's data lines
   * unread: the bulk of a Messages stream is content_block_delta, which the meter never needs.
   */
  wantsData(type: string): boolean;
  /** Cap on a line still waiting for its terminator, and on one event's stored data. */
  maxPendingBytes: number;
}

export interface SseParser {
  /** Never throws; after a failure further input is ignored. */
  push(chunk: Uint8Array): void;
  /** End of input. Per the spec an event without its closing blank line is discarded. */
  finish(): void;
  /** Why parsing gave up, or null. */
  readonly failure: string | null;
}

const LF = 0x0a;
const CR = 0x0d;
const COLON = 0x3a;
const SPACE = 0x20;
const DATA = [0x64, 0x61, 0x74, 0x61]; // "data"
const EVENT = [0x65, 0x76, 0x65, 0x6e, 0x74]; // "event"

function fieldIs(buf: Uint8Array, start: number, end: number, name: number[]): boolean {
  const n = name.length;
  if (end - start < n) return false;
  for (let k = 0; k < n; k++) if (buf[start + k] !== name[k]) return false;
  // The field name runs to the first colon or the end of the line.
  return end - start === n || buf[start + n] === COLON;
}

function sameBytes(a: Uint8Array | null, buf: Uint8Array, start: number, end: number): boolean {
  if (a === null || a.length !== end - start) return false;
  for (let k = 0; k < a.length; k++) if (a[k] !== buf[start + k]) return false;
  return true;
}

/**
 * Splits on CRLF, LF or CR (a CR ending one chunk and an LF starting the next are one line
 * break). Works on bytes, so a chunk boundary inside a multi-byte UTF-8 character is harmless:
 * lines only ever end at ASCII bytes, and only complete lines are decoded.
 */
export function createSseParser(opts: SseParserOptions): SseParser {
  const decoder = new TextDecoder('utf-8');
  const max = opts.maxPendingBytes;
  let pending: Buffer[] = [];
  let pendingLen = 0;
  let skipLeadingLF = false;
  let firstLine = true;
  let failure: string | null = null;

  let eventType: string | null = null;
  let keepData = true;
  let dataParts: string[] = [];
  let dataBytes = 0;
  let sawData = false;
  let lastNameBytes: Uint8Array | null = null;
  let lastName = '';
  let lastKeep = true;

  function fail(reason: string): void {
    failure = reason;
    pending = [];
    pendingLen = 0;
    dataParts = [];
  }

  function resetEvent(): void {
    eventType = null;
    keepData = true;
    dataParts = [];
    dataBytes = 0;
    sawData = false;
  }

  function dispatch(): void {
    // Spec: an event with no data lines is not dispatched; the event type still resets.
    if (sawData && keepData) {
      const type = eventType ?? 'message';
      const data = dataParts.join('\n');
      resetEvent();
      opts.onEvent(type, data);
      return;
    }
    resetEvent();
  }

  function handleLine(buf: Uint8Array, start: number, end: number): void {
    if (firstLine) {
      firstLine = false;
      // Spec: one leading U+FEFF (EF BB BF) is ignored.
      if (end - start >= 3 && buf[start] === 0xef && buf[start + 1] === 0xbb && buf[start + 2] === 0xbf) start += 3;
    }
    if (start === end) {
      dispatch();
      return;
    }
    const first = buf[start];
    if (first === COLON) return; // comment (Anthropic's keep-alives may come this way)
    const isData = first === DATA[0] && fieldIs(buf, start, end, DATA);
    // id, retry and unknown fields (including look-alikes such as "dataX") carry nothing we use.
    if (!isData && !(first === EVENT[0] && fieldIs(buf, start, end, EVENT))) return;

    const nameLen = isData ? DATA.length : EVENT.length;
    let valueStart = start + nameLen;
    if (valueStart < end) {
      valueStart++; // the colon
      if (valueStart < end && buf[valueStart] === SPACE) valueStart++;
    }

    if (isData) {
      sawData = true;
      if (!keepData) return;
      dataBytes += end - valueStart + 1;
      if (dataBytes > max) {
        fail(`SSE event data exceeded ${max} bytes`);
        return;
      }
      dataParts.push(decoder.decode(buf.subarray(valueStart, end)));
      return;
    }
    // Streams repeat a few names (content_block_delta above all): reuse the last decoding and
    // decision when the bytes match instead of decoding and asking again.
    if (!sameBytes(lastNameBytes, buf, valueStart, end)) {
      lastNameBytes = buf.slice(valueStart, end);
      lastName = decoder.decode(lastNameBytes);
      lastKeep = opts.wantsData(lastName);
    }
    eventType = lastName;
    keepData = lastKeep;
    if (!keepData) dataParts = [];
  }

  function push(chunk: Uint8Array): void {
    if (failure !== null || chunk.byteLength === 0) return;
    const buf = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    const len = buf.length;
    let pos = 0;
    if (skipLeadingLF) {
      skipLeadingLF = false;
      if (buf[0] === LF) pos = 1;
    }
    // Both searches are cached and redone only once passed, so a chunk without any CR is
    // scanned for CR once, not once per line: the loop stays linear in the chunk size.
    let nextLF = buf.indexOf(LF, pos);
    let nextCR = buf.indexOf(CR, pos);
    while (pos < len) {
      if (nextLF !== -1 && nextLF < pos) nextLF = buf.indexOf(LF, pos);
      if (nextCR !== -1 && nextCR < pos) nextCR = buf.indexOf(CR, pos);
      let i = nextLF === -1 ? nextCR : nextCR === -1 ? nextLF : Math.min(nextLF, nextCR);
      if (i === -1) {
        const rest = len - pos;
        if (pendingLen + rest > max) {
          fail(`SSE line exceeded ${max} bytes without a line break`);
          return;
        }
        // Copied: the caller owns `chunk` and may reuse its memory after write() returns.
        pending.push(Buffer.from(buf.subarray(pos)));
        pendingLen += rest;
        return;
      }
      if (pendingLen > 0) {
        const line = Buffer.concat([...pending, buf.subarray(pos, i)]);
        pending = [];
        pendingLen = 0;
        handleLine(line, 0, line.length);
      } else {
        handleLine(buf, pos, i);
      }
      if (failure !== null) return;
      if (buf[i] === CR) {
        if (i + 1 < len) {
          if (buf[i + 1] === LF) i++;
        } else {
          skipLeadingLF = true;
        }
      }
      pos = i + 1;
    }
  }

  return {
    push,
    finish() {
      pending = [];
      pendingLen = 0;
      resetEvent();
    },
    get failure() {
      return failure;
    },
  };
}
