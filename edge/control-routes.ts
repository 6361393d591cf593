// The edge's control port: purge, drain, status and health, beside /metrics (served by the
// shared control server). Mutating routes need the control token when one is set.
import { HttpError, type Route } from '../common/control-server.js';
import { PurgeError, purgeRequestSchema, type PurgeRequest, type PurgeResult } from './purge.js';

export interface ControlDeps {
  /** Resolves once every serving process has applied it. */
  purge(p: PurgeRequest): PurgeResult | Promise<PurgeResult>;
  healthz(): { status: number; body: unknown } | Promise<{ status: number; body: unknown }>;
  status(): unknown;
  setDraining(draining: boolean): void;
}

export function controlRoutes(deps: ControlDeps): Route[] {
  return [
    {
      method: 'POST',
      path: '/v1/purge',
      mutating: true,
      handle: async (req) => {
        const parsed = purgeRequestSchema.safeParse(req.body ?? {});
        if (!parsed.success)
          throw new HttpError(
            400,
            parsed.error.issues
              .map((i) => (i.path.length ? `${i.path.join('.')}: ${i.message}` : i.message))
              .join('; '),
          );
        try {
          return { status: 200, body: await deps.purge(parsed.data) };
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
    { method: 'GET', path: '/v1/status', handle: async () => ({ status: 200, body: await deps.status() }) },
    { method: 'GET', path: '/healthz', handle: () => deps.healthz() },
  ];
}
