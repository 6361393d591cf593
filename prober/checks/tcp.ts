// TCP check: the edge accepts a connection within the timeout. Says nothing about what it
// serves, only that something listens and the path to it works.
import { tcpConnect } from '../net-probes.js';
import type { ProbeResult, ProbeTarget, SettingsFor } from './types.js';
import { edgeHostPort } from './types.js';

export function probe(target: ProbeTarget, settings: SettingsFor<'tcp'>, signal?: AbortSignal): Promise<ProbeResult> {
  const { host, port } = edgeHostPort(target.edge, settings.check.port);
  return tcpConnect(host, port, settings.timeout, signal);
}
