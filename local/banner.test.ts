import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { renderBanner, type BannerInput } from './banner.js';
import { planFor, type Plan } from './plan.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

async function input(over: Partial<BannerInput> = {}, plan?: Plan): Promise<BannerInput> {
  return {
    plan:
      plan ??
      (await planFor(join(ROOT, 'config', 'demo.yaml'), {
        proberPort: 8090,
        controlListen: { host: '127.0.0.1', port: 8054 },
      })),
    controlUrl: 'http://127.0.0.1:8054',
    defaultControl: true,
    example: { name: 'www.demo.test', subnet: '203.0.113.0/24', country: 'JP', pop: 'sin', addresses: ['127.0.4.1'] },
    asset: '/assets/app.12345678.js',
    verbose: false,
    cwd: ROOT,
    ...over,
  };
}

describe('renderBanner', () => {
  it('lists what runs where and three commands aimed at the PoP the example client gets', async () => {
    const text = renderBanner(await input());
    expect(text).toContain('Meridian is up: 14 processes from config/demo.yaml (Ctrl-C stops them all)');
    expect(text).toContain('  sin  Singapore     http://127.0.4.1:8080  http://127.0.4.1:8090\n');
    expect(text).toContain(
      '  dig @127.0.0.1 -p 5353 www.demo.test +subnet=203.0.113.0/24 +short\n      a client in JP is answered sin (Singapore): 127.0.4.1\n',
    );
    expect(text).toContain(
      "  curl -si http://127.0.4.1:8080/assets/app.12345678.js | grep -iE '^(HTTP|cache-status|x-origin-time)'\n",
    );
    expect(text).toContain('  node bin/meridian.js pop kill sin\n');
  });

  it('adds --control to the drill when up listens elsewhere, and falls back to the first PoP when the answer is unknown', async () => {
    const text = renderBanner(
      await input({
        controlUrl: 'http://127.0.0.1:9054',
        defaultControl: false,
        example: { name: 'www.demo.test', subnet: '203.0.113.0/24' },
      }),
    );
    expect(text).toContain('      a client in 203.0.113.0/24\n');
    expect(text).toContain('  curl -si http://127.0.1.1:8080/assets/');
    expect(text).toContain('  node bin/meridian.js pop kill fra --control http://127.0.0.1:9054\n');
    expect(text).toContain('`node bin/meridian.js pop revive fra --control http://127.0.0.1:9054`');
  });

  it('lists the announcers that run, and repeats why the others do not', async () => {
    const plan = await planFor(join(ROOT, 'config', 'hybrid.yaml'), {
      proberPort: 8090,
      controlListen: { host: '127.0.0.1', port: 8054 },
    });
    const one = { ...plan, anycast: plan.anycast.slice(0, 1) };
    const text = renderBanner(
      await input(
        { anycastNotes: ['anycast iad: not started — BIRD does not answer on /run/bird/iad.ctl (ENOENT)'] },
        one,
      ),
    );
    expect(text).toContain(
      '  anycast  prefixes                           BIRD               control\n' +
        '  fra      198.51.100.0/24 2001:db8:100::/48  /run/bird/fra.ctl  http://127.0.1.1:8091\n',
    );
    expect(text).toContain('\nanycast iad: not started — BIRD does not answer on /run/bird/iad.ctl (ENOENT)\n');
    expect(renderBanner(await input())).not.toContain('anycast');
  });
});
