// Compiled zones survive the trip between threads: through a real MessageChannel, their buffers
// transferred (not copied), they answer the same as the zones that were sent.
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import { Type } from '../wire/constants.js';
import type { Name } from '../wire/name.js';
import { parseName } from './name-text.js';
import { compileZones, type SourceRecord, type ZoneSource } from './compile.js';
import { handOver, takeOver, type ZoneData } from './zone-handover.js';

const name = (text: string): Name => parseName(`${text}.`, null);

function source(apex: string, hosts: number): ZoneSource {
  const origin = name(apex);
  const soa = Buffer.alloc(20);
  soa.writeUInt32BE(30, 16);
  const ns = { name: name(`ns1.${apex}`), compress: true };
  const records: SourceRecord[] = [
    {
      owner: origin,
      type: Type.SOA,
      ttl: 3600,
      rdata: [ns, { name: name(`admin.${apex}`), compress: true }, soa],
      where: 's',
    },
    { owner: origin, type: Type.NS, ttl: 3600, rdata: [ns], where: 'n' },
    { owner: name(`Mixed.${apex}`), type: Type.TXT, ttl: 60, rdata: [Buffer.from('\x05hello')], where: 't' },
  ];
  for (let i = 0; i < hosts; i++)
    records.push({
      owner: name(`h${i}.${apex}`),
      type: Type.A,
      ttl: 300,
      rdata: [Buffer.of(192, 0, 2, i % 256)],
      where: `a${i}`,
    });
  return {
    origin,
    where: 'z',
    records,
    routes: [{ owner: name(`cdn.${apex}`), pool: 'global', ttl: 20, answers: 1, where: 'r' }],
  };
}

async function across(data: ZoneData[], transfer: ArrayBuffer[]): Promise<ZoneData[]> {
  const { port1, port2 }: { port1: MessagePort; port2: MessagePort } = new MessageChannel();
  const received = once(port2, 'message');
  port1.postMessage(data, transfer);
  const [got] = (await received) as [ZoneData[]];
  port1.close();
  port2.close();
  return got;
}

describe('handOver / takeOver', () => {
  it('moves zones to another port without a copy, and they answer the same', async () => {
    const zones = compileZones([source('one.test', 1000), source('two.test', 10)]);
    const key = (t: string) => name(t).key;
    const hex = (z: typeof zones) =>
      (z.get(key('one.test'))!.nodes.get(key('h999.one.test'))!.rrsets.get(Type.A)!.rdata[0]![0] as Buffer).toString(
        'hex',
      );
    const before = hex(zones);
    const { data, transfer } = handOver(zones);
    expect(transfer.length).toBe(2 * 11);
    const got = takeOver(await across(data, transfer));
    // Transferred, not copied: the sender's buffers are detached.
    expect(transfer.every((b) => b.byteLength === 0)).toBe(true);

    expect([...got.keys()]).toEqual([key('one.test'), key('two.test')]);
    const one = got.get(key('one.test'))!;
    expect(one.apex.key).toBe(key('one.test'));
    expect(one.soa.type).toBe(Type.SOA);
    expect(one.negativeTtl).toBe(30);
    expect(one.nodes.size).toBe(1000 + 3);
    expect(hex(got)).toBe(before);
    const txt = one.nodes.get(key('mixed.one.test'))!;
    expect(txt.name.wire.toString('latin1')).toContain('Mixed');
    expect(Buffer.isBuffer(txt.rrsets.get(Type.TXT)!.rdata[0]![0])).toBe(true);
    expect(one.nodes.get(key('cdn.one.test'))!.route).toEqual({ pool: 'global', ttl: 20, answers: 1 });
    expect(one.nodes.get(key('h1.one.test'))!.zone).toBe(one);
  });
});
