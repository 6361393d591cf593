// Catchment: which PoP an anycast client reaches. Routers decide it, so nobody can know it
// without asking: every DNS answer names its PoP in NSID (RFC 5001) and CH TXT id.server, every
// edge response in Cache-Status (`meridian-<pop>`), and the probers ask each anycast address
// "who answers from here" and report it with their health reports (health-contract.ts). This
// file is the one place that says how a PoP is written into those answers and read back out.

/**
 * The NSID (and CH TXT id.server / hostname.bind) of a DNS server: `<serverId>@<pop>`, read "the
 * server ns1 at PoP fra". The serverId alone when no PoP is known, or when it already names the
 * PoP as one of its labels (`pop-fra`, `ns1.fra.example.net`: nothing to add).
 */
export function nsidText(serverId: string, pop: string | undefined): string {
  if (pop === undefined || namesPop(serverId, pop)) return serverId;
  return `${serverId}@${pop}`;
}

/**
 * The PoP an NSID names, or null: the text after the last `@` when it has one (it must be a
 * PoP of `pops`), else the single PoP of `pops` that is a label of it (split at `.` and `-`).
 * Never a guess: two PoPs named, or none, is null.
 */
export function popFromNsid(nsid: string, pops: readonly string[]): string | null {
  const at = nsid.lastIndexOf('@');
  if (at >= 0) {
    const pop = nsid.slice(at + 1);
    return pops.includes(pop) ? pop : null;
  }
  const named = pops.filter((p) => namesPop(nsid, p));
  return named.length === 1 ? named[0]! : null;
}

/** Whether `text` has `pop` as a whole label: `pop-a` names `a`, `pop-ab` does not. */
function namesPop(text: string, pop: string): boolean {
  if (text === pop) return true;
  const seps = ['.', '-'];
  return seps.some(
    (s) => text.startsWith(pop + s) || text.endsWith(s + pop) || seps.some((t) => text.includes(`${s}${pop}${t}`)),
  );
}

/** The name an edge of PoP `pop` gives itself in Via and Cache-Status. */
export const edgePseudonym = (pop: string): string => `meridian-${pop}`;

/**
 * The PoP that served an HTTP response, from its Cache-Status (RFC 9211: each cache appends its
 * member, so the last `meridian-<pop>` is the one nearest the client; a shield PoP's comes
 * before it), else from Via (likewise the last of ours). null when no known PoP is named.
 */
export function popFromServedBy(
  cacheStatus: string | undefined,
  via: string | undefined,
  pops: readonly string[],
): string | null {
  const known = new Map(pops.map((p) => [edgePseudonym(p), p]));
  const last = (names: string[]): string | null => {
    for (let i = names.length - 1; i >= 0; i--) {
      const pop = known.get(names[i]!);
      if (pop !== undefined) return pop;
    }
    return null;
  };
  // A member is `name; param=value ...`; a quoted detail may hold commas, which only make extra
  // "members" that name no PoP.
  const fromStatus = last((cacheStatus ?? '').split(',').map((m) => m.split(';')[0]!.trim()));
  if (fromStatus !== null) return fromStatus;
  // Via: `1.1 meridian-fra, 1.1 other` (protocol, then the pseudonym, then an optional comment).
  return last((via ?? '').split(',').map((h) => h.trim().split(/\s+/)[1] ?? ''));
}
