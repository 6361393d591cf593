// Stored objects and fetch outcomes as plain data for IPC, and back. The body goes as bytes
// (structured clone); the policy as http-cache-semantics' own toObject() form, revived with
// this process's clocked Policy class.
import type CachePolicy from 'http-cache-semantics';
import { storedResponse, type StoredResponse } from '../cache-store.js';
import { EdgeError, type EdgeErrorKind } from '../errors.js';
import type { HeaderMap } from '../headers.js';
import type { StoreOutcome } from '../pipeline/context.js';
import type { PolicyClass } from '../pipeline/policy.js';
import { ownBytes } from '../stored-bytes.js';

export interface WireEntry {
  readonly key: string;
  readonly primary: string;
  readonly vary: readonly string[];
  readonly status: number;
  readonly headers: HeaderMap;
  readonly body: Uint8Array;
  readonly policy: CachePolicy.CachePolicyObject;
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
    policy: e.policy.toObject(),
    invalidatedAt: e.invalidatedAt,
  };
}

export function entryFromWire(w: WireEntry, Policy: PolicyClass, via: string): StoredResponse {
  const policy = (Policy as unknown as typeof CachePolicy).fromObject(w.policy);
  // The body arrives as a view into the IPC message read, which it would keep alive whole.
  const body = ownBytes([w.body], w.body.byteLength);
  const entry = storedResponse({
    key: w.key,
    primary: w.primary,
    vary: w.vary,
    status: w.status,
    headers: w.headers,
    body,
    policy,
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
