// Server cookies as RFC 9018 makes them and RFC 7873 §5.2 judges them. The fixed-key cases use
// RFC 9018 Appendix A's secret, clients and times, so the cookies are the RFC's own bytes.
import { describe, expect, it } from 'vitest';
import { Cookie, ROTATE_EVERY_S, ServerCookies } from './cookies.js';

const SECRET = Buffer.from('e5e973e5a6b2a43f48e7dc849e37bfcf', 'hex');
const CLIENT = '2464c4abcf10c957';
const T1 = 1559731985;
const A1 = '010000005cf79f111f8130c3eee29480';
/** RFC 9018 A.2: the same client 40 minutes later is given a renewed cookie. */
const A2 = '010000005cf7a871d4a564a1442aca77';

/** A message holding a COOKIE option value at offset 3 (what `check` reads). */
function option(client: string, server = ''): { msg: Buffer; at: number; length: number } {
  const value = Buffer.from(client + server, 'hex');
  return { msg: Buffer.concat([Buffer.from([7, 7, 7]), value, Buffer.from([7])]), at: 3, length: value.length };
}

function checker(now: number, secret: 'fixed' | Buffer = 'fixed') {
  let clock = now;
  const cookies = new ServerCookies(
    secret === 'fixed' ? { kind: 'fixed', key: SECRET } : { kind: 'rotating', master: secret },
    () => clock,
  );
  return {
    at: (t: number) => void (clock = t),
    check(client: string, server: string, ip = '198.51.100.100') {
      const { msg, at, length } = option(client, server);
      const out = Buffer.alloc(16);
      const verdict = cookies.check(msg, at, length, ip, out);
      return { verdict, cookie: out.toString('hex') };
    },
  };
}

describe('ServerCookies', () => {
  it('gives a client cookie alone the server cookie of RFC 9018 A.1', () => {
    expect(checker(T1).check(CLIENT, '')).toEqual({ verdict: Cookie.CLIENT_ONLY, cookie: A1 });
  });

  it('accepts its cookie back and echoes it while young (RFC 9018 §4.3: renewed after 30 minutes)', () => {
    expect(checker(T1 + 100).check(CLIENT, A1)).toEqual({ verdict: Cookie.VALID, cookie: A1 });
    // A.2: 2,400 s later the cookie is still good, and the client is given a new one.
    expect(checker(T1 + 2400).check(CLIENT, A1)).toEqual({ verdict: Cookie.VALID, cookie: A2 });
  });

  it('gives RFC 9018 A.3 and A.4 (IPv6) for other clients', () => {
    expect(checker(1559734700).check('fc93fc62807ddb86', '', '203.0.113.203').cookie).toBe(
      '010000005cf7a9acf73a7810aca2381e',
    );
    const v6 = new ServerCookies(
      { kind: 'fixed', key: Buffer.from('dd3bdf9344b678b185a6f5cb60fca715', 'hex') },
      () => 1559741817,
    );
    const { msg, at, length } = option('22681ab97d52c298');
    const out = Buffer.alloc(16);
    v6.check(msg, at, length, '2001:db8:220:1:59de:d0f4:8769:82b8', out);
    expect(out.toString('hex')).toBe('010000005cf7c57926556bd0934c72f8');
  });

  it('hashes an IPv4-mapped IPv6 address (a dual-stack socket) as the IPv4 address', () => {
    expect(checker(T1).check(CLIENT, '', '::ffff:198.51.100.100').cookie).toBe(A1);
  });

  it.each([
    ['older than an hour', T1 + 3601, A1, '198.51.100.100'],
    ['more than 5 minutes ahead', T1 - 301, A1, '198.51.100.100'],
    ['from another address', T1 + 10, A1, '198.51.100.101'],
    ['with another client cookie', T1 + 10, A1, '198.51.100.100', '2464c4abcf10c958'],
    ['of another version', T1 + 10, '02' + A1.slice(2), '198.51.100.100'],
    ['with reserved bits set', T1 + 10, '01000100' + A1.slice(8), '198.51.100.100'],
    ['with a flipped hash bit', T1 + 10, A1.slice(0, 31) + '1', '198.51.100.100'],
    ['of 8 bytes', T1 + 10, A1.slice(0, 16), '198.51.100.100'],
    ['of 32 bytes', T1 + 10, A1 + A1, '198.51.100.100'],
  ])('refuses a server cookie %s, and makes a new one', (_, now, server, ip, client = CLIENT) => {
    const c = checker(now);
    const got = c.check(client, server, ip);
    expect(got.verdict).toBe(Cookie.INVALID);
    expect(got.cookie).toBe(c.check(client, '', ip).cookie);
  });

  it('accepts at the limits: an hour old, 5 minutes ahead', () => {
    expect(checker(T1 + 3600).check(CLIENT, A1).verdict).toBe(Cookie.VALID);
    expect(checker(T1 - 300).check(CLIENT, A1).verdict).toBe(Cookie.VALID);
  });

  it('rotates a generated secret every hour, still accepting cookies made under the previous one', () => {
    const master = Buffer.alloc(32, 3);
    const start = ROTATE_EVERY_S * 500_000 + ROTATE_EVERY_S - 10;
    const c = checker(start, master);
    const made = c.check(CLIENT, '').cookie;
    c.at(start + 20); // the next period: a new secret
    const after = c.check(CLIENT, made);
    expect(after.verdict).toBe(Cookie.VALID);
    expect(c.check(CLIENT, '').cookie.slice(16)).not.toBe(made.slice(16));
    // The same master elsewhere (another worker) validates the same cookie.
    expect(checker(start + 20, master).check(CLIENT, made).verdict).toBe(Cookie.VALID);
    expect(checker(start + 20, Buffer.alloc(32, 4)).check(CLIENT, made).verdict).toBe(Cookie.INVALID);
  });
});
