// The dnsperf query files, one row of the table each: "static A" (a static record, both servers),
// "routed + ECS" (a routed name queried with EDNS Client Subnet, dnsperf -E; Meridian only: gdnsd
// would need its geoip plugin) and "mixed" (a spread of names and types, no ECS, both servers).
// The mixed file is drawn with a fixed seed, so every run sends the same queries.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { mulberry32 } from '../lib.mjs';
import { DNSPERF_BASE } from './dnsperf.mjs';

function randomLabel(rnd, len = 10) {
  const chars = 'abcdefghijklmnopqrstuvwxyz0123456789';
  let s = '';
  for (let i = 0; i < len; i++) s += chars[Math.floor(rnd() * chars.length)];
  return s;
}

// A static A record (config/zones/demo.test.extra.zone): the same work for Meridian and gdnsd.
export const STATIC_NAME = 'api.demo.test';
export const STATIC_LINES = ['api.demo.test A', 'API.Demo.Test A', 'api.DEMO.TEST A', 'Api.demo.test A'];
// A routed name (`routes:` in config/demo.yaml), queried with ECS (see ecs.mjs).
export const ROUTED_NAME = 'www.demo.test';
export const ROUTED_LINES = ['www.demo.test A', 'WWW.Demo.Test A', 'www.DEMO.TEST A', 'Www.demo.test A'];

// What the "mixed" file is made of: [weight, kind, generator].
export const MIXED_KINDS = [
  [10, 'A', () => 'www.demo.test A'],
  [5, 'A', () => 'api.demo.test A'],
  [3, 'A', () => 'mail.demo.test A'],
  [2, 'A', () => 'ns1.demo.test A'],
  [8, 'AAAA', () => 'www.demo.test AAAA'],
  [4, 'AAAA', () => 'api.demo.test AAAA'],
  [3, 'AAAA', () => 'ns1.demo.test AAAA'],
  [10, 'MX', () => 'demo.test MX'],
  [6, 'TXT', () => 'demo.test TXT'],
  [4, 'TXT', () => '_dmarc.demo.test TXT'],
  [15, 'NXDOMAIN', (rnd) => `${randomLabel(rnd)}.demo.test A`],
  [10, 'wildcard', (rnd) => `${randomLabel(rnd)}.cdn.demo.test A`],
  [5, 'wildcard', (rnd) => `${randomLabel(rnd)}.cdn.demo.test AAAA`],
  [5, 'CNAME', () => 'docs.demo.test A'],
  [4, 'CNAME', () => 'status.demo.test A'],
  [3, 'CNAME', () => 'static.demo.test A'],
  [3, 'CNAME', () => 'docs.demo.test CNAME'],
];

/** The mixed file: `count` lines drawn by weight from MIXED_KINDS with a fixed seed. */
export function mixedLines(count = 4000) {
  const rnd = mulberry32(0x6d657269);
  const total = MIXED_KINDS.reduce((s, [w]) => s + w, 0);
  const lines = [];
  for (let i = 0; i < count; i++) {
    let x = rnd() * total;
    const kind = MIXED_KINDS.find(([w]) => (x -= w) < 0) ?? MIXED_KINDS[0];
    lines.push(kind[2](rnd));
  }
  return lines;
}

/** The mixed file's share of each kind, for the report ("A 20%, AAAA 15%, ..."). */
export function mixedDescription() {
  const total = MIXED_KINDS.reduce((s, [w]) => s + w, 0);
  const byKind = new Map();
  for (const [w, kind] of MIXED_KINDS) byKind.set(kind, (byKind.get(kind) ?? 0) + w);
  return [...byKind].map(([k, w]) => `${k} ${Math.round((100 * w) / total)}%`).join(', ');
}

/**
 * Writes the three query files into `dir` and returns them as the table's rows: key, label, path,
 * lines, and `procs`, the options of each dnsperf process that sends the file (one process with
 * DNSPERF_BASE, except routed + ECS, whose processes carry the -E option: `routedProcs`).
 */
export function writeQueryFiles(dir, routedProcs) {
  const files = [
    { key: 'static', label: 'static A', path: join(dir, 'static-a.txt'), lines: STATIC_LINES, procs: [DNSPERF_BASE] },
    {
      key: 'routed',
      label: 'routed + ECS',
      path: join(dir, 'routed-ecs.txt'),
      lines: ROUTED_LINES,
      procs: routedProcs,
      meridianOnly: true,
    },
    { key: 'mixed', label: 'mixed', path: join(dir, 'mixed.txt'), lines: mixedLines(), procs: [DNSPERF_BASE] },
  ];
  for (const f of files) writeFileSync(f.path, `${f.lines.join('\n')}\n`);
  return files;
}
