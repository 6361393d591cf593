import { describe, expect, it } from 'vitest';
import { checkContentType, checkCrossSite, checkHost, hostName } from './control-guard.js';

const none = { allowedHosts: new Set<string>() };
const named = { allowedHosts: new Set(['dns.internal']), setting: 'dns.control.allowedHosts' };

describe('checkHost', () => {
  it.each([
    '127.0.0.1:8053',
    '127.0.0.1',
    '10.53.0.53:8053',
    '[::1]:8053',
    '[::1]',
    '[2001:db8::1]:80',
    'localhost:8053',
    'localhost',
    'LocalHost:8053',
  ])('accepts %s', (host) => expect(checkHost(host, none)).toBeUndefined());

  it('accepts a request without Host (HTTP/1.0)', () => {
    expect(checkHost(undefined, none)).toBeUndefined();
  });

  it.each([
    'evil.example:8053',
    'evil.example',
    '127.0.0.1.evil.example',
    'localhost.evil.example:8053',
    'dns.internal:8053',
    '[localhost]:8053',
    '[127.0.0.1]',
    '::1',
    '127.0.0.1:',
    '',
    'a:b:c',
  ])('refuses %j without allowed names', (host) => expect(checkHost(host, none)?.status).toBe(403));

  it('accepts a listed name on any port, in any case', () => {
    expect(checkHost('dns.internal:8053', named)).toBeUndefined();
    expect(checkHost('DNS.Internal', named)).toBeUndefined();
    expect(checkHost('other.internal:8053', named)?.status).toBe(403);
  });

  it('names the Host and how to allow it', () => {
    expect(checkHost('evil.example:8053', named)?.reason).toBe(
      "Host 'evil.example:8053' is not allowed on this control port: it answers to IP addresses and localhost; to use the name 'evil.example', add it to dns.control.allowedHosts",
    );
    expect(checkHost('evil.example:8053', none)?.reason).toMatch(/use its IP address$/);
  });

  it('reads the name out of a Host value', () => {
    expect(hostName('[::1]:8053')).toBe('::1');
    expect(hostName('Example.TEST:1')).toBe('example.test');
    expect(hostName('a:b:c')).toBeUndefined();
  });
});

describe('checkCrossSite', () => {
  const host = '127.0.0.1:9080';

  it('lets through requests without Origin or Sec-Fetch-Site (curl, node clients)', () => {
    expect(checkCrossSite({ host })).toBeUndefined();
  });

  it.each(['same-origin', 'none'])('accepts Sec-Fetch-Site: %s', (site) => {
    expect(checkCrossSite({ host, 'sec-fetch-site': site })).toBeUndefined();
  });

  it.each(['cross-site', 'same-site', 'bogus'])('refuses Sec-Fetch-Site: %s', (site) => {
    const refusal = checkCrossSite({ host, 'sec-fetch-site': site });
    expect(refusal?.status).toBe(403);
    expect(refusal?.reason).toContain(site);
  });

  it('accepts the port itself as Origin', () => {
    expect(checkCrossSite({ host, origin: 'http://127.0.0.1:9080' })).toBeUndefined();
    expect(checkCrossSite({ host: 'localhost', origin: 'http://localhost:80' })).toBeUndefined();
    expect(checkCrossSite({ host: '[::1]:9080', origin: 'http://[::1]:9080' })).toBeUndefined();
  });

  it.each([
    'https://evil.example',
    'http://127.0.0.1:9081',
    'https://127.0.0.1:9080',
    'http://localhost:9080',
    'null',
    'garbage',
  ])('refuses Origin: %s', (origin) => {
    const refusal = checkCrossSite({ host, origin });
    expect(refusal?.status).toBe(403);
    expect(refusal?.reason).toContain(origin);
  });

  it('refuses an Origin when there is no Host to compare it with', () => {
    expect(checkCrossSite({ origin: 'http://127.0.0.1:9080' })?.status).toBe(403);
  });
});

describe('checkContentType', () => {
  it.each([
    'application/json',
    'application/json; charset=utf-8',
    'Application/JSON;charset=UTF-8',
    ' application/json ',
  ])('accepts %j', (type) => {
    expect(checkContentType({ 'content-length': '12', 'content-type': type })).toBeUndefined();
  });

  it.each([
    undefined,
    'text/plain',
    'text/plain;charset=UTF-8',
    'application/x-www-form-urlencoded',
    'multipart/form-data; boundary=x',
    'application/jsonx',
    'application/merge-patch+json',
  ])('refuses a body sent as %j with 415', (type) => {
    const headers = { 'content-length': '12', ...(type !== undefined && { 'content-type': type }) };
    const refusal = checkContentType(headers);
    expect(refusal?.status).toBe(415);
    expect(refusal?.reason).toContain("-H 'content-type: application/json'");
  });

  it('checks a chunked body as well', () => {
    expect(checkContentType({ 'transfer-encoding': 'chunked', 'content-type': 'text/plain' })?.status).toBe(415);
  });

  it('lets a request without a body through whatever its type', () => {
    expect(checkContentType({})).toBeUndefined();
    expect(checkContentType({ 'content-length': '0', 'content-type': 'text/plain' })).toBeUndefined();
  });
});
