// One JSON GET with a hard deadline (connect, headers and body together), for `meridian status`,
// which asks several servers at once and must finish even when some of them never answer.
import { request } from 'undici';

export interface JsonAnswer {
  readonly status: number;
  /** undefined when the body is not JSON. */
  readonly body: unknown;
}

export async function getJson(url: URL, timeoutMs: number): Promise<JsonAnswer> {
  let res;
  try {
    res = await request(url, { signal: AbortSignal.timeout(timeoutMs), headers: { accept: 'application/json' } });
  } catch (e) {
    throw new Error(failure(e, timeoutMs), { cause: e });
  }
  let text: string;
  try {
    text = await res.body.text();
  } catch (e) {
    throw new Error(failure(e, timeoutMs), { cause: e });
  }
  try {
    return { status: res.statusCode, body: JSON.parse(text) as unknown };
  } catch {
    return { status: res.statusCode, body: undefined };
  }
}

/** A network error as a short phrase an operator can act on. */
function failure(e: unknown, timeoutMs: number): string {
  const err = e as { name?: string; code?: string; message?: string };
  if (err.name === 'TimeoutError' || err.name === 'AbortError') return `no answer within ${timeoutMs / 1000} s`;
  if (err.code === 'ECONNREFUSED') return 'connection refused';
  return err.message ?? String(e);
}
