// Optional per-query logging, sampled, so it can be on in production without flooding. The
// query is decoded again only for the sampled few; the hot path pays one comparison.
import type { Logger } from '../../common/log.js';
import { RcodeName, typeName } from '../wire/constants.js';
import { decodeQuery } from '../wire/decode.js';
import { keyToText } from '../wire/name.js';

export class QueryLog {
  constructor(
    private readonly log: Logger,
    public sampleRate: number,
  ) {}

  /** Cheap check for the transports: is this query one to log? */
  sample(): boolean {
    return this.sampleRate > 0 && Math.random() < this.sampleRate;
  }

  write(transport: 'udp' | 'tcp', client: string, query: Buffer, response: Buffer | null): void {
    const d = decodeQuery(query);
    const rcode = response && response.length >= 4 ? response[3]! & 0xf : undefined;
    if (d.kind !== 'query') {
      this.log.info({ transport, client, outcome: d.kind, reason: d.reason }, 'query');
      return;
    }
    const q = d.query;
    this.log.info(
      {
        transport,
        client,
        qname: keyToText(q.qnameKey),
        qtype: typeName(q.qtype),
        ecs: q.edns?.clientSubnet
          ? `${q.edns.clientSubnet.address.toString('hex')}/${q.edns.clientSubnet.sourcePrefix}`
          : undefined,
        rcode: rcode === undefined ? 'dropped' : (RcodeName[rcode] ?? String(rcode)),
        bytes: response?.length ?? 0,
        tc: response ? (response[2]! & 0x02) !== 0 : false,
      },
      'query',
    );
  }
}
