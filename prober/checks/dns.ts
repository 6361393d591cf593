// DNS check: one UDP query for the configured name; ok when an answer with our id and NOERROR
// comes back in time (see net-probes.ts for the socket handling).
import { randomInt } from 'node:crypto';
import * as dnsPacket from 'dns-packet';
import type { ProbeResult, ProbeTarget, SettingsFor } from './types.js';
import { edgeHostPort } from './types.js';
import { udpExchange } from '../net-probes.js';

export function probe(target: ProbeTarget, settings: SettingsFor<'dns'>, signal?: AbortSignal): Promise<ProbeResult> {
  const { check, timeout } = settings;
  const { host, port } = edgeHostPort(target.edge, check.port);
  const id = randomInt(0, 0x10000);
  const query = dnsPacket.encode({
    type: 'query',
    id,
    flags: 0,
    questions: [{ type: check.qtype, name: check.name, class: 'IN' }],
  });
  const judge = (msg: Buffer) => {
    const rcode = responseRcode(msg, id);
    return rcode === undefined
      ? undefined
      : rcode === 'NOERROR'
        ? { ok: true }
        : { ok: false, detail: `rcode ${rcode}` };
  };
  return udpExchange(host, port, query, judge, timeout, signal);
}

/** The rcode of a well-formed response to query `id`, else undefined. */
function responseRcode(msg: Buffer, id: number): string | undefined {
  try {
    const decoded = dnsPacket.decode(msg) as dnsPacket.DecodedPacket & { rcode?: string };
    return decoded.id === id && decoded.flag_qr ? (decoded.rcode ?? 'unknown') : undefined;
  } catch {
    return undefined;
  }
}
