// Local-calendar arithmetic for the ledger: which local day a timestamp falls on and where a local
// day starts. The zone is a function passed in (tests pin it); imports nothing but errors.
import { InvalidRequestError } from '../errors.js';

/** Minutes east of UTC in force at `ts` (CET in winter: 60, New York in summer: -240). */
export type TzOffset = (ts: number) => number;

/** The machine's zone, through the JS Date local getters (getTimezoneOffset is minutes *west*). */
export const systemTzOffset: TzOffset = (ts) => -new Date(ts).getTimezoneOffset();

const DAY_RE = /^(\d{4})-(\d{2})-(\d{2})$/;
const MS_PER_MIN = 60_000;

/** 'YYYY-MM-DD' of the local day holding `ts`. */
export function localDay(ts: number, tz: TzOffset): string {
  return new Date(ts + tz(ts) * MS_PER_MIN).toISOString().slice(0, 10);
}

function parseDay(day: string): number {
  const m = DAY_RE.exec(day);
  if (m === null) throw new InvalidRequestError(`Expected a date as YYYY-MM-DD, got ${JSON.stringify(day.slice(0, 40))}.`);
  const utc = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
  // Date.UTC rolls 2026-02-31 over to March; refuse it instead of answering for another day.
  if (new Date(utc).toISOString().slice(0, 10) !== day) throw new InvalidRequestError(`${day} is not a calendar date.`);
  return utc;
}

/**
 * Epoch ms of local midnight starting `day`. The offset is looked up at a first guess and again
 * at the corrected instant, which settles it on both sides of a DST change (a zone whose clocks
 * skip midnight itself gets the first instant of that day that exists).
 */
export function localDayStart(day: string, tz: TzOffset): number {
  const utc = parseDay(day);
  let t = utc - tz(utc) * MS_PER_MIN;
  t = utc - tz(t) * MS_PER_MIN;
  return t;
}

/** The local day after `day`. */
export function nextDay(day: string): string {
  return new Date(parseDay(day) + 86_400_000).toISOString().slice(0, 10);
}

/** A query window: `[startMs, endMs)`; `startDay`/`endDay` (exclusive) when both ends fall on local midnights. */
export interface TimeRange {
  startMs: number | null;
  endMs: number | null;
  /** True when each given bound is a local midnight, so whole-day rollups answer exactly. */
  dayAligned: boolean;
  startDay: string | null;
  endDay: string | null;
}

export type DateBound = string | number | undefined;

function checkMs(v: number, name: string): number {
  if (!Number.isFinite(v)) throw new InvalidRequestError(`${name} must be a date (YYYY-MM-DD) or epoch milliseconds.`);
  return v;
}

/**
 * `since` / `until` as the queries accept them: 'YYYY-MM-DD' (local; `until` includes that day)
 * or epoch ms (`until` exclusive).
 */
export function toRange(since: DateBound, until: DateBound, tz: TzOffset): TimeRange {
  let startMs: number | null = null;
  let endMs: number | null = null;
  let startDay: string | null = null;
  let endDay: string | null = null;
  let dayAligned = true;
  if (typeof since === 'string') {
    startDay = since;
    startMs = localDayStart(since, tz);
  } else if (typeof since === 'number') {
    startMs = checkMs(since, 'since');
    startDay = localDay(startMs, tz);
    if (localDayStart(startDay, tz) !== startMs) dayAligned = false;
  }
  if (typeof until === 'string') {
    endDay = nextDay(until);
    endMs = localDayStart(endDay, tz);
  } else if (typeof until === 'number') {
    endMs = checkMs(until, 'until');
    endDay = localDay(endMs, tz);
    if (localDayStart(endDay, tz) !== endMs) dayAligned = false;
  }
  return { startMs, endMs, dayAligned, startDay, endDay };
}
