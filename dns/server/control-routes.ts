// The DNS server's endpoints on the shared control port.
import { HttpError, type Route } from '../../common/control-server.js';
import { ExplainError, type Explanation } from '../answer/explain.js';
import type { ReloadResult } from './service.js';

export interface ControlActions {
  reload(): Promise<ReloadResult>;
  status(): Record<string, unknown>;
  explain(name: string, client: string, type: string | undefined): Explanation;
}

export function controlRoutes(actions: ControlActions): Route[] {
  return [
    {
      method: 'POST',
      path: '/v1/reload',
      mutating: true,
      async handle() {
        const result = await actions.reload();
        // The request was fine; the file it asked us to load was not.
        return result.ok ? { status: 200, body: result } : { status: 422, body: { error: result.error } };
      },
    },
    { method: 'GET', path: '/v1/status', handle: () => ({ status: 200, body: actions.status() }) },
    {
      method: 'GET',
      path: '/v1/explain',
      handle(req) {
        const name = req.url.searchParams.get('name');
        const client = req.url.searchParams.get('client');
        if (!name || !client) throw new HttpError(400, "query parameters 'name' and 'client' are required, e.g. ?name=www.demo.test&client=198.51.100.7");
        try {
          return { status: 200, body: actions.explain(name, client, req.url.searchParams.get('type') ?? undefined) };
        } catch (e) {
          if (e instanceof ExplainError) throw new HttpError(400, e.message);
          throw e;
        }
      },
    },
    { method: 'GET', path: '/healthz', handle: () => ({ status: 200, body: { ok: true } }) },
  ];
}
