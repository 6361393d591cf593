import { describe, expect, it } from 'vitest';
import { forwardedScheme, trustedProxies } from './trusted-proxies.js';

describe('trustedProxies', () => {
  it('trusts nobody when none is configured (and costs nothing)', () => {
    expect(trustedProxies([])).toBeUndefined();
  });

  it('matches IPv4, IPv4-mapped IPv6 and IPv6 peers against the networks', () => {
    const trusted = trustedProxies(['10.0.0.0/8', '2001:db8::/32'])!;
    expect(trusted('10.1.2.3')).toBe(true);
    expect(trusted('::ffff:10.1.2.3')).toBe(true);
    expect(trusted('11.0.0.1')).toBe(false);
    expect(trusted('::ffff:11.0.0.1')).toBe(false);
    expect(trusted('2001:db8::1')).toBe(true);
    expect(trusted('2001:db9::1')).toBe(false);
    expect(trusted(undefined)).toBe(false);
    expect(trusted('not an address')).toBe(false);
  });
});

describe('forwardedScheme', () => {
  it('reads the first entry of X-Forwarded-Proto; anything but https is http', () => {
    expect(forwardedScheme('https')).toBe('https');
    expect(forwardedScheme(' HTTPS , http')).toBe('https');
    expect(forwardedScheme('http, https')).toBe('http');
    expect(forwardedScheme(['https', 'http'])).toBe('https');
    expect(forwardedScheme('javascript')).toBe('http');
    expect(forwardedScheme(undefined)).toBe('http');
  });
});
