// Record data as dns-packet decodes it → master-file text, as dig prints it, so output can be
// compared with dig's and pasted into a zone file.

/** `www.demo.test` → `www.demo.test.`; the root stays `.`. */
export function absolute(name: string): string {
  return name === '.' || name === '' ? '.' : `${name}.`;
}

export function rdataText(type: string, data: unknown): string {
  const d = data as Record<string, unknown>;
  switch (type) {
    case 'A':
    case 'AAAA':
      return String(data);
    case 'CNAME':
    case 'NS':
    case 'PTR':
    case 'DNAME':
      return absolute(String(data));
    case 'MX':
      return `${num(d.preference)} ${absolute(String(d.exchange))}`;
    case 'SOA':
      return [
        absolute(String(d.mname)),
        absolute(String(d.rname)),
        ...['serial', 'refresh', 'retry', 'expire', 'minimum'].map((k) => num(d[k])),
      ].join(' ');
    case 'SRV':
      return `${num(d.priority)} ${num(d.weight)} ${num(d.port)} ${absolute(String(d.target))}`;
    case 'CAA':
      return `${num(d.flags)} ${String(d.tag)} ${quoted(Buffer.from(String(d.value)))}`;
    case 'TXT':
    case 'SPF':
      return (Array.isArray(data) ? data : [data])
        .map((s) => quoted(Buffer.isBuffer(s) ? s : Buffer.from(String(s))))
        .join(' ');
    case 'HINFO':
      return `${quoted(Buffer.from(String(d.cpu)))} ${quoted(Buffer.from(String(d.os)))}`;
  }
  // Types without a text form here (or without a dns-packet codec): RFC 3597's generic form.
  if (Buffer.isBuffer(data)) return `\\# ${data.length}${data.length ? ` ${data.toString('hex').toUpperCase()}` : ''}`;
  return JSON.stringify(data, (_k, v: unknown) => (isBufferJson(v) ? Buffer.from(v.data).toString('hex') : v));
}

/** A character-string in double quotes, with `"`, `\` and non-printable bytes escaped. */
export function quoted(bytes: Buffer): string {
  let out = '"';
  for (const b of bytes) {
    if (b === 0x22 || b === 0x5c) out += `\\${String.fromCharCode(b)}`;
    else if (b < 0x20 || b > 0x7e) out += `\\${String(b).padStart(3, '0')}`;
    else out += String.fromCharCode(b);
  }
  return `${out}"`;
}

function num(v: unknown): string {
  return typeof v === 'number' ? String(v) : '?';
}

function isBufferJson(v: unknown): v is { type: 'Buffer'; data: number[] } {
  return (
    typeof v === 'object' &&
    v !== null &&
    (v as { type?: unknown }).type === 'Buffer' &&
    Array.isArray((v as { data?: unknown }).data)
  );
}
