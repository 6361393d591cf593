// The protections part of `meridian status`: response rate limiting and the TCP caps, as the
// `protection` of GET /v1/status counts them (dns/server/metrics.ts, summed over workers).
import { z } from 'zod';

export const protectionSchema = z.object({
  rrl: z.object({
    enabled: z.boolean(),
    logOnly: z.boolean(),
    limited: z.record(z.string(), z.number()),
    slipped: z.number(),
    dropped: z.number(),
    exemptNetwork: z.number(),
    exemptCookie: z.number(),
    limitedNetworks: z.number(),
  }),
  tcp: z.object({
    open: z.number(),
    accepted: z.number(),
    refused: z.number(),
    refusedNetwork: z.number(),
    readTimeouts: z.number(),
  }),
});
export type ProtectionView = z.output<typeof protectionSchema>;

/** Two lines under a heading; none for a server too old to report them. */
export function formatProtection(p: ProtectionView | undefined): string[] {
  if (!p) return [];
  const { rrl, tcp } = p;
  const limited = Object.entries(rrl.limited).filter(([, n]) => n > 0);
  const total = limited.reduce((n, [, v]) => n + v, 0);
  const rrlText = !rrl.enabled
    ? 'off (dns.rrl.enabled: false)'
    : [
        `${rrl.limitedNetworks} network${rrl.limitedNetworks === 1 ? '' : 's'} limited now${rrl.logOnly ? ' (log only: all answered)' : ''}`,
        `${total} responses over the limit${limited.length > 0 ? ` (${limited.map(([k, v]) => `${k} ${v}`).join(', ')})` : ''}`,
        `${rrl.slipped} slipped (TC)`,
        `${rrl.dropped} dropped`,
        `exempt: ${rrl.exemptNetwork} by network, ${rrl.exemptCookie} by cookie`,
      ].join(', ');
  const tcpText = [
    `${tcp.open} open`,
    `${tcp.accepted} accepted`,
    `${tcp.refused} refused at the connection cap`,
    `${tcp.refusedNetwork} at the per-network cap`,
    `${tcp.readTimeouts} closed for a slow read`,
  ].join(', ');
  return ['', 'protection (since the DNS server started):', `  RRL  ${rrlText}`, `  TCP  ${tcpText}`];
}
