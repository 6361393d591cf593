// The DNS server's endpoints on the shared control port.
import type { Route } from '../../common/control-server.js';
import type { ReloadResult } from './service.js';

export interface ControlActions {
  reload(): Promise<ReloadResult>;
  status(): Record<string, unknown>;
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
    { method: 'GET', path: '/healthz', handle: () => ({ status: 200, body: { ok: true } }) },
  ];
}
