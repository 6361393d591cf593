import { describe, expect, it } from 'vitest';
import { formatProtection, protectionSchema, type ProtectionView } from './protection.js';

const view = (rrl: Partial<ProtectionView['rrl']> = {}): ProtectionView => ({
  rrl: {
    enabled: true,
    logOnly: false,
    limited: { answer: 1200, nodata: 0, nxdomain: 34, referral: 0, error: 0 },
    slipped: 617,
    dropped: 617,
    exemptNetwork: 10,
    exemptCookie: 5,
    limitedNetworks: 3,
    ...rrl,
  },
  tcp: { open: 4, accepted: 120, refused: 0, refusedNetwork: 2, readTimeouts: 1 },
});

describe('meridian status: protection', () => {
  it('says what RRL and the TCP caps have done', () => {
    expect(formatProtection(view())).toEqual([
      '',
      'protection (since the DNS server started):',
      '  RRL  3 networks limited now, 1234 responses over the limit (answer 1200, nxdomain 34), 617 slipped (TC), 617 dropped, exempt: 10 by network, 5 by cookie',
      '  TCP  4 open, 120 accepted, 0 refused at the connection cap, 2 at the per-network cap, 1 closed for a slow read',
    ]);
  });

  it('says when RRL is off or only logs, and nothing for a server that does not report it', () => {
    expect(formatProtection(view({ enabled: false }))[2]).toBe('  RRL  off (dns.rrl.enabled: false)');
    expect(formatProtection(view({ logOnly: true, limitedNetworks: 1 }))[2]).toMatch(
      /^ {2}RRL {2}1 network limited now \(log only: all answered\), /,
    );
    expect(formatProtection(undefined)).toEqual([]);
  });

  it('reads what GET /v1/status sends', () => {
    expect(protectionSchema.parse(JSON.parse(JSON.stringify(view())))).toEqual(view());
  });
});
