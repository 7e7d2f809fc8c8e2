// Reads the bench upstream's send stamps out of an SSE byte stream as it arrives, pairing each
// complete event with the arrival time of the chunk that completed it. Pure; no I/O.
import { SENT_PREFIX } from './bench-upstream.js';

export interface StampedEvent {
  sentNs: bigint;
  arrivedNs: bigint;
}

export interface StampReader {
  /** Feeds one chunk received at `arrivedNs`; returns the events it completed, in order. */
  push(chunk: Buffer, arrivedNs: bigint): StampedEvent[];
  /** Complete events seen that carried no stamp (a relay that drops comments would show here). */
  readonly unstamped: number;
}

export function createStampReader(): StampReader {
  let carry = '';
  let unstamped = 0;
  return {
    push(chunk, arrivedNs) {
      // latin1 keeps one char per byte, so a multi-byte sequence split across chunks is harmless.
      const text = carry + chunk.toString('latin1');
      const parts = text.split('\n\n');
      carry = parts.pop()!;
      const out: StampedEvent[] = [];
      for (const ev of parts) {
        if (ev === '') continue;
        const at = ev.indexOf(SENT_PREFIX);
        if (at === -1) { unstamped++; continue; }
        const start = at + SENT_PREFIX.length;
        let end = start;
        while (end < ev.length && ev.charCodeAt(end) >= 48 && ev.charCodeAt(end) <= 57) end++;
        if (end === start) { unstamped++; continue; }
        out.push({ sentNs: BigInt(ev.slice(start, end)), arrivedNs });
      }
      return out;
    },
    get unstamped() { return unstamped; },
  };
}
