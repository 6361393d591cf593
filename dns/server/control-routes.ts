// The DNS server's endpoints on the shared control port.
import { HttpError, type Route } from '../../common/control-server.js';
import { ExplainError, type Explanation } from '../answer/explain.js';
import { healthReportSchema } from '../../common/health-contract.js';
import { ANYCAST_REPORT_PATH, anycastReportSchema, type AnycastReply } from '../../common/anycast-contract.js';
import { formatPath } from '../../common/config-file.js';
import type { HealthView } from '../pop-health/view.js';
import type { AnycastView } from '../pop-health/anycast-view.js';
import type { CatchmentView } from '../pop-health/catchment-view.js';
import type { ResolverNetwork } from '../pop-health/resolvers.js';
import type { ReloadResult } from './core.js';

const OVERRIDE_ACTIONS = { drain: 'drain', down: 'down', undrain: null, auto: null } as const;

export interface ControlActions {
  reload(): Promise<ReloadResult>;
  /** Async when the serving workers' counters are asked for first. */
  status(): Record<string, unknown> | Promise<Record<string, unknown>>;
  explain(name: string, client: string, type: string | undefined): Explanation;
  readonly health: HealthView;
  readonly anycast: AnycastView;
  readonly catchment: CatchmentView;
  /** The busiest resolver networks (merged over serving workers). */
  resolvers(limit: number): Promise<ResolverNetwork[]> | ResolverNetwork[];
  knownPop(pop: string): boolean;
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
    { method: 'GET', path: '/v1/status', handle: async () => ({ status: 200, body: await actions.status() }) },
    {
      method: 'GET',
      path: '/v1/explain',
      handle(req) {
        const name = req.url.searchParams.get('name');
        const client = req.url.searchParams.get('client');
        if (!name || !client)
          throw new HttpError(
            400,
            "query parameters 'name' and 'client' are required, e.g. ?name=www.demo.test&client=198.51.100.7",
          );
        try {
          return { status: 200, body: actions.explain(name, client, req.url.searchParams.get('type') ?? undefined) };
        } catch (e) {
          if (e instanceof ExplainError) throw new HttpError(400, e.message);
          throw e;
        }
      },
    },
    {
      method: 'POST',
      path: '/v1/health/reports',
      mutating: true,
      handle(req) {
        const parsed = healthReportSchema.safeParse(req.body);
        if (!parsed.success) {
          const issue = parsed.error.issues[0]!;
          throw new HttpError(400, `invalid health report: ${formatPath(issue.path)}: ${issue.message}`);
        }
        const report = parsed.data;
        // A PoP's prober votes on health and reports catchment; a prober outside the PoPs
        // (health.catchment.vantages) reports catchment only.
        const inPop = actions.knownPop(report.vantage);
        if (!inPop && !actions.catchment.knowsVantage(report.vantage))
          throw new HttpError(
            400,
            `unknown vantage '${report.vantage}': not a PoP of this config nor listed in health.catchment.vantages`,
          );
        // Its votes would not count toward the quorum: say so to the prober rather than drop them.
        if (inPop && !actions.health.expectedVantagePoints().includes(report.vantage)) {
          throw new HttpError(400, `vantage '${report.vantage}' is not listed in health.vantagePoints`);
        }
        if (!inPop && report.targets.length > 0)
          throw new HttpError(
            400,
            `vantage '${report.vantage}' is outside the PoPs (health.catchment.vantages): it reports catchment only, and its health votes would not count`,
          );
        // Checked whole before anything is applied: a bad part leaves every view as it was.
        const problem = report.catchment && actions.catchment.problem(report.catchment);
        if (problem) throw new HttpError(400, `invalid health report: ${problem}`);
        if (inPop) {
          const result = actions.health.report(report);
          if (!result.accepted) return { status: 409, body: { error: result.reason } };
        }
        const taken = actions.catchment.report(report);
        if (!taken.accepted) return { status: 409, body: { error: taken.reason } };
        return { status: 200, body: { accepted: true } };
      },
    },
    {
      // Announcers push their per-prefix state here; the reply carries the PoP's override, which
      // is how `meridian pop drain` reaches the announcer (drain and down both withdraw).
      method: 'POST',
      path: ANYCAST_REPORT_PATH,
      mutating: true,
      handle(req) {
        const parsed = anycastReportSchema.safeParse(req.body);
        if (!parsed.success) {
          const issue = parsed.error.issues[0]!;
          throw new HttpError(400, `invalid anycast report: ${formatPath(issue.path)}: ${issue.message}`);
        }
        if (!actions.anycast.knows(parsed.data.pop))
          throw new HttpError(400, `unknown PoP '${parsed.data.pop}': not a PoP of this config`);
        const result = actions.anycast.report(parsed.data);
        if (!result.accepted) return { status: 409, body: { error: result.reason } };
        const reply: AnycastReply = { accepted: true, override: actions.health.overrideOf(parsed.data.pop) };
        return { status: 200, body: reply };
      },
    },
    {
      method: 'GET',
      path: '/v1/anycast',
      handle: () => ({
        status: 200,
        body: {
          pops: actions.anycast.details(),
          addresses: actions.anycast
            .snapshot()
            .map(([address, announcedBy, reason]) => ({ address, announcedBy, reason })),
        },
      }),
    },
    {
      // Probers pull this to know which resolver networks to measure RTT to.
      method: 'GET',
      path: '/v1/resolvers',
      async handle(req) {
        const limitText = req.url.searchParams.get('limit') ?? '100';
        const limit = Number(limitText);
        if (!Number.isInteger(limit) || limit < 1 || limit > 10_000)
          throw new HttpError(400, `limit '${limitText}' must be a whole number from 1 to 10000`);
        return { status: 200, body: { resolvers: await actions.resolvers(limit) } };
      },
    },
    { method: 'GET', path: '/v1/health', handle: () => ({ status: 200, body: { pops: actions.health.details() } }) },
    {
      method: 'POST',
      path: '/v1/pops/override',
      mutating: true,
      handle(req) {
        const body = (req.body ?? {}) as { pop?: unknown; action?: unknown };
        if (typeof body.pop !== 'string' || typeof body.action !== 'string' || !(body.action in OVERRIDE_ACTIONS)) {
          throw new HttpError(
            400,
            `expected JSON {"pop": ID, "action": one of ${Object.keys(OVERRIDE_ACTIONS).join(', ')}}`,
          );
        }
        if (!actions.health.knows(body.pop))
          throw new HttpError(404, `no PoP or checked CNAME member with id '${body.pop}'`);
        actions.health.setOverride(body.pop, OVERRIDE_ACTIONS[body.action as keyof typeof OVERRIDE_ACTIONS]);
        return { status: 200, body: actions.health.details().find((d) => d.pop === body.pop) };
      },
    },
    { method: 'GET', path: '/healthz', handle: () => ({ status: 200, body: { ok: true } }) },
  ];
}
