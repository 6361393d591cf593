// The edge's control port: purge, drain, status and health, beside /metrics (served by the
// shared control server). Mutating routes need the control token when one is set.
import { HttpError, type Route } from '../common/control-server.js';
import { PurgeError, purgeRequestSchema, type Purger } from './purge.js';

export interface ControlDeps {
  readonly purger: Purger;
  healthz(): { status: number; body: unknown };
  status(): unknown;
  setDraining(draining: boolean): void;
}

export function controlRoutes(deps: ControlDeps): Route[] {
  return [
    {
      method: 'POST',
      path: '/v1/purge',
      mutating: true,
      handle: (req) => {
        const parsed = purgeRequestSchema.safeParse(req.body ?? {});
        if (!parsed.success) throw new HttpError(400, parsed.error.issues.map((i) => (i.path.length ? `${i.path.join('.')}: ${i.message}` : i.message)).join('; '));
        try {
          return { status: 200, body: deps.purger.run(parsed.data) };
        } catch (e) {
          if (e instanceof PurgeError) throw new HttpError(400, e.message);
          throw e;
        }
      },
    },
    {
      method: 'POST',
      path: '/v1/drain',
      mutating: true,
      handle: () => (deps.setDraining(true), { status: 200, body: { draining: true } }),
    },
    {
      method: 'POST',
      path: '/v1/undrain',
      mutating: true,
      handle: () => (deps.setDraining(false), { status: 200, body: { draining: false } }),
    },
    { method: 'GET', path: '/v1/status', handle: () => ({ status: 200, body: deps.status() }) },
    { method: 'GET', path: '/healthz', handle: () => deps.healthz() },
  ];
}
