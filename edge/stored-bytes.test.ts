// What the store keeps owns its memory: a small body or hit prefix that is a slice of node's
// shared 8 KiB pool, or of a socket read or IPC message, keeps that whole allocation alive for as
// long as the object is stored, beyond what the byte budget counts.
import type { ServerResponse } from 'node:http';
import { deserialize, serialize } from 'node:v8';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { capturedLog } from '../test/helpers/captured-log.js';
import { writeConfigDir } from '../test/helpers/config-dir.js';
import { edgeConfig } from '../test/helpers/edge-config.js';
import { request } from '../test/helpers/http-client.js';
import { reply, startOrigin, type TestOrigin } from '../test/helpers/test-origin.js';
import { loadEdgeConfig } from './config.js';
import { EdgeCore } from './core.js';
import { hitPrefix } from './front/hit-bytes.js';
import { startEdgeServer, type EdgeServer } from './server.js';
import { ownBytes, ownLatin1 } from './stored-bytes.js';
import { entryFromWire, entryToWire } from './workers/wire.js';

let origin: TestOrigin;
let core: EdgeCore;
let edge: EdgeServer;

const owns = (b: Uint8Array): boolean => b.byteOffset === 0 && b.buffer.byteLength === b.byteLength;

beforeAll(async () => {
  origin = await startOrigin();
  // Content-Length: read whole (whole-body.ts).
  origin.route('/sized', reply(200, { 'cache-control': 'public, max-age=600' }, 's'.repeat(300)));
  // Chunked, no length: streamed to the client and buffered for the store at once (tee.ts).
  origin.route('/chunked', (_req, res: ServerResponse) => {
    res.writeHead(200, { 'cache-control': 'public, max-age=600' });
    res.write('c'.repeat(150));
    setTimeout(() => res.end('c'.repeat(150)), 20);
  });
  const { configPath } = writeConfigDir(edgeConfig(origin.url, '  warmUp: 0s\n'), { prefix: 'meridian-owned-' });
  const config = await loadEdgeConfig(configPath, 'fra', { listen: { host: '127.0.0.1', port: 0 } });
  core = new EdgeCore({ config, log: capturedLog().log, now: Date.now, registry: new Registry() });
  edge = await startEdgeServer(
    core.state,
    { healthz: () => ({ status: 200, body: {} }), purge: () => ({ purged: 0, soft: false }), token: undefined },
    config.listen,
  );
});

afterAll(async () => {
  await edge.close();
  await core.close();
  await origin.stop();
});

const get = (path: string) => request(edge.url + path, { host: 'www.test' });

describe('stored bytes', () => {
  it.each(['/sized', '/chunked'])(
    '%s: the stored body and its hit prefix are allocations of their own',
    async (path) => {
      const miss = await get(path);
      expect(miss.text).toHaveLength(300);
      const hit = await get(path);
      expect(hit.header('cache-status')).toMatch(/; hit; /);
      const entry = core.cache.get(`http://www.test${path}`)!;
      expect(entry.body.toString()).toBe(miss.text);
      expect(owns(entry.body)).toBe(true);
      const prefix = hitPrefix(entry)!;
      expect(prefix.bytes.toString('latin1')).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
      expect(owns(prefix.bytes)).toBe(true);
    },
  );

  it("a sibling worker's relayed object owns its body, not the IPC message it came in", async () => {
    await get('/sized');
    const entry = core.cache.get('http://www.test/sized')!;
    // As node's 'advanced' IPC hands it over: the body a view into the whole message.
    const wire = deserialize(serialize(entryToWire(entry))) as ReturnType<typeof entryToWire>;
    expect(owns(wire.body)).toBe(false);
    const relayed = entryFromWire(wire, core.state.now, '1.1 meridian-fra');
    expect(relayed.body.equals(entry.body)).toBe(true);
    expect(owns(relayed.body)).toBe(true);
  });

  it('ownBytes and ownLatin1 copy into exact-size buffers', () => {
    const parts = [Buffer.from('ab'), new Uint8Array([99, 100]), Buffer.from('xyz').subarray(1)];
    const whole = ownBytes(parts, 6);
    expect(whole.toString()).toBe('abcdyz');
    expect(owns(whole)).toBe(true);
    const text = ownLatin1('Age: 1\r\n\u00e9');
    expect(text.toString('latin1')).toBe('Age: 1\r\n\u00e9');
    expect(owns(text)).toBe(true);
  });
});
