// CHAOS-class identity queries (BIND convention, RFC 4892): `dig CH TXT id.server` tells an
// operator which instance answered. `version.bind` is answered only when configured.
import { Class, Rcode, Type } from '../wire/constants.js';
import type { RRset } from '../wire/rdata.js';
import { parseName } from '../zone/name-text.js';
import type { Answer, ErrorResponse } from './types.js';

export type ChaosTable = ReadonlyMap<string, RRset>;

const refused: ErrorResponse = { kind: 'error', rcode: Rcode.REFUSED };

export function buildChaosTable(serverId: string, version: string | null): ChaosTable {
  const table = new Map<string, RRset>();
  const add = (name: string, text: string) => {
    const owner = parseName(name, null);
    const bytes = Buffer.from(text, 'utf8').subarray(0, 255);
    table.set(owner.key, {
      owner,
      type: Type.TXT,
      ttl: 0,
      cls: Class.CH,
      rdata: [[Buffer.concat([Buffer.from([bytes.length]), bytes])]],
    });
  };
  add('id.server.', serverId);
  add('hostname.bind.', serverId);
  if (version !== null) {
    add('version.bind.', version);
    add('version.server.', version);
  }
  return table;
}

export function answerChaos(table: ChaosTable, qnameKey: string, qtype: number): Answer | ErrorResponse {
  const rrset = table.get(qnameKey);
  if (!rrset || (qtype !== Type.TXT && qtype !== Type.ANY)) return refused;
  return {
    kind: 'answer',
    rcode: Rcode.NOERROR,
    aa: true,
    answer: [{ rrset, owner: null }],
    authority: [],
    additional: [],
    scope: 0,
  };
}
