// Numeric registries from RFC 1035, 6891, 7871 and IANA. Kept as plain consts so the hot path
// compares small integers, never strings.

export const HEADER_LEN = 12;
export const MAX_NAME_WIRE = 255;
export const MAX_LABEL = 63;

export const Opcode = { QUERY: 0 } as const;

export const Rcode = {
  NOERROR: 0,
  FORMERR: 1,
  SERVFAIL: 2,
  NXDOMAIN: 3,
  NOTIMP: 4,
  REFUSED: 5,
  /** RFC 8945 §5.2: the request's TSIG failed (its own error field says why). */
  NOTAUTH: 9,
  /** Extended RCODE 16 (RFC 6891): lives partly in the OPT TTL field. */
  BADVERS: 16,
  /** Extended RCODE 23 (RFC 7873 §8): the server cookie is not one we accept; here is a new one. */
  BADCOOKIE: 23,
} as const;

export const RcodeName: Record<number, string> = {
  0: 'NOERROR',
  1: 'FORMERR',
  2: 'SERVFAIL',
  3: 'NXDOMAIN',
  4: 'NOTIMP',
  5: 'REFUSED',
  9: 'NOTAUTH',
  16: 'BADVERS',
  23: 'BADCOOKIE',
};

export const Class = { IN: 1, CH: 3, ANY: 255 } as const;

export const Type = {
  A: 1,
  NS: 2,
  CNAME: 5,
  SOA: 6,
  PTR: 12,
  HINFO: 13,
  MX: 15,
  TXT: 16,
  AAAA: 28,
  SRV: 33,
  OPT: 41,
  DS: 43,
  SVCB: 64,
  HTTPS: 65,
  IXFR: 251,
  AXFR: 252,
  MAILB: 253,
  MAILA: 254,
  ANY: 255,
  CAA: 257,
} as const;

const typeNames = new Map<number, string>(Object.entries(Type).map(([k, v]) => [v, k]));

export function typeName(type: number): string {
  return typeNames.get(type) ?? `TYPE${type}`;
}

/** Parses 'A', 'aaaa', 'TYPE65280'; returns undefined for anything else. */
export function typeFromName(name: string): number | undefined {
  const upper = name.toUpperCase();
  const known = (Type as Record<string, number>)[upper];
  if (known !== undefined) return known;
  const m = /^TYPE(\d{1,5})$/.exec(upper);
  if (m) {
    const n = Number(m[1]);
    if (n <= 0xffff) return n;
  }
  return undefined;
}

/**
 * The TSIG meta-type (RFC 8945). Kept out of `Type` so zone files cannot name it: it only ever
 * travels as the last record of a message.
 */
export const TSIG_TYPE = 250;

/** TSIG error codes (RFC 8945 §4.3, the RDATA's Error field). */
export const TsigError = { BADKEY: 17 } as const;

export const EdnsOption = { NSID: 3, ECS: 8, COOKIE: 10 } as const;

/** Header flag bits of the second 16-bit word. */
export const Flag = {
  QR: 0x8000,
  AA: 0x0400,
  TC: 0x0200,
  RD: 0x0100,
  RA: 0x0080,
  AD: 0x0020,
  CD: 0x0010,
} as const;

/** RFC 6891: a requestor's payload size below 512 is treated as 512. */
export const MIN_UDP_PAYLOAD = 512;
