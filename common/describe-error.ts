// One line for a thrown error that an operator can act on: what probes, reporters and the
// announcer log and report when a request fails.

/** One line for a thrown error: timeouts say how long, socket errors lead with their code. */
export function describeError(err: unknown, timeoutMs: number): string {
  if (!(err instanceof Error)) return String(err);
  if (err.name === 'TimeoutError' || TIMEOUT_CODES.has(codeOf(err) ?? '')) return `timeout after ${timeoutMs} ms`;
  if (err.name === 'AbortError') return 'aborted';
  // undici wraps socket errors ("fetch failed"-style) with the real one as the cause.
  const inner = err.cause instanceof Error ? err.cause : err;
  const code = codeOf(inner) ?? codeOf(err);
  return code && !inner.message.includes(code) ? `${code}: ${inner.message}` : inner.message;
}

const TIMEOUT_CODES = new Set([
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'ETIMEDOUT',
]);

function codeOf(err: Error): string | undefined {
  const code = (err as NodeJS.ErrnoException).code;
  return typeof code === 'string' ? code : undefined;
}
