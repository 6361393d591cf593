// What a route answers before the server adds the per-response fields (Date, X-Origin-Time,
// Content-Length) and applies HEAD and conditional requests: a status, headers and a body.
import { createHash } from 'node:crypto';

export interface Resource {
  readonly status: number;
  /** Lower-case names. */
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Buffer;
}

/** A strong validator: the same bytes always get the same tag, on every origin instance. */
export function etagOf(body: Buffer | string): string {
  return `"${createHash('sha256').update(body).digest('base64url').slice(0, 16)}"`;
}

/** RFC 9110 IMF-fixdate, whole seconds (the precision Last-Modified can carry). */
export function httpDate(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toUTCString();
}

export function resource(status: number, headers: Record<string, string>, body: Buffer | string): Resource {
  return { status, headers, body: typeof body === 'string' ? Buffer.from(body, 'utf8') : body };
}
