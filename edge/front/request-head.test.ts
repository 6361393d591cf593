// The raw front's head reader: it must read plain heads exactly and refuse everything a second
// parser could read differently from node:http's (request smuggling starts there).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { readPlainHead } from './request-head.js';

const MAX = 16 * 1024;
const read = (s: string, start = 0) => readPlainHead(s, start, MAX);

describe('readPlainHead', () => {
  it('reads a plain GET and HEAD: method, target, lower-case names, trimmed values, where the next request starts', () => {
    const head = 'GET /a/b?x=1&y=%20 HTTP/1.1\r\nHost: www.test\r\nAccept-Encoding:  gzip, br \t\r\nX-Empty:\r\n\r\n';
    const r = read(`${head}HEAD / HTTP/1.1\r\nhost: b\r\n\r\n`);
    expect(r).toMatchObject({ method: 'GET', target: '/a/b?x=1&y=%20', end: head.length });
    expect({ ...r!.headers }).toEqual({ host: 'www.test', 'accept-encoding': 'gzip, br', 'x-empty': '' });
    const next = read(`${head}HEAD / HTTP/1.1\r\nhost: b\r\n\r\n`, r!.end);
    expect(next).toMatchObject({ method: 'HEAD', target: '/', headers: { host: 'b' } });
    expect(read('GET / HTTP/1.1\r\n\r\n')).toMatchObject({ target: '/', headers: {} });
    expect(read('GET / HTTP/1.1\r\nConnection: Keep-Alive\r\nHost: a\r\n\r\n')?.headers.connection).toBe('Keep-Alive');
    expect(read('GET / HTTP/1.1\r\nX-Latin: caf\xe9\r\n\r\n')?.headers['x-latin']).toBe('caf\xe9');
  });

  it.each([
    ['another method', 'POST / HTTP/1.1\r\nHost: a\r\n\r\n'],
    ['a lower-case method', 'get / HTTP/1.1\r\nHost: a\r\n\r\n'],
    ['HTTP/1.0', 'GET / HTTP/1.0\r\nHost: a\r\n\r\n'],
    ['HTTP/2 preface', 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'],
    ['an absolute-form target', 'GET http://a/ HTTP/1.1\r\nHost: a\r\n\r\n'],
    ['an asterisk target', 'GET * HTTP/1.1\r\nHost: a\r\n\r\n'],
    ['two spaces in the request line', 'GET /  HTTP/1.1\r\nHost: a\r\n\r\n'],
    ['a non-ASCII target', 'GET /caf\xe9 HTTP/1.1\r\nHost: a\r\n\r\n'],
    ['a control character in the target', 'GET /a\x01 HTTP/1.1\r\nHost: a\r\n\r\n'],
    ['a leading empty line', '\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n'],
    ['a bare LF line end', 'GET / HTTP/1.1\nHost: a\r\n\r\n'],
    ['a bare LF in a value', 'GET / HTTP/1.1\r\nX: a\nb\r\nHost: a\r\n\r\n'],
    ['a bare CR in a value', 'GET / HTTP/1.1\r\nX: a\rb\r\nHost: a\r\n\r\n'],
    ['a NUL in a value', 'GET / HTTP/1.1\r\nX: a\x00b\r\nHost: a\r\n\r\n'],
    ['DEL in a value', 'GET / HTTP/1.1\r\nX: a\x7fb\r\nHost: a\r\n\r\n'],
    ['whitespace before the colon', 'GET / HTTP/1.1\r\nHost : a\r\n\r\n'],
    ['a folded line (obs-fold)', 'GET / HTTP/1.1\r\nX: a\r\n b\r\nHost: a\r\n\r\n'],
    ['a line without a colon', 'GET / HTTP/1.1\r\nHost a\r\n\r\n'],
    ['an empty field name', 'GET / HTTP/1.1\r\n: a\r\nHost: a\r\n\r\n'],
    ['a non-token field name', 'GET / HTTP/1.1\r\nX(y): a\r\nHost: a\r\n\r\n'],
    ['a repeated field', 'GET / HTTP/1.1\r\nHost: a\r\nhost: b\r\n\r\n'],
    ['a repeated field in other case', 'GET / HTTP/1.1\r\nHost: a\r\nX-A: 1\r\nx-a: 2\r\n\r\n'],
    ['a field named like a prototype property (__proto__)', 'GET / HTTP/1.1\r\nHost: a\r\n__proto__: x\r\n\r\n'],
    ['a field named like a prototype property (constructor)', 'GET / HTTP/1.1\r\nHost: a\r\nConstructor: x\r\n\r\n'],
    ['Content-Length', 'GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n'],
    ['Transfer-Encoding', 'GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n'],
    ['Expect', 'GET / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\n\r\n'],
    ['Upgrade', 'GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n'],
    ['Connection: close', 'GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n'],
    ['Connection naming a field', 'GET / HTTP/1.1\r\nHost: a\r\nConnection: keep-alive, x-a\r\n\r\n'],
    ['an incomplete head', 'GET / HTTP/1.1\r\nHost: a\r\n'],
    ['a head cut inside the final CRLF', 'GET / HTTP/1.1\r\nHost: a\r\n\r'],
  ])('refuses %s', (_what, text) => {
    expect(read(text)).toBeUndefined();
  });

  it('refuses a head longer than the limit, and accepts one exactly at it', () => {
    const base = 'GET / HTTP/1.1\r\nX: \r\n\r\n';
    const exact = `GET / HTTP/1.1\r\nX: ${'a'.repeat(100 - base.length)}\r\n\r\n`;
    expect(exact.length).toBe(100);
    expect(readPlainHead(exact, 0, 100)).toBeDefined();
    expect(readPlainHead(exact, 0, 99)).toBeUndefined();
  });

  const token = fc.stringMatching(/^[!#$%&'*+.^_`|~0-9a-zA-Z-]{1,12}$/);
  const value = fc.stringMatching(/^[\x21-\x7e](?:[\x20-\x7e]{0,20}[\x21-\x7e])?$/);
  const target = fc.stringMatching(/^\/[\x21-\x7e]{0,30}$/);

  it('reads back any plain head it is given (generated)', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('GET', 'HEAD'),
        target,
        fc.uniqueArray(fc.tuple(token, value), { maxLength: 8, selector: ([n]) => n.toLowerCase() }),
        (method, t, fields) => {
          // Left out: the fields that are never plain, and names an object already has ('constructor'),
          // which the reader refuses by design (see the refusals above).
          const plain = fields.filter(
            ([n]) =>
              !['content-length', 'transfer-encoding', 'expect', 'upgrade', 'connection'].includes(n.toLowerCase()) &&
              !(n.toLowerCase() in {}),
          );
          const text = `${method} ${t} HTTP/1.1\r\n${plain.map(([n, v]) => `${n}: ${v}\r\n`).join('')}\r\n`;
          const r = read(text);
          expect(r).toBeDefined();
          expect(r!.method).toBe(method);
          expect(r!.target).toBe(t);
          expect(r!.end).toBe(text.length);
          expect({ ...r!.headers }).toEqual(Object.fromEntries(plain.map(([n, v]) => [n.toLowerCase(), v])));
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('never throws, and what it accepts has no CR, LF or control character in any value (generated)', () => {
    const bytes = fc
      .array(
        fc.constantFrom(
          'GET ',
          'HEAD ',
          '/',
          ' HTTP/1.1',
          '\r\n',
          '\r',
          '\n',
          ':',
          ' ',
          '\t',
          'Host',
          'a',
          '\x00',
          '\x7f',
          '\xe9',
          'Content-Length: 1',
        ),
        { maxLength: 30 },
      )
      .map((a) => a.join(''));
    fc.assert(
      fc.property(bytes, (text) => {
        const r = read(text);
        if (r === undefined) return;
        expect(r.end).toBeLessThanOrEqual(text.length);
        expect(text.slice(r.end - 4, r.end)).toBe('\r\n\r\n');
        for (const v of Object.values(r.headers)) expect(v).not.toMatch(/[\x00-\x08\x0a-\x1f\x7f]/);
        expect(r.target).toMatch(/^\/[\x21-\x7e]*$/);
      }),
      { numRuns: 2000 },
    );
  });
});
