import { describe, expect, it } from 'vitest';
import { capturedLog } from '../../test/helpers/captured-log.js';
import { Type } from '../wire/constants.js';
import { Kind } from './classify.js';
import { LimitLog } from './limit-log.js';

const PREFIXES = { ipv4: 24, ipv6: 56 };
const NAME = 'www.demo.test'
  .split('.')
  .map((l) => String.fromCharCode(l.length) + l)
  .join('');

describe('LimitLog', () => {
  it('says which network, kind and name, once per network per interval', async () => {
    const { log, lines } = capturedLog();
    const l = new LimitLog(log, 60_000, 20);
    l.started(1000, '198.51.100.7', PREFIXES, Kind.ANSWER, NAME, Type.A, false);
    l.started(2000, '198.51.100.9', PREFIXES, Kind.NXDOMAIN, NAME, 0, false); // same /24
    l.started(62_000, '198.51.100.9', PREFIXES, Kind.ERROR, '', 0, true);
    await new Promise((r) => setImmediate(r));
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatchObject({ network: '198.51.100.0/24', kind: 'answer', name: 'www.demo.test.', qtype: 'A' });
    expect(lines[1]).toMatchObject({ network: '198.51.100.0/24', kind: 'error', logOnly: true });
    expect(lines[1]).not.toHaveProperty('name');
  });

  it('writes at most perMinute lines a minute in all, then says how many it left out', async () => {
    const { log, lines } = capturedLog();
    const l = new LimitLog(log, 60_000, 3);
    for (let i = 0; i < 1000; i++)
      l.started(1000 + i, `10.${i >> 8}.${i & 255}.1`, PREFIXES, Kind.ANSWER, NAME, 1, false);
    l.started(61_500, '192.0.2.1', PREFIXES, Kind.ANSWER, NAME, 1, false);
    await new Promise((r) => setImmediate(r));
    expect(lines).toHaveLength(4);
    expect(lines[3]).toMatchObject({ network: '192.0.2.0/24', linesLeftOut: 997 });
  });
});
