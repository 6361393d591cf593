// A machine without the address of an optional DNS listener (`up.optionalListen`): the demo's
// [::1]:5353 in a Docker container, or on a CI or cloud machine with no IPv6 loopback. `up`
// leaves that listener out and says so in one line, rather than refusing to start the demo
// at all. Only a missing address: a port in use stays a preflight error, and so does any
// listener the config does not mark optional, or the last one left.
import { formatHostPort, type HostPort } from '../common/host-port.js';
import { DNS_LISTENER, type Plan } from './plan.js';
import { bindError } from './preflight.js';

export interface Trimmed {
  readonly plan: Plan;
  /** One line per listener left out, for the terminal. */
  readonly notes: readonly string[];
}

export async function leaveOutMissing(plan: Plan): Promise<Trimmed> {
  const missing: HostPort[] = [];
  for (const at of plan.optionalDnsListen) {
    const left = plan.dns.listen.length - missing.length;
    if (left > 1 && (await bindError({ ...at, proto: 'udp', what: 'the DNS server' })) === 'EADDRNOTAVAIL')
      missing.push(at);
  }
  if (missing.length === 0) return { plan, notes: [] };

  const gone = (l: HostPort): boolean => missing.some((m) => m.host === l.host && m.port === l.port);
  const listen = plan.dns.listen.filter((l) => !gone(l));
  const serving = listen.map(formatHostPort).join(', ');
  const notes = missing.map(
    (m) =>
      `dns.listen ${formatHostPort(m)} left out: this machine has no address ${m.host}${m.host === '::1' ? ' (no IPv6 loopback, as in a Docker container)' : ''}; DNS answers on ${serving} (up.optionalListen)`,
  );
  return {
    notes,
    plan: {
      ...plan,
      dns: { ...plan.dns, listen },
      // The DNS server reads dns.listen from the file: tell it the listeners that remain.
      processes: plan.processes.map((p) =>
        p.role === 'dns' ? { ...p, args: [...p.args, ...listen.flatMap((l) => ['--listen', formatHostPort(l)])] } : p,
      ),
      listeners: plan.listeners.filter((l) => !(l.what === DNS_LISTENER && gone(l))),
    },
  };
}
