// What starting the DNS service takes and gives, whichever way it serves: from one process
// (service.ts's startSingle) or from a primary with serving workers (workers/primary.ts). In a
// file of its own so that both can name it without importing service.ts, which imports them.
import type { ControlServer } from '../common/control-server.js';
import type { HostPort } from '../common/host-port.js';
import type { Logger } from '../common/log.js';
import type { ReloadResult } from './server/core.js';

export interface DnsServiceOptions {
  configFile: string;
  /** Overrides `dns.listen` from the config (the CLI's --listen). */
  listen?: HostPort[];
  /** Overrides `dns.control.listen` (the CLI's --control-listen). */
  controlListen?: HostPort;
  /** Overrides `dns.pop` (the CLI's --pop): the PoP this server runs in, named in NSID. */
  pop?: string;
  /** Overrides `dns.workers` (the CLI's --workers). */
  workers?: number | 'auto';
  /** For tests: where logs go (default stdout). */
  log?: Logger;
}

export interface DnsService {
  /** Where DNS is served, UDP and TCP on each. */
  readonly listeners: readonly HostPort[];
  /** Processes answering queries (1 = this one). */
  readonly workers: number;
  readonly control: ControlServer;
  readonly serverId: string;
  readonly configFile: string;
  status(): Record<string, unknown>;
  reload(): Promise<ReloadResult>;
  close(): Promise<void>;
}
