// What starting the edge takes and gives, whichever way it serves: from one process
// (service.ts's startSingle) or from a primary with serving workers (workers/primary.ts). In a
// file of its own so that both can name it without importing service.ts, which imports them.
import type { ControlServer } from '../common/control-server.js';
import type { HostPort } from '../common/host-port.js';
import type { Logger } from '../common/log.js';
import type { EdgeConfig } from './config.js';
import type { EdgeStats } from './status-view.js';

export interface EdgeServiceOptions {
  configFile: string;
  pop: string;
  /** Overrides the PoP's edge URL host:port. */
  listen?: HostPort;
  /** Overrides edge.control.listen (the CLI's --control-listen). */
  controlListen?: HostPort;
  /** Overrides edge.workers (the CLI's --workers). */
  workers?: number | 'auto';
  /** For tests: where logs go (default stdout at the configured level). */
  log?: Logger;
  /** For tests: the clock the cache reads (ms since the epoch); one process only. */
  now?: () => number;
}

export interface EdgeService {
  readonly config: EdgeConfig;
  /** The proxy listener, e.g. 'http://127.0.0.1:8080'. */
  readonly url: string;
  readonly control: ControlServer | undefined;
  /** Processes serving requests (1 = this one). */
  readonly workers: number;
  stats(): Promise<EdgeStats>;
  healthz(): Promise<{ status: number; body: unknown }>;
  setDraining(draining: boolean): void;
  close(): Promise<void>;
}
