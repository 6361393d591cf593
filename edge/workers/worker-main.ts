// Entry point of a serving worker (forked by primary.ts when edge.workers > 1): the same proxy
// listener as its siblings (node:cluster shares it), the same pipeline as a single process, its
// own share of the byte budget, and the primary for everything that must be one per PoP
// (fetch leases, purges, /healthz, draining, the control port).
import cluster from 'node:cluster';
import { dirname, resolve as resolvePath } from 'node:path';
import { Registry } from 'prom-client';
import { resolveControlToken } from '../../common/control-token.js';
import { createLogger } from '../../common/log.js';
import { BatchedSender, unbatch, type Batch } from '../../common/ipc-batch.js';
import { receiveSetup } from '../../common/worker-setup.js';
import { loadEdgeConfig } from '../config.js';
import { EdgeCore } from '../core.js';
import { warmUp } from '../warm-up.js';
import { startEdgeServer } from '../server.js';
import { type FromWorker, type ToWorker, type WorkerSetup } from './messages.js';
import { WorkerLink } from './worker-link.js';

function write(msg: FromWorker | Batch<FromWorker>, then?: () => void): void {
  if (process.connected) process.send?.(msg, undefined, undefined, then);
}

// Under load a worker sends several messages per turn (leases, releases, stored objects): after
// the first, a turn's go to the primary as one batch (ipc-batch.ts). A message with something
// to do once it is written (`then`) goes alone, at once.
const batched = new BatchedSender<FromWorker>((msg) => write(msg));

function send(msg: FromWorker, then?: () => void): void {
  if (then) write(msg, then);
  else batched.send(msg);
}

async function main(): Promise<void> {
  const setup = await receiveSetup<WorkerSetup>(
    'edge/workers/worker-main.js runs only as a worker of `meridian edge --workers N`',
  );
  const config = await loadEdgeConfig(setup.configFile, setup.pop, { listen: setup.listen });
  const log = createLogger({ service: 'edge', level: config.logLevel }).child({ worker: cluster.worker!.id });
  const token = resolveControlToken({
    token: config.control.token,
    ...(config.control.tokenFile !== undefined && {
      tokenFile: resolvePath(dirname(config.file), config.control.tokenFile),
    }),
  });
  await warmUp(config, log);
  const link = new WorkerLink((msg) => send(msg));
  // Counters only: the primary serves /metrics and asks for these.
  const core = new EdgeCore({
    config,
    log,
    now: Date.now,
    registry: new Registry(),
    maxBytes: setup.maxBytes,
    peers: link,
  });
  link.attach(core);
  process.on('message', (msg: ToWorker | Batch<ToWorker>) => unbatch(msg, (m) => link.receive(m)));
  const server = await startEdgeServer(
    core.state,
    { healthz: () => link.healthz(), purge: ({ key, soft }) => link.purge({ kind: 'url', key, soft }), token },
    setup.listen,
  );
  // The primary disconnects us to stop: finish what is in flight, then exit.
  process.once('disconnect', () => {
    void server
      .close()
      .then(() => core.close())
      .finally(() => process.exit(0));
  });
  send({ kind: 'ready', listen: { host: server.host, port: server.port } });
}

// Ctrl-C reaches the whole process group; the primary decides when workers stop.
process.on('SIGINT', () => {});

main().catch((e: unknown) => {
  send({ kind: 'failed', error: (e as Error).message }, () => process.exit(1));
  setTimeout(() => process.exit(1), 1000).unref();
});
