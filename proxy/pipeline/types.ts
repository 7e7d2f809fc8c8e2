// The shapes every pipeline stage shares: the request as the stages see it, and the extension
// Stage contract. Types only; imported by the stages and re-exported by gateway.ts.
import type { IncomingHttpHeaders } from 'node:http';
import type { Caller } from './auth.js';
import type { LedgerRow } from '../ledger/index.js';

/** What the gateway reads from a Messages body; the body itself is forwarded untouched. */
export interface MessagesInfo {
  model: string | null;
  stream: boolean;
  metadataUserId: string | null;
}

/** A request as the stages see it, after auth and body read, before forwarding. */
export interface ProxyRequest {
  id: string;
  tsStart: number;
  method: string;
  /** Path and query as received. */
  url: string;
  pathname: string;
  headers: IncomingHttpHeaders;
  caller: Caller;
  /** The bytes to forward. A stage that changes them (redaction, cache breakpoints) records why in `notes`. */
  body: Buffer | null;
  info: MessagesInfo;
  /** Stage annotations (verdicts, reservations), kept in memory for the request's lifetime. */
  notes: Record<string, unknown>;
}

export interface ResponseTap {
  chunk(b: Buffer): void;
  end(): void;
}

export interface Stage {
  name: string;
  /**
   * Runs in order after auth; throw a GatewayError to refuse the request. May return a
   * callback run once the request is finished, with its ledger row (null when not metered).
   */
  onRequest(req: ProxyRequest): void | ((row: LedgerRow | null) => void) | Promise<void | ((row: LedgerRow | null) => void)>;
  /**
   * Called when the delivered response's headers are about to be written (never for a retried
   * attempt), with a mutable header object; the returned tap sees every body chunk as sent.
   */
  onResponse?(req: ProxyRequest, status: number, headers: Record<string, string | string[]>): ResponseTap | void;
}

/** Runs once when a request is finished, with its ledger row (null when not metered). */
export type Finish = (row: LedgerRow | null) => void;
