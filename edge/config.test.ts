import { describe, expect, it } from 'vitest';
import { edgeConfigFrom } from './config.js';

const pop = (extra = '') => ({
  id: 'fra',
  location: { lat: 50, lon: 8 },
  ipv4: ['127.0.1.1'],
  edge: 'http://127.0.1.1:8080',
  ...JSON.parse(`{${extra}}`),
});
const load = (data: unknown, id = 'fra', overrides = {}) => edgeConfigFrom('meridian.yaml', data, id, overrides);

describe('edge config', () => {
  it('applies the defaults and listens on the PoP edge URL', () => {
    const c = load({ edge: { origin: 'http://origin.test' }, pops: [pop()], dns: { anything: 'theirs' } });
    expect(c).toMatchObject({
      pop: 'fra',
      listen: { host: '127.0.1.1', port: 8080 },
      maxBytes: 256 * 1024 * 1024,
      maxObjectBytes: 8 * 1024 * 1024,
      timeouts: { connect: 2000, headers: 10_000, body: 30_000 },
      clientTimeouts: { headers: 20_000, sendStall: 30_000 },
      connections: 64,
      query: { deny: ['utm_*', 'fbclid', 'gclid'] },
      originDownAfter: 30_000,
      hitForMiss: 10_000,
      shield: undefined,
    });
    expect(c.upstream.href).toBe('http://origin.test/');
  });

  it('reads sizes and durations with units, allow lists, and --listen / --control', () => {
    const c = load(
      {
        edge: {
          origin: 'https://o.test',
          maxBytes: '1GiB',
          maxObjectBytes: '512KiB',
          timeouts: { connect: '500ms', body: '1m' },
          clientTimeouts: { sendStall: '5s' },
          query: { allow: ['id', 'v*'] },
          originDownAfter: '10s',
        },
        pops: [pop()],
      },
      'fra',
      { listen: { host: '::1', port: 9000 }, control: { host: '127.0.0.1', port: 9001 } },
    );
    expect(c).toMatchObject({
      maxBytes: 1024 ** 3,
      maxObjectBytes: 512 * 1024,
      timeouts: { connect: 500, headers: 10_000, body: 60_000 },
      clientTimeouts: { headers: 20_000, sendStall: 5000 },
      query: { allow: ['id', 'v*'] },
      originDownAfter: 10_000,
    });
    expect(c.listen).toEqual({ host: '::1', port: 9000 });
    expect(c.control.listen).toEqual({ host: '127.0.0.1', port: 9001 });
  });

  it('reads edge.control.allowedHosts as lowercase host names, refusing ports, schemes and wildcards', () => {
    expect(load({ edge: { origin: 'http://o.test' }, pops: [pop()] }).control.allowedHosts).toEqual([]);
    const c = load({
      edge: {
        origin: 'http://o.test',
        control: { listen: '127.0.0.1:9080', allowedHosts: ['Edge-FRA.internal', 'edge'] },
      },
      pops: [pop()],
    });
    expect(c.control.allowedHosts).toEqual(['edge-fra.internal', 'edge']);
    for (const bad of ['edge.internal:9080', 'http://edge.internal', '*.internal', '']) {
      expect(() =>
        load({ edge: { origin: 'http://o', control: { allowedHosts: ['ok.internal', bad] } }, pops: [pop()] }),
      ).toThrow(`meridian.yaml: edge.control.allowedHosts[1]: '${bad}' is not a host name`);
    }
    expect(() =>
      load({ edge: { origin: 'http://o', control: { allowedHosts: 'edge.internal' } }, pops: [pop()] }),
    ).toThrow(/meridian.yaml: edge.control.allowedHosts: /);
  });

  it('uses the shield PoP edge as upstream', () => {
    const c = load(
      {
        edge: { origin: 'http://o.test' },
        pops: [pop(), { ...pop(), id: 'iad', edge: 'http://127.0.2.1:8080', shield: 'fra' }],
      },
      'iad',
    );
    expect(c.upstream.href).toBe('http://127.0.1.1:8080/');
    expect(c.shield).toBe('fra');
  });

  it('names the file and path of every problem', () => {
    expect(() => load({ pops: [pop()] })).toThrow(/^meridian.yaml: edge: /);
    expect(() => load({ edge: { origin: 'ftp://x' }, pops: [pop()] })).toThrow(
      'meridian.yaml: edge.origin: expected an http(s) URL',
    );
    expect(() => load({ edge: { origin: 'http://o', maxBytes: 'lots' }, pops: [pop()] })).toThrow(
      "meridian.yaml: edge.maxBytes: 'lots' is not a byte size",
    );
    expect(() => load({ edge: { origin: 'http://o', timeouts: { connect: 'soon' } }, pops: [pop()] })).toThrow(
      "meridian.yaml: edge.timeouts.connect: 'soon' is not a duration",
    );
    expect(() => load({ edge: { origin: 'http://o', clientTimeouts: { sendStall: 0 } }, pops: [pop()] })).toThrow(
      'meridian.yaml: edge.clientTimeouts.sendStall: expected a duration above zero',
    );
    expect(() => load({ edge: { origin: 'http://o', query: { deny: ['a'], allow: ['b'] } }, pops: [pop()] })).toThrow(
      /edge.query/,
    );
    expect(() => load({ edge: { origin: 'http://o', bogus: 1 }, pops: [pop()] })).toThrow(/edge: .*bogus/);
    expect(() => load({ edge: { origin: 'http://o', maxBytes: 10, maxObjectBytes: 20 }, pops: [pop()] })).toThrow(
      'meridian.yaml: edge.maxObjectBytes: 20 is larger than edge.maxBytes (10)',
    );
    expect(() => load({ edge: { origin: 'http://o' }, pops: [pop('"shield": "nope"')] })).toThrow(
      "meridian.yaml: pops[0].shield: no PoP with id 'nope'",
    );
    expect(() =>
      load({ edge: { origin: 'http://o' }, pops: [pop('"shield": "iad"'), { ...pop(), id: 'iad', shield: 'fra' }] }),
    ).toThrow(/pops\[0\].shield: shield chain loops: fra → iad → fra/);
    expect(() => load({ edge: { origin: 'http://o' }, pops: [pop()] }, 'sin')).toThrow(
      "meridian.yaml: pops: no PoP with id 'sin' (--pop); known: fra",
    );
    expect(() => load({ edge: { origin: 'http://o' }, pops: [{ ...pop(), edge: undefined }] })).toThrow(
      /pops\[0\].edge: PoP 'fra' has no edge URL to listen on; give --listen/,
    );
    expect(() => load({ edge: { origin: 'http://o' }, pops: [pop('"unknown": 1')] })).toThrow(/pops\[0\]: .*unknown/);
  });
});
