// Why did this client get this answer? Runs the real resolution for a name and client with a
// router that records every steering decision, and reports it as plain data.
import { ipBytes } from '../../common/ip.js';
import { addressText, parseCidr } from '../../geo-data/locator.js';
import { RcodeName, Type, typeFromName, typeName } from '../wire/constants.js';
import { wireToText } from '../wire/name.js';
import type { SectionEntry } from '../wire/rdata.js';
import { parseName } from '../zone/name-text.js';
import type { Route, Zone } from '../zone/zone.js';
import { resolve } from './resolve.js';
import { resolverNetwork } from '../pop-health/resolvers.js';
import type { Decision, Router, Steering } from './steering.js';

export class ExplainError extends Error {}

export interface Explanation {
  name: string;
  type: string;
  rcode: string;
  client: Record<string, unknown>;
  decisions: Record<string, unknown>[];
  answer: { name: string; type: string; ttl: number; data: string }[];
  ecsScope: number | null;
}

/** `client` is an address (as a resolver's) or a CIDR (as an ECS subnet). */
export function explain(
  zones: ReadonlyMap<string, Zone>,
  steering: Steering,
  name: string,
  client: string,
  type = 'A',
): Explanation {
  const qtype = typeFromName(type);
  if (qtype === undefined) throw new ExplainError(`unknown type '${type}'`);
  let qname;
  try {
    qname = parseName(name.endsWith('.') ? name : `${name}.`, null);
  } catch (e) {
    throw new ExplainError(`invalid name '${name}': ${(e as Error).message}`);
  }
  const isSubnet = client.includes('/');
  let address: Buffer;
  let prefix: number;
  try {
    if (isSubnet) {
      const c = parseCidr(client);
      address = c.bytes;
      prefix = c.prefixLength;
    } else {
      const b = ipBytes(client);
      if (!b) throw new Error('not an IP address');
      address = b;
      prefix = b.length * 8;
    }
  } catch (e) {
    throw new ExplainError(`invalid client '${client}': ${(e as Error).message}`);
  }

  const decisions: Decision[] = [];
  // Decides for the client given here (uncached, so the explanation is made fresh) and records it.
  const recorder: Router = {
    decide(route: Route): Decision {
      const d = steering.decideFor(
        route,
        address,
        prefix,
        isSubnet ? prefix : 0,
        isSubnet ? null : resolverNetwork(client),
      );
      decisions.push(d);
      return d;
    },
  };
  const answer = resolve(zones, qname.key, qtype, recorder);
  const first = decisions[0];
  return {
    name: wireToText(qname.wire),
    type: typeName(qtype),
    rcode: answer ? (RcodeName[answer.rcode] ?? String(answer.rcode)) : 'REFUSED',
    client: {
      given: client,
      as: isSubnet ? 'ECS client subnet' : 'resolver address',
      ...(first
        ? {
            network: first.network,
            source: first.located.source,
            location: first.located.location,
            country: first.located.country,
            continent: first.located.continent,
            database: first.located.database,
            netsPool: first.located.pool,
          }
        : {}),
    },
    decisions: decisions.map((d) => ({
      pool: d.pool.id,
      policy: d.pool.policy,
      rankedBy: d.steered.rankedBy,
      candidates: d.steered.ranked.map((c) => ({
        id: c.id,
        kind: c.member.kind,
        /** A CNAME member's id (its health subject), when it has one. */
        ...(c.member.kind === 'cname' && c.member.id !== undefined && { memberId: c.member.id }),
        eligible: c.eligible,
        distanceKm: c.distanceKm ?? null,
        estimatedRttMs: c.estimatedRttMs ?? null,
        measuredRttMs: c.measuredRttMs ?? null,
        notes: c.notes,
      })),
      chosen: d.steered.chosen.map((c) => c.id),
      usedFallback: d.steered.usedFallback,
      // policy: anycast: per family, anycast answered (who announces) or the unicast fallback and why.
      ...(d.anycast && {
        anycast: [d.anycast.a, d.anycast.aaaa].map((f) => ({
          type: f.type,
          answered: f.answered,
          applied: f.answered.length > 0 ? 'anycast' : 'unicast',
          reason: f.reason,
          addresses: f.addresses,
        })),
      }),
      scope: d.scope,
    })),
    answer: answer ? [...answer.answer].flatMap((e) => rrText(e, wireToText(qname.wire))) : [],
    ecsScope: isSubnet ? (first?.scope ?? 0) : null,
  };
}

function rrText(e: SectionEntry, qname: string): { name: string; type: string; ttl: number; data: string }[] {
  const owner = e.owner === null ? qname : wireToText((e.owner ?? e.rrset.owner).wire);
  return e.rrset.rdata.map((rdata) => ({
    name: owner,
    type: typeName(e.rrset.type),
    ttl: e.ttl ?? e.rrset.ttl,
    data: rdata.map((p) => (Buffer.isBuffer(p) ? bytesText(e.rrset.type, p) : wireToText(p.name.wire))).join(' '),
  }));
}

function bytesText(type: number, b: Buffer): string {
  if (type === Type.A || type === Type.AAAA) return addressText(b);
  return `\\# ${b.length} ${b.toString('hex')}`;
}
