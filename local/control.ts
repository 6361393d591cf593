// `meridian up`'s control API (loopback): what runs, and PoP drills. Killing a PoP stops its
// edge and keeps it down (the supervisor does not restart it) until it is revived, which is what
// a real PoP outage looks like to the probers: connections refused, then the DNS answer moves.
import type { Route } from '../common/control-server.js';
import type { Logger } from '../common/log.js';
import type { Plan } from './plan.js';
import type { Supervisor } from './supervisor.js';

/** A revived edge normally serves within a second; this bounds the wait for the answer. */
const REVIVE_READY_MS = 15_000;

export interface UpControlDeps {
  readonly plan: Plan;
  readonly supervisor: Supervisor;
  /** True once every process has been ready (start-up finished). */
  readonly started: () => boolean;
  readonly log: Logger;
}

export interface PopDrillResult {
  readonly pop: string;
  readonly edge: string;
  readonly state: string;
  /** False when the edge already was in the asked state. */
  readonly changed: boolean;
  readonly pid: number | null;
}

export function upControlRoutes(deps: UpControlDeps): Route[] {
  const { plan, supervisor, log } = deps;
  const processes = (): unknown => ({
    config: plan.configFile,
    ready: deps.started(),
    processes: plan.processes.map((p) => {
      const { name, failedStarts: _, ...status } = supervisor.status(p.name)[0]!;
      return { name, role: p.role, pop: p.pop, url: p.url, ...status, command: ['meridian', ...p.args] };
    }),
  });

  const drill = (pop: string, action: 'kill' | 'revive'): Route => ({
    method: 'POST',
    path: `/v1/pops/${pop}/${action}`,
    mutating: true,
    async handle() {
      const name = `edge ${pop}`;
      const edge = plan.pops.find((p) => p.id === pop)!.edge;
      const before = supervisor.status(name)[0]!;
      let changed: boolean;
      if (action === 'kill') {
        changed = before.state !== 'killed';
        if (changed) {
          await supervisor.kill(name);
          log.info(
            { lifecycle: true, pop, childPid: before.pid },
            `edge ${pop} killed on request; it stays down until revived (pop revive ${pop})`,
          );
        }
      } else {
        changed = await supervisor.revive(name);
        if (changed) {
          const ready = await supervisor.waitReady(name, REVIVE_READY_MS);
          log.info(
            { lifecycle: true, pop, ready },
            ready ? `edge ${pop} revived and serving` : `edge ${pop} revived, not serving yet`,
          );
        }
      }
      const after = supervisor.status(name)[0]!;
      const body: PopDrillResult = { pop, edge, state: after.state, changed, pid: after.pid };
      return { status: 200, body };
    },
  });

  return [
    { method: 'GET', path: '/v1/processes', handle: () => ({ status: 200, body: processes() }) },
    { method: 'GET', path: '/healthz', handle: () => ({ status: 200, body: { ok: true, ready: deps.started() } }) },
    ...plan.pops.flatMap((p) => [drill(p.id, 'kill'), drill(p.id, 'revive')]),
  ];
}
