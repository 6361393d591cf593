// StaticAnswers: which questions get a template, that a hot name's template is kept (the query
// path then allocates nothing), and that the cache stays bounded without changing any answer.
import { once } from 'node:events';
import { MessageChannel } from 'node:worker_threads';
import { beforeAll, describe, expect, it } from 'vitest';
import { Type } from '../wire/constants.js';
import { parseName } from '../zone/name-text.js';
import type { BuiltState } from '../server/state.js';
import { handOver, takeOver, type ZoneData } from '../zone/zone-handover.js';
import { buildRouteIndex, newTemplateCache, routeIndexKeys, routeIndexOf, StaticAnswers } from './templates.js';
import { testState } from './testdata/serving-state.js';

let state: BuiltState;
beforeAll(async () => {
  state = await testState();
});

const key = (text: string) => parseName(text, null).key;

describe('StaticAnswers', () => {
  it.each([
    ['a held type', 'mail.example.test.', Type.AAAA],
    ['NODATA for a common type', 'mail.example.test.', Type.TXT],
    ['a CNAME', 'alias.example.test.', Type.A],
    ['a referral', 'sub.example.test.', Type.A],
    ['the apex', 'example.test.', Type.SOA],
  ])('builds a template for %s', (_, name, qtype) => {
    expect(new StaticAnswers(state.zones).get(key(name), qtype)?.kind).toBe('template');
  });

  it.each([
    ['a name not in the zone (NXDOMAIN)', 'nope.example.test.', Type.A],
    ['a name under a wildcard', 'x.wild.example.test.', Type.A],
    ['a wildcard owner', '*.wild.example.test.', Type.A],
    ['a routed name (per client)', 'www.example.test.', Type.A],
    ['a QTYPE neither common nor held', 'mail.example.test.', 35],
    ['a name outside our zones', 'other.example.', Type.A],
  ])('answers per query for %s', (_, name, qtype) => {
    expect(new StaticAnswers(state.zones).get(key(name), qtype)).toBeNull();
  });

  it('keeps a hot name: the same template, not a rebuilt one', () => {
    const answers = new StaticAnswers(state.zones);
    const first = answers.get(key('mail.example.test.'), Type.A);
    expect(answers.get(key('mail.example.test.'), Type.A)).toBe(first);
  });

  it('stays bounded, and a name it dropped gets the same bytes again', () => {
    const answers = new StaticAnswers(state.zones, newTemplateCache(2));
    const first = answers.get(key('mail.example.test.'), Type.A)!;
    answers.get(key('ns1.example.test.'), Type.A);
    answers.get(key('txt.example.test.'), Type.TXT);
    const again = answers.get(key('mail.example.test.'), Type.A)!;
    expect(again).not.toBe(first);
    expect(again).toEqual(first);
  });
});

describe('the route index (routed names answered by their own name)', () => {
  it('comes out the same when its keys are worked out in the loading thread and the zones handed over', async () => {
    const there = await testState();
    const expected = [...buildRouteIndex(there.zones)].map(([k, r]) => [k, r.pool, r.ttl]);
    // Only names a lookup lands on: not a wildcard's owner.
    expect(expected.map(([k]) => k)).toEqual([key('www.example.test.'), key('multi.example.test.')]);
    const keys = routeIndexKeys(there.zones);
    const { port1, port2 } = new MessageChannel();
    const arrived = once(port2, 'message');
    const handed = handOver(there.zones);
    port1.postMessage({ zones: handed.data, keys }, handed.transfer);
    const [message] = (await arrived) as [{ zones: ZoneData[]; keys: string[] }];
    port1.close();
    const here = takeOver(message.zones);
    expect([...routeIndexOf(here, message.keys)].map(([k, r]) => [k, r.pool, r.ttl])).toEqual(expected);
  });
});
