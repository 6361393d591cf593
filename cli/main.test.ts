// Every command's usage errors: exit 2 with its usage on stderr, before anything starts.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { controlUrl } from './control-url.js';
import { main } from './main.js';

async function run(argv: string[]): Promise<{ code: number | undefined; out: string; err: string }> {
  let out = '';
  let err = '';
  vi.spyOn(process.stdout, 'write').mockImplementation((t) => ((out += String(t)), true));
  vi.spyOn(process.stderr, 'write').mockImplementation((t) => ((err += String(t)), true));
  const code = await main(argv);
  vi.restoreAllMocks();
  return { code, out, err };
}

afterEach(() => vi.restoreAllMocks());

describe('meridian usage errors', () => {
  it.each([
    [['dns', '--nope'], 'dns'],
    [['dns', '--workers', '2'], 'dns'],
    [['dns', '--config'], 'dns'],
    [['dns', '--config', 'f', '--control-listen', 'nope'], 'dns'],
    [['dns', '--config', 'f', '--workers', '0'], 'dns'],
    [['edge', '--config', 'f'], 'edge'],
    [['edge', '--config', 'f', '--pop', 'fra', '--port', '1'], 'edge'],
    [['health', '--pop', 'fra'], 'health'],
    [['health', '--config', 'f', '--pop', 'fra', '--http'], 'health'],
    [['up', '--verbose'], 'up'],
    [['up', '--config', 'f', '--prober-port', 'x'], 'up'],
    [['origin', '--listen', 'x'], 'origin'],
    [['status', '--control', 'localhost:8053'], 'status'],
    [['status', 'extra'], 'status'],
    [['explain', 'www.demo.test'], 'explain'],
    [['pop', 'drain'], 'pop'],
    [['pop', 'explode', 'fra'], 'pop'],
    [['pop', 'drain', 'fra', '--up', 'http://127.0.0.1:8054'], 'pop'],
    [['query'], 'query'],
    [['anycast', '--config', 'f'], 'anycast'],
    [['anycast', '--config', 'f', '--pop', 'fra', '--control-listen', 'nope'], 'anycast'],
  ])('%j exits 2 with usage', async (argv, command) => {
    const r = await run(argv);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(new RegExp(`^meridian ${command}: .*\\n[\\s\\S]*usage: meridian ${command}`));
  });

  it.each(['dns', 'edge', 'health', 'up', 'origin', 'status', 'explain', 'pop', 'query'])(
    '%s --help prints its usage and exits 0',
    async (command) => {
      const r = await run([command, '--help']);
      expect(r).toMatchObject({ code: 0, err: '' });
      expect(r.out).toMatch(new RegExp(`usage: meridian ${command}`));
    },
  );

  it('the old pop --up still drives `meridian up`, saying it is deprecated', async () => {
    const r = await run(['pop', 'kill', 'fra', '--up', 'not a url']);
    expect(r.err).toContain('meridian: --up is deprecated; use --control\n');
    expect(r.err).toMatch(/--control 'not a url' is not a URL/);
    expect(r.code).toBe(2);
  });

  it('the top-level help uses only the new spellings, naming the old ones once as deprecated', async () => {
    const r = await run(['help']);
    const [body, deprecatedPart] = r.out.split('deprecated spellings');
    expect(body).not.toMatch(/--http|--up\b|dns\.http/);
    expect(deprecatedPart).toMatch(/dns\.http.*--http.*--control of edge and up.*pop --up/s);
  });
});

describe('controlUrl', () => {
  it('--control, else MERIDIAN_CONTROL, else the default address', () => {
    expect(controlUrl('http://10.0.0.1:8053', { MERIDIAN_CONTROL: 'http://10.0.0.2:8053' })).toEqual({
      ok: true,
      url: new URL('http://10.0.0.1:8053'),
    });
    expect(controlUrl(undefined, { MERIDIAN_CONTROL: 'http://10.0.0.2:8053' })).toEqual({
      ok: true,
      url: new URL('http://10.0.0.2:8053'),
    });
    expect(controlUrl(undefined, { MERIDIAN_CONTROL: '' })).toEqual({
      ok: true,
      url: new URL('http://127.0.0.1:8053'),
    });
    expect(controlUrl(undefined, { MERIDIAN_CONTROL: 'localhost:1' })).toEqual({
      ok: false,
      message: "MERIDIAN_CONTROL 'localhost:1' is not an http(s) URL (e.g. http://127.0.0.1:8053)",
    });
  });
});
