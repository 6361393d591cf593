// Entry point of a serving worker (forked by pool.ts when `dns.workers` > 1): opens the
// same UDP/TCP listeners as its siblings (node:cluster shares the sockets, so the kernel spreads
// queries over the workers) and answers queries exactly as a single process would. Health comes
// from the primary's snapshots; reloads and counter reads are the primary's requests.
import cluster from 'node:cluster';
import { Registry } from 'prom-client';
import { createLogger } from '../../common/log.js';
import { receiveSetup } from '../../common/worker-setup.js';
import { loadDnsConfig } from '../config.js';
import { ResolverTable } from '../pop-health/resolvers.js';
import { SnapshotHealth } from '../pop-health/snapshot.js';
import { DnsMetrics } from '../server/metrics.js';
import { DnsCore } from '../server/core.js';
import { type FromWorker, type ToWorker, type WorkerSetup, type Replies } from './messages.js';

function send(msg: FromWorker, then?: () => void): void {
  process.send?.(msg, undefined, undefined, then);
}

async function main(): Promise<void> {
  const setup = await receiveSetup<WorkerSetup>(
    'dns/workers/worker-main.js runs only as a worker of `meridian dns --workers N`',
  );
  // For the log level; DnsCore loads the zones (off this thread).
  const config = await loadDnsConfig(setup.configFile, { pop: setup.pop, zoneRecords: false });
  const log = createLogger({ service: 'dns', level: config.settings.log.level }).child({ worker: cluster.worker!.id });
  // Counters only: the primary serves /metrics and asks for these.
  const metrics = new DnsMetrics(new Registry());
  const health = new SnapshotHealth();
  health.apply(setup.health);
  const resolvers = new ResolverTable();
  const core = await DnsCore.open({
    configFile: setup.configFile,
    pop: setup.pop,
    log,
    metrics,
    health,
    resolvers,
    servingWorkers: setup.workers,
    cookieMaster: Buffer.from(setup.cookieMaster, 'hex'),
  });
  await core.listen(setup.listen);

  const answer = async (req: Extract<ToWorker, { id: number }>): Promise<Replies[keyof Replies]> => {
    switch (req.kind) {
      case 'reload': {
        const result = await core.reload();
        if (!result.ok)
          log.error(
            { error: result.error },
            'config reload refused by this worker; it keeps serving the previous config',
          );
        return result;
      }
      case 'metrics':
        return metrics.snapshot();
      case 'resolvers':
        return resolvers.entries();
    }
  };
  process.on('message', (msg: ToWorker) => {
    if (msg.kind === 'health') {
      if (health.apply(msg.snapshot)) core.clearDecisions();
      return;
    }
    void answer(msg).then((body) => send({ kind: 'reply', id: msg.id, body }));
  });
  // node:cluster closes the sockets it shared with us when the primary disconnects (stop, or its
  // death); batched UDP sockets are our own, so close them too or they keep this process alive.
  process.once('disconnect', () => {
    for (const l of core.udp) if (l.io === 'batch') void l.close();
  });
  send({ kind: 'ready', listeners: core.udp.map((l) => l.address) });
}

// Ctrl-C reaches the whole process group; the primary decides when workers stop (it
// disconnects them, and a cluster worker exits when its primary goes away). SIGHUP is the
// primary's reload signal.
process.on('SIGINT', () => {});
process.on('SIGHUP', () => {});

main().catch((e: unknown) => {
  // Exit once the message has gone out (or at once if the primary is gone).
  send({ kind: 'failed', error: (e as Error).message }, () => process.exit(1));
  setTimeout(() => process.exit(1), 1000).unref();
});
