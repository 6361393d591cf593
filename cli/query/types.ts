// Record type names and numbers for `meridian query`. Our own table rather than dns-packet's:
// it also names types dns-packet has no codec for (HTTPS, SVCB), and RFC 3597's TYPE<n> covers
// the rest. dns-packet writes any number we give it as UNKNOWN_<n>.
const TYPES: Record<string, number> = {
  A: 1,
  NS: 2,
  CNAME: 5,
  SOA: 6,
  PTR: 12,
  HINFO: 13,
  MX: 15,
  TXT: 16,
  RP: 17,
  AFSDB: 18,
  AAAA: 28,
  LOC: 29,
  SRV: 33,
  NAPTR: 35,
  CERT: 37,
  DNAME: 39,
  APL: 42,
  DS: 43,
  SSHFP: 44,
  IPSECKEY: 45,
  RRSIG: 46,
  NSEC: 47,
  DNSKEY: 48,
  DHCID: 49,
  NSEC3: 50,
  NSEC3PARAM: 51,
  TLSA: 52,
  HIP: 55,
  CDS: 59,
  CDNSKEY: 60,
  SVCB: 64,
  HTTPS: 65,
  SPF: 99,
  ANY: 255,
  URI: 256,
  CAA: 257,
};

// Not questions one asks with a single lookup: OPT is a pseudo-record, zone transfers are streams,
// TSIG/TKEY belong to signed exchanges.
const NOT_QUERYABLE: Record<number, string> = { 41: 'OPT', 249: 'TKEY', 250: 'TSIG', 251: 'IXFR', 252: 'AXFR' };

const NAMES = new Map(Object.entries(TYPES).map(([name, code]) => [code, name]));
const UNASKABLE_CODES = new Map(Object.entries(NOT_QUERYABLE).map(([code, name]) => [name, Number(code)]));

/** The type number for a user's `A`, `aaaa` or `TYPE65`; undefined when it is not one. */
export function typeCode(text: string): number | undefined {
  const upper = text.toUpperCase();
  const generic = /^TYPE(\d{1,5})$/.exec(upper);
  if (generic) {
    const code = Number(generic[1]);
    return code >= 1 && code <= 65535 ? code : undefined;
  }
  return TYPES[upper] ?? UNASKABLE_CODES.get(upper);
}

/** Why a type cannot be asked, or undefined when it can. */
export function unaskable(code: number): string | undefined {
  return NOT_QUERYABLE[code];
}

/** `A`, `HTTPS`, or `TYPE65000` for numbers without a name (RFC 3597). */
export function typeName(code: number): string {
  return NAMES.get(code) ?? NOT_QUERYABLE[code] ?? `TYPE${code}`;
}

/** dns-packet's type text (`A`, `UNKNOWN_65`) → ours (`A`, `HTTPS`). */
export function fromPacketType(text: string): string {
  const unknown = /^UNKNOWN_(\d+)$/.exec(text);
  return unknown ? typeName(Number(unknown[1])) : text;
}
