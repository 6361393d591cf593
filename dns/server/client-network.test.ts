import { describe, expect, it } from 'vitest';
import { clientNetwork } from './client-network.js';

describe('clientNetwork', () => {
  it('groups IPv4 by /24 and IPv6 by /56', () => {
    expect(clientNetwork('127.0.0.1')).toBe('127.0.0.0/24');
    expect(clientNetwork('127.0.0.200')).toBe('127.0.0.0/24');
    expect(clientNetwork('127.0.1.1')).toBe('127.0.1.0/24');
    expect(clientNetwork('2001:db8:1:2ff::1')).toBe('2001:db8:1:200::/56');
    expect(clientNetwork('2001:db8:1:2ff::1')).toBe(clientNetwork('2001:db8:1:200:ffff::9'));
    expect(clientNetwork('2001:db8:1:300::1')).not.toBe(clientNetwork('2001:db8:1:200::1'));
  });

  it('counts an IPv4-mapped address (dual-stack socket) as its IPv4 network', () => {
    expect(clientNetwork('::ffff:192.0.2.7')).toBe('192.0.2.0/24');
  });

  it('keeps text that is not an address as its own key', () => {
    expect(clientNetwork('')).toBe('');
    expect(clientNetwork('fe80::1%eth0')).toBe('fe80::1%eth0');
  });
});
