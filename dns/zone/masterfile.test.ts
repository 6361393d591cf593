import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { MasterFileError, parseMasterFile } from './masterfile.js';
import type { MasterFileOptions, MasterRecord } from './masterfile.js';
import { TextError } from './text.js';

const ORIGIN = 'demo.test.';

function parse(text: string, opts: Partial<MasterFileOptions> = {}): MasterRecord[] {
  return parseMasterFile(text, { origin: ORIGIN, file: 'demo.zone', ...opts });
}

/** The record fields most tests care about, with rdata as plain texts. */
function brief(r: MasterRecord): [string, number, string, string[]] {
  return [r.owner, r.ttl, r.type, r.rdata.map((t) => t.text)];
}

/** The error message parsing `text` throws; fails the test if nothing is thrown. */
function errorOf(text: string, opts: Partial<MasterFileOptions> = {}): MasterFileError {
  try {
    parse(text, opts);
  } catch (err) {
    expect(err).toBeInstanceOf(MasterFileError);
    return err as MasterFileError;
  }
  throw new Error(`expected ${JSON.stringify(text)} to fail`);
}

const DEMO_ZONE = [
  '; demo.test — the zone the CDN answers for',
  '$TTL 1h',
  '@\tIN\tSOA\tns1.demo.test. hostmaster.demo.test. (',
  '\t\t2024061501 ; serial',
  '\t\t7200       ; refresh (2 hours)',
  '\t\t3600       ; retry',
  '\t\t1209600    ; expire',
  '\t\t300 )      ; minimum',
  '',
  '\t\tNS\tns1',
  '\t\tNS\tns2.demo.test.',
  '\t\tMX\t10 mail',
  '\t\tTXT\t"v=spf1 mx -all"',
  'ns1\t300\tIN\tA\t192.0.2.53',
  'ns2\tIN\t300\tA\t198.51.100.53',
  'mail\t\tA\t192.0.2.25',
  '\t\tAAAA\t2001:db8::25',
  '_dmarc\tTXT\t"v=DMARC1; p=reject; rua=mailto:dmarc@demo.test" "second \\"part\\""',
  '_sip._tcp 600 SRV 10 60 5060 sip ; weight 60',
  '@\tCAA\t0 issue "letsencrypt.org"',
  '*\t60\tA\t192.0.2.80',
  '$TTL 2m',
  '$ORIGIN cdn',
  'www\tCNAME\tedge',
  'edge\tA\t192.0.2.1',
  '\tA\t192.0.2.2',
  '$INCLUDE pops.inc',
  'after\tA\t192.0.2.9',
  '',
].join('\r\n');

const POPS_INC = [
  '$ORIGIN pops.demo.test.',
  '$TTL 30',
  'fra A 192.0.2.101',
  '    A 192.0.2.102',
  'ams AAAA 2001:db8::101',
].join('\n');

describe('parseMasterFile on a realistic zone', () => {
  const included: string[] = [];
  const records = parse(DEMO_ZONE, {
    readInclude: (path) => {
      included.push(path);
      if (path === 'pops.inc') return POPS_INC;
      throw new Error('ENOENT');
    },
  });

  it('finds every record with its owner, TTL, type and rdata', () => {
    expect(records.map(brief)).toEqual([
      [
        'demo.test.',
        3600,
        'SOA',
        ['ns1.demo.test.', 'hostmaster.demo.test.', '2024061501', '7200', '3600', '1209600', '300'],
      ],
      ['demo.test.', 3600, 'NS', ['ns1']],
      ['demo.test.', 3600, 'NS', ['ns2.demo.test.']],
      ['demo.test.', 3600, 'MX', ['10', 'mail']],
      ['demo.test.', 3600, 'TXT', ['v=spf1 mx -all']],
      ['ns1.demo.test.', 300, 'A', ['192.0.2.53']],
      ['ns2.demo.test.', 300, 'A', ['198.51.100.53']],
      ['mail.demo.test.', 3600, 'A', ['192.0.2.25']],
      ['mail.demo.test.', 3600, 'AAAA', ['2001:db8::25']],
      ['_dmarc.demo.test.', 3600, 'TXT', ['v=DMARC1; p=reject; rua=mailto:dmarc@demo.test', 'second \\"part\\"']],
      ['_sip._tcp.demo.test.', 600, 'SRV', ['10', '60', '5060', 'sip']],
      ['demo.test.', 3600, 'CAA', ['0', 'issue', 'letsencrypt.org']],
      ['*.demo.test.', 60, 'A', ['192.0.2.80']],
      ['www.cdn.demo.test.', 120, 'CNAME', ['edge']],
      ['edge.cdn.demo.test.', 120, 'A', ['192.0.2.1']],
      ['edge.cdn.demo.test.', 120, 'A', ['192.0.2.2']],
      ['fra.pops.demo.test.', 30, 'A', ['192.0.2.101']],
      ['fra.pops.demo.test.', 30, 'A', ['192.0.2.102']],
      ['ams.pops.demo.test.', 30, 'AAAA', ['2001:db8::101']],
      // The include's $ORIGIN does not leak back; its $TTL does.
      ['after.cdn.demo.test.', 30, 'A', ['192.0.2.9']],
    ]);
    expect(included).toEqual(['pops.inc']);
  });

  it('marks quoted rdata tokens', () => {
    const dmarc = records.find((r) => r.owner === '_dmarc.demo.test.');
    expect(dmarc?.rdata.map((t) => t.quoted)).toEqual([true, true]);
    const caa = records.find((r) => r.type === 'CAA');
    expect(caa?.rdata.map((t) => t.quoted)).toEqual([false, false, true]);
  });

  it('gives each record the origin to resolve its rdata names against', () => {
    expect(records.find((r) => r.type === 'MX')?.origin).toBe('demo.test.');
    expect(records.find((r) => r.type === 'CNAME')?.origin).toBe('cdn.demo.test.');
    expect(records.find((r) => r.owner.startsWith('fra.'))?.origin).toBe('pops.demo.test.');
    expect(records.at(-1)?.origin).toBe('cdn.demo.test.');
  });

  it('records the file and the line each record starts on', () => {
    const where = (owner: string, type: string) => {
      const r = records.find((x) => x.owner === owner && x.type === type);
      return r && `${r.file}:${r.line}`;
    };
    expect(where('demo.test.', 'SOA')).toBe('demo.zone:3');
    expect(where('demo.test.', 'MX')).toBe('demo.zone:12');
    expect(where('ams.pops.demo.test.', 'AAAA')).toBe('pops.inc:5');
    expect(where('after.cdn.demo.test.', 'A')).toBe('demo.zone:28');
  });
});

describe('parseMasterFile names', () => {
  it('resolves @, relative and absolute owners, keeping case and escapes', () => {
    const recs = parse('@ 1 A 1.2.3.4\nWWW 1 A 1.2.3.4\na\\.b 1 TXT x\nother.example. 1 A 1.2.3.4\n\\@ 1 TXT y');
    expect(recs.map((r) => r.owner)).toEqual([
      'demo.test.',
      'WWW.demo.test.',
      'a\\.b.demo.test.',
      'other.example.',
      '\\@.demo.test.',
    ]);
  });

  it('treats an escaped final dot as part of a relative name', () => {
    expect(parse('a\\. 1 TXT x')[0]?.owner).toBe('a\\..demo.test.');
  });

  it('resolves a relative $ORIGIN against the current one, and an absolute one as is', () => {
    const recs = parse('$ORIGIN sub\nx 1 A 1.2.3.4\n$ORIGIN deeper\ny 1 A 1.2.3.4\n$ORIGIN other.\nz 1 A 1.2.3.4');
    expect(recs.map((r) => r.owner)).toEqual(['x.sub.demo.test.', 'y.deeper.sub.demo.test.', 'z.other.']);
  });

  it('handles the root as origin', () => {
    const recs = parseMasterFile('com 1 NS a.gtld\n@ 1 NS b', { origin: '.', file: 'root.zone' });
    expect(recs.map((r) => r.owner)).toEqual(['com.', '.']);
  });

  it('takes the first token of an unindented line as the owner, even if it looks like a type', () => {
    const recs = parse('A 60 A 192.0.2.1\nIN IN A 192.0.2.2\nmx MX 10 A', { defaultTtl: 5 });
    expect(recs.map(brief)).toEqual([
      ['A.demo.test.', 60, 'A', ['192.0.2.1']],
      ['IN.demo.test.', 5, 'A', ['192.0.2.2']],
      ['mx.demo.test.', 5, 'MX', ['10', 'A']],
    ]);
  });

  it('rejects empty labels, oversized labels and names', () => {
    expect(errorOf('a..b 1 A 1.2.3.4').message).toMatch(/^demo\.zone:1: empty label/);
    expect(errorOf('.a 1 A 1.2.3.4').message).toMatch(/empty label/);
    expect(errorOf('\n$ORIGIN a..b.').message).toMatch(/^demo\.zone:2: empty label/);
    expect(errorOf(`${'x'.repeat(64)} 1 A 1.2.3.4`).message).toMatch(/label longer than 63/);
    expect(parse(`${'x'.repeat(63)} 1 A 1.2.3.4`)).toHaveLength(1);
    // 61 labels of 'abc' are 244 wire octets; with 'demo.test.' (11) exactly 255 fit.
    const labels = (n: number) => Array.from({ length: n }, () => 'abc').join('.');
    expect(parse(`${labels(61)} 1 A 1.2.3.4`)).toHaveLength(1);
    expect(errorOf(`${labels(62)} 1 A 1.2.3.4`).message).toMatch(/longer than 255 octets/);
    expect(errorOf(`$ORIGIN ${labels(62)}`).message).toMatch(/longer than 255 octets/);
    expect(errorOf('"quoted" 1 A 1.2.3.4').message).toMatch(/must not be quoted/);
    expect(errorOf('a\\999 1 A 1.2.3.4').message).toMatch(/above 255/);
  });

  it('counts \\DDD as one octet when checking label length', () => {
    expect(parse(`${'\\065'.repeat(63)} 1 A 1.2.3.4`)).toHaveLength(1);
    expect(errorOf(`${'\\065'.repeat(64)} 1 A 1.2.3.4`).message).toMatch(/label longer than 63/);
  });
});

describe('parseMasterFile TTL and class', () => {
  it('accepts TTL and class in either order, or neither', () => {
    const recs = parse('$TTL 99\na 300 IN A 1.1.1.1\nb IN 300 A 1.1.1.1\nc A 1.1.1.1\nd IN A 1.1.1.1\ne 5m A 1.1.1.1');
    expect(recs.map((r) => r.ttl)).toEqual([300, 300, 99, 99, 300]);
    expect(recs.map((r) => r.type)).toEqual(['A', 'A', 'A', 'A', 'A']);
  });

  it('accepts TTL and class on a blank-owner line', () => {
    expect(parse('$TTL 1\na A 1.1.1.1\n  IN 7 A 2.2.2.2').map(brief)[1]).toEqual(['a.demo.test.', 7, 'A', ['2.2.2.2']]);
  });

  it('defaults the TTL to $TTL, then opts.defaultTtl, then the SOA minimum', () => {
    expect(parse('a A 1.1.1.1', { defaultTtl: 42 })[0]?.ttl).toBe(42);
    expect(parse('$TTL 7\na A 1.1.1.1', { defaultTtl: 42 })[0]?.ttl).toBe(7);
    const soaFirst = parse('@ SOA ns host ( 1 2 3 4 1h )\na A 1.1.1.1');
    expect(soaFirst.map((r) => r.ttl)).toEqual([3600, 3600]);
    expect(parse('@ 60 SOA ns host 1 2 3 4 500\na A 1.1.1.1').map((r) => r.ttl)).toEqual([60, 500]);
    expect(parse('@ SOA ns host 1 2 3 4 500\n$TTL 10\na A 1.1.1.1').map((r) => r.ttl)).toEqual([500, 10]);
  });

  it('fails when no TTL can be found', () => {
    expect(errorOf('a A 1.1.1.1').message).toBe('demo.zone:1: no TTL for record and no $TTL');
    expect(errorOf('a A 1.1.1.1\n@ SOA ns host 1 2 3 4 5').line).toBe(1);
    expect(errorOf('a 5 A 1.1.1.1\nb A 1.1.1.1').message).toBe('demo.zone:2: no TTL for record and no $TTL');
  });

  it('reports bad TTLs where they are', () => {
    expect(errorOf('$TTL 1\n\na 1x A 1.1.1.1').message).toMatch(/^demo\.zone:3: bad TTL '1x'/);
    expect(errorOf('$TTL forever').message).toMatch(/^demo\.zone:1: bad TTL 'forever'/);
    expect(errorOf('$TTL 4294967295').message).toMatch(/^demo\.zone:1: TTL .* larger than/);
    expect(errorOf('$TTL').message).toBe('demo.zone:1: $TTL takes exactly one TTL');
  });

  it('accepts IN (and CLASS1) only, naming any other class', () => {
    expect(parse('a IN A 1.1.1.1\nb class1 A 1.1.1.1\nc in a 1.1.1.1', { defaultTtl: 1 })).toHaveLength(3);
    expect(errorOf('$TTL 1\nversion CH TXT "x"').message).toBe('demo.zone:2: class CH is not supported (only IN)');
    expect(errorOf('a 1 HS A 1.1.1.1').message).toMatch(/class HS is not supported/);
    expect(errorOf('a 1 CLASS3 A 1.1.1.1').message).toMatch(/class CLASS3/);
  });
});

describe('parseMasterFile record types and rdata', () => {
  it('upper-cases mnemonics and normalises RFC 3597 generic types', () => {
    const recs = parse('a 1 aaaa ::1\nb 1 type65280 \\# 4 0A000001\nc 1 TYPE001 \\# 0', {});
    expect(recs.map(brief)).toEqual([
      ['a.demo.test.', 1, 'AAAA', ['::1']],
      ['b.demo.test.', 1, 'TYPE65280', ['\\#', '4', '0A000001']],
      ['c.demo.test.', 1, 'TYPE1', ['\\#', '0']],
    ]);
  });

  it('rejects what cannot be a type', () => {
    expect(errorOf('a 1 IN').message).toBe('demo.zone:1: missing record type');
    expect(errorOf('a').message).toBe('demo.zone:1: missing record type');
    expect(errorOf('a 1 "A" 1.1.1.1').message).toMatch(/bad record type 'A'/);
    expect(errorOf('a 1 TYPE70000 \\# 0').message).toMatch(/bad record type 'TYPE70000'/);
    expect(errorOf('a 1 IN 1.2.3.4').message).toMatch(/bad record type '1.2.3.4'/);
    expect(errorOf('a IN 1.2.3.4').message).toMatch(/bad TTL '1.2.3.4'/);
  });

  it('joins parenthesised lines and drops comments inside them', () => {
    const text = [
      'k._domainkey 1 IN TXT ( "v=DKIM1; k=rsa; " ; first half',
      '   "p=MIIBIjAN\\"x\\"" ) ; second half',
      'next 1 A 1.2.3.4',
    ].join('\n');
    const recs = parse(text);
    expect(recs.map(brief)).toEqual([
      ['k._domainkey.demo.test.', 1, 'TXT', ['v=DKIM1; k=rsa; ', 'p=MIIBIjAN\\"x\\"']],
      ['next.demo.test.', 1, 'A', ['1.2.3.4']],
    ]);
    expect(recs.map((r) => r.line)).toEqual([1, 3]);
  });

  it('allows parentheses anywhere in a record, and several pairs', () => {
    expect(parse('(a 1\n A) (1.2.3.4)').map(brief)).toEqual([['a.demo.test.', 1, 'A', ['1.2.3.4']]]);
  });

  it('accepts an empty file and one with only comments and blank lines', () => {
    expect(parse('')).toEqual([]);
    expect(parse('\n\n; nothing here\r\n   \t\n')).toEqual([]);
  });

  it('ignores a byte-order mark at the start', () => {
    expect(parse('\uFEFF$TTL 5\na A 1.1.1.1')[0]?.ttl).toBe(5);
  });
});

describe('parseMasterFile blank owners', () => {
  it('repeats the previous owner across $ORIGIN and $TTL changes', () => {
    const recs = parse('$TTL 1\nwww A 1.1.1.1\n$ORIGIN other.\n\tA 2.2.2.2');
    expect(recs.map((r) => [r.owner, r.origin])).toEqual([
      ['www.demo.test.', 'demo.test.'],
      ['www.demo.test.', 'other.'],
    ]);
  });

  it('fails with no previous owner', () => {
    expect(errorOf('$TTL 1\n  A 1.1.1.1').message).toBe(
      'demo.zone:2: line starts with a blank but there is no previous owner to repeat',
    );
  });

  it('rejects an indented directive', () => {
    expect(errorOf('a 1 A 1.1.1.1\n  $TTL 5').message).toMatch(/^demo\.zone:2: directive \$TTL must start/);
  });
});

describe('parseMasterFile directives', () => {
  it('reads directive names in any case', () => {
    expect(parse('$ttl 5\n$origin x\na A 1.1.1.1')[0]).toMatchObject({ owner: 'a.x.demo.test.', ttl: 5 });
  });

  it('rejects unknown directives and wrong arguments', () => {
    expect(errorOf('$TTL 1\n$GENERATE 1-10 a$ A 1.1.1.$').message).toBe('demo.zone:2: unknown directive $GENERATE');
    expect(errorOf('$FOO').message).toBe('demo.zone:1: unknown directive $FOO');
    expect(errorOf('$ORIGIN').message).toBe('demo.zone:1: $ORIGIN takes exactly one name');
    expect(errorOf('$ORIGIN a. b.').message).toBe('demo.zone:1: $ORIGIN takes exactly one name');
  });

  it('treats a quoted or escaped $ owner as a name', () => {
    expect(parse('\\$x 1 A 1.1.1.1')[0]?.owner).toBe('\\$x.demo.test.');
  });
});

describe('parseMasterFile $INCLUDE', () => {
  const files: Record<string, string> = {
    'a.inc': 'x A 1.1.1.1\n$ORIGIN elsewhere.\ny A 2.2.2.2',
    'bad.inc': '$TTL 1\nok A 1.1.1.1\nbad CH A 1.1.1.1',
    'blank.inc': '  A 1.1.1.1',
    'self.inc': '$INCLUDE self.inc',
    'spaced name.inc': 's A 3.3.3.3',
  };
  const readInclude = (path: string): string => {
    const text = files[path];
    if (text === undefined) throw new Error(`ENOENT: no such file '${path}'`);
    return text;
  };

  it('parses the included file with the given origin, relative to the current one', () => {
    const recs = parse('$TTL 1\n$INCLUDE a.inc sub ; comment\nz A 3.3.3.3', { readInclude });
    expect(recs.map((r) => [r.owner, r.file, r.line])).toEqual([
      ['x.sub.demo.test.', 'a.inc', 1],
      ['y.elsewhere.', 'a.inc', 3],
      ['z.demo.test.', 'demo.zone', 3],
    ]);
  });

  it('keeps the parent owner for blank-owner lines after an include', () => {
    const recs = parse('$TTL 1\nw A 1.1.1.1\n$INCLUDE a.inc\n  A 9.9.9.9', { readInclude });
    expect(recs.at(-1)?.owner).toBe('w.demo.test.');
  });

  it('does not let the parent owner leak into the included file', () => {
    expect(errorOf('$TTL 1\nw A 1.1.1.1\n$INCLUDE blank.inc', { readInclude }).message).toMatch(
      /^blank\.inc:1: line starts with a blank/,
    );
  });

  it('accepts a quoted file name', () => {
    expect(parse('$TTL 1\n$INCLUDE "spaced name.inc"', { readInclude })[0]?.owner).toBe('s.demo.test.');
  });

  it('reports errors in the included file at its own file and line', () => {
    const err = errorOf('$TTL 1\n$INCLUDE bad.inc', { readInclude });
    expect([err.file, err.line, err.message]).toEqual(['bad.inc', 3, 'bad.inc:3: class CH is not supported (only IN)']);
  });

  it('fails without readInclude, on unreadable files, and past depth 10', () => {
    expect(errorOf('\n$INCLUDE a.inc').message).toBe(
      'demo.zone:2: $INCLUDE is not allowed here (no way to read included files)',
    );
    expect(errorOf('$INCLUDE missing.inc', { readInclude }).message).toBe(
      "demo.zone:1: cannot read $INCLUDE file 'missing.inc': ENOENT: no such file 'missing.inc'",
    );
    expect(errorOf('$INCLUDE self.inc', { readInclude }).message).toBe('self.inc:1: $INCLUDE nested more than 10 deep');
    expect(errorOf('$INCLUDE', { readInclude }).message).toMatch(/takes a file name/);
  });

  it('follows exactly ten levels of nesting', () => {
    const chain = (path: string) => {
      const n = Number(path.slice(1));
      return n < 10 ? `$INCLUDE f${n + 1}` : 'deep 1 A 1.1.1.1';
    };
    expect(parse('$INCLUDE f1', { readInclude: chain })[0]?.file).toBe('f10');
    const eleven = (path: string) => {
      const n = Number(path.slice(1));
      return n < 11 ? `$INCLUDE f${n + 1}` : 'deep 1 A 1.1.1.1';
    };
    expect(errorOf('$INCLUDE f1', { readInclude: eleven }).message).toBe('f10:1: $INCLUDE nested more than 10 deep');
  });
});

describe('parseMasterFile syntax errors', () => {
  it('reports an unclosed parenthesis at the line it opened on', () => {
    const err = errorOf('$TTL 1\n@ SOA ns host (\n 1 2 3\n 4 5\n\nwww A 1.1.1.1');
    expect(err.message).toBe("demo.zone:2: '(' is never closed");
    expect([err.file, err.line]).toEqual(['demo.zone', 2]);
  });

  it('reports a stray or nested parenthesis where it is', () => {
    expect(errorOf('$TTL 1\na A 1.1.1.1 )').message).toBe("demo.zone:2: ')' without a matching '('");
    expect(errorOf('a 1 TXT ( "x"\n ( "y" ) )').message).toMatch(
      /^demo\.zone:2: nested '\(' \(the open one is on line 1\)/,
    );
  });

  it('reports an unterminated quote at the line it began on', () => {
    expect(errorOf('$TTL 1\na TXT ( "abc\n def" )').message).toBe('demo.zone:2: unterminated quoted string');
    expect(errorOf('a 1 TXT "abc\\"').message).toBe('demo.zone:1: unterminated quoted string');
  });

  it('reports a dangling backslash', () => {
    expect(errorOf('\n\na\\').message).toBe('demo.zone:3: backslash at end of line');
  });

  it('rejects an origin option that is not absolute', () => {
    expect(() => parse('', { origin: 'demo.test' })).toThrow(/not absolute/);
  });
});

describe('parseMasterFile on arbitrary input', () => {
  // Fragments that reach the interesting paths far more often than random characters would.
  const fragment = fc.constantFrom(
    '$ORIGIN',
    '$TTL',
    '$INCLUDE',
    '$FOO',
    '(',
    ')',
    '"',
    '\\',
    '\\"',
    '\\065',
    '\\999',
    ';',
    ' ',
    '\t',
    '\n',
    '\r\n',
    '@',
    '.',
    '..',
    'a',
    'www',
    'IN',
    'CH',
    'A',
    'SOA',
    'TXT',
    'TYPE65280',
    '\\#',
    '300',
    '1h',
    '1x',
    '99999999999',
    'x'.repeat(64),
    'inc',
  );
  // Lines shaped like records, so that many inputs parse and later lines see earlier state.
  const recordLine = fc
    .tuple(
      fc.constantFrom('@', 'www', '*', ' ', '\t', '$TTL', '$ORIGIN', '$INCLUDE', 'sub.', 'a..b'),
      fc.constantFrom('', '300', '1h', 'IN', 'CH', '300 IN', 'IN 5m', '1x'),
      fc.constantFrom('A', 'TXT', 'SOA', 'type65280', 'MX', '"A"', ''),
      fc.array(fc.constantFrom('1.2.3.4', '"a ; b"', '(', ')', '\\# 1 00', 'ns', '1', ';c', '\\'), { maxLength: 8 }),
    )
    .map(([owner, ttlClass, type, rdata]) => [owner, ttlClass, type, ...rdata].join(' '));
  const zoneish = fc.oneof(
    fc.array(recordLine, { maxLength: 12 }).map((lines) => lines.join('\n')),
    fc
      .array(fc.tuple(fragment, fc.constantFrom(' ', ' ', ' ', '\n', '')), { maxLength: 60 })
      .map((parts) => parts.flat().join('')),
    fc.string({ unit: 'binary', maxLength: 300 }),
  );

  it('returns records or throws MasterFileError, never anything else', () => {
    fc.assert(
      fc.property(zoneish, zoneish, fc.option(fc.nat(1000)), (text, inc, defaultTtl) => {
        const opts: MasterFileOptions = { origin: ORIGIN, file: 'fuzz.zone', readInclude: () => inc };
        if (defaultTtl !== null) opts.defaultTtl = defaultTtl;
        try {
          for (const r of parseMasterFile(text, opts)) {
            expect(r.owner.endsWith('.')).toBe(true);
            expect(r.ttl).toBeGreaterThanOrEqual(0);
            expect(r.type).toMatch(/^[A-Z][A-Z0-9-]*$/);
          }
        } catch (err) {
          expect(err).toBeInstanceOf(MasterFileError);
          expect(err).not.toBeInstanceOf(TextError);
          expect((err as Error).message).toMatch(/^[^:]+:\d+: /);
        }
      }),
      { numRuns: 3000 },
    );
  });

  it('ends on a file that includes itself', () => {
    const text = '$INCLUDE me\n$INCLUDE me\n$INCLUDE me';
    expect(errorOf(text, { readInclude: () => text }).message).toMatch(/nested more than 10 deep/);
  });
});
