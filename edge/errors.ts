// The edge's one error type. Whatever goes wrong while answering a request (a bad request, an
// origin that refuses, times out or talks nonsense) becomes an EdgeError, and the server turns
// it into a response in one place (`getResponse`). Errors that are not EdgeErrors are bugs: 500.

export type EdgeErrorKind =
  | 'bad-request'
  | 'forbidden'
  | 'method-not-allowed'
  | 'loop-detected'
  | 'origin-unreachable'
  | 'origin-timeout'
  | 'origin-error'
  | 'internal';

const STATUS: Record<EdgeErrorKind, number> = {
  'bad-request': 400,
  forbidden: 403,
  'method-not-allowed': 405,
  'loop-detected': 508,
  'origin-unreachable': 502,
  'origin-timeout': 504,
  'origin-error': 502,
  internal: 500,
};

const REASON: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  405: 'Method Not Allowed',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  504: 'Gateway Timeout',
  508: 'Loop Detected',
};

const PUBLIC_MESSAGE: Partial<Record<EdgeErrorKind, string>> = {
  'origin-unreachable': 'the upstream could not be reached',
  'origin-timeout': 'the upstream did not answer in time',
  'origin-error': 'the upstream sent an answer that cannot be forwarded',
  internal: 'internal error',
};

export interface ErrorResponse {
  readonly status: number;
  readonly reason: string;
  readonly headers: Record<string, string>;
  readonly body: string;
}

export class EdgeError extends Error {
  readonly status: number;
  /** Extra response headers (e.g. WWW-Authenticate, Allow). */
  readonly headers: Record<string, string>;

  constructor(
    readonly kind: EdgeErrorKind,
    message: string,
    options?: { cause?: unknown; headers?: Record<string, string>; status?: number },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'EdgeError';
    this.status = options?.status ?? STATUS[kind];
    this.headers = options?.headers ?? {};
  }

  /** True for failures to get an answer from the upstream (stale-if-error may cover them). */
  get isOrigin(): boolean {
    return this.kind === 'origin-unreachable' || this.kind === 'origin-timeout' || this.kind === 'origin-error';
  }

  /**
   * What a client may read. Upstream failures say only what kind they were: the message names
   * the origin's address, and a client that learns it can go round the CDN. The message goes to
   * the logs (server.ts).
   */
  get publicMessage(): string {
    return PUBLIC_MESSAGE[this.kind] ?? this.message;
  }

  getResponse(): ErrorResponse {
    const reason = REASON[this.status] ?? 'Error';
    return {
      status: this.status,
      reason,
      headers: { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store', ...this.headers },
      body: `${this.status} ${reason}: ${this.publicMessage}\n`,
    };
  }
}

const UNREACHABLE = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPIPE',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
  'UND_ERR_DESTROYED',
]);

/** Turns what undici (or node) throws for an upstream request into an EdgeError. */
export function upstreamError(err: unknown, upstream: string): EdgeError {
  if (err instanceof EdgeError) return err;
  const code = errorCode(err);
  const detail = err instanceof Error ? err.message : String(err);
  if (code === 'UND_ERR_CONNECT_TIMEOUT')
    return new EdgeError('origin-timeout', `connect to ${upstream} timed out`, { cause: err });
  if (code === 'UND_ERR_HEADERS_TIMEOUT')
    return new EdgeError('origin-timeout', `${upstream} sent no response headers in time`, { cause: err });
  if (code === 'UND_ERR_BODY_TIMEOUT')
    return new EdgeError('origin-timeout', `${upstream} stalled sending the body`, { cause: err });
  if (code !== undefined && UNREACHABLE.has(code))
    return new EdgeError('origin-unreachable', `${upstream} unreachable (${code})`, { cause: err });
  return new EdgeError('origin-error', `${upstream}: ${detail}`, { cause: err });
}

/** The error code of `err` or of the first cause that has one. */
export function errorCode(err: unknown): string | undefined {
  for (let e = err, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    const code = (e as NodeJS.ErrnoException).code;
    if (typeof code === 'string') return code;
  }
  return undefined;
}

/** The central mapping: any thrown value → the EdgeError to answer with. */
export function toEdgeError(err: unknown): EdgeError {
  if (err instanceof EdgeError) return err;
  return new EdgeError('internal', 'internal error', { cause: err });
}
