// Stored objects and fetch outcomes as plain data for IPC, and back. The body goes as bytes
// (structured clone); its lifetime as its three numbers, revived on this process's clock (the same
// wall clock as the sender's: the primary and its workers run on one machine).
import { storedResponse, type StoredResponse } from '../cache-store.js';
import { EdgeError, type EdgeErrorKind } from '../errors.js';
import type { HeaderMap } from '../headers.js';
import type { StoreOutcome } from '../pipeline/context.js';
import { StoredLifetime } from '../pipeline/lifetime.js';
import { ownBytes } from '../stored-bytes.js';

export interface WireEntry {
  readonly key: string;
  readonly primary: string;
  readonly vary: readonly string[];
  readonly status: number;
  readonly headers: HeaderMap;
  readonly body: Uint8Array;
  /** StoredLifetime's lifetime (s), ageOnArrival (s) and arrivedAt (ms). */
  readonly lifetime: readonly [number, number, number];
  invalidatedAt: number | undefined;
}

export type WireOutcome =
  | { readonly kind: 'stored' | 'uncacheable' | 'aborted' }
  | {
      readonly kind: 'error';
      readonly error: { kind: EdgeErrorKind; message: string; status: number; headers: Record<string, string> };
    };

export function entryToWire(e: StoredResponse): WireEntry {
  return {
    key: e.key,
    primary: e.primary,
    vary: e.vary,
    status: e.status,
    headers: e.headers,
    body: e.body,
    lifetime: [e.lifetime.lifetime, e.lifetime.ageOnArrival, e.lifetime.arrivedAt],
    invalidatedAt: e.invalidatedAt,
  };
}

export function entryFromWire(w: WireEntry, clock: () => number, via: string): StoredResponse {
  // The body arrives as a view into the IPC message read, which it would keep alive whole.
  const body = ownBytes([w.body], w.body.byteLength);
  const entry = storedResponse({
    key: w.key,
    primary: w.primary,
    vary: w.vary,
    status: w.status,
    headers: w.headers,
    body,
    lifetime: new StoredLifetime(...w.lifetime, clock),
    via,
  });
  entry.invalidatedAt = w.invalidatedAt;
  return entry;
}

export function outcomeToWire(o: StoreOutcome): WireOutcome {
  if (o.kind !== 'error') return { kind: o.kind };
  const e = o.error;
  return { kind: 'error', error: { kind: e.kind, message: e.message, status: e.status, headers: e.headers } };
}

export function outcomeFromWire(o: WireOutcome): StoreOutcome {
  if (o.kind !== 'error') return { kind: o.kind };
  const e = o.error;
  return { kind: 'error', error: new EdgeError(e.kind, e.message, { status: e.status, headers: e.headers }) };
}
