// The last step: one request to the upstream (origin or shield). Cacheable requests go as GET
// (a HEAD is answered from the full response, which is then stored), with the client's own
// validators replaced by the stored response's (the client's are answered here, by
// `conditional`) and Accept-Encoding folded to the variant stored. Which client headers go
// along is forward-headers.ts's rule.
import { withoutHopByHop } from '../headers.js';
import type { EdgeContext, Middleware, OriginResponse } from './context.js';
import { forwardHeaders, sendsBody } from './forward-headers.js';

export function fetchUpstream(): Middleware {
  return async function fetchUpstream(c) {
    c.origin = await forward(c, true);
  };
}

function interimTo(
  interim: NonNullable<EdgeContext['interim']>,
): (info: { statusCode: number; headers: Record<string, string | string[]> }) => void {
  return ({ statusCode, headers }) => interim(statusCode, withoutHopByHop(headers));
}

/** Sends `c`'s request upstream; `conditional` adds the stored response's validators. */
export async function forward(c: EdgeContext, conditional: boolean): Promise<OriginResponse> {
  const { edge, req } = c;
  const started = performance.now();
  let res;
  try {
    res = await edge.upstream.request({
      path: req.path,
      method: c.cacheable ? 'GET' : (req.method as 'GET'),
      headers: forwardHeaders(c, conditional),
      body: sendsBody(c) ? req.body! : null,
      // 1xx (103 Early Hints) go to this request's client as they come; nothing stores them.
      ...(c.interim && { onInfo: interimTo(c.interim) }),
    });
  } catch (err) {
    const kind = (err as { kind?: string }).kind;
    edge.metrics.originError(
      kind === 'origin-timeout' ? 'timeout' : kind === 'origin-unreachable' ? 'unreachable' : 'error',
    );
    throw err;
  }
  edge.metrics.fetched(res.statusCode, (performance.now() - started) / 1000);
  c.status.fwdStatus = res.statusCode;
  return { status: res.statusCode, headers: withoutHopByHop(res.headers), body: res.body };
}
