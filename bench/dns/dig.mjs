// dig, as the bench uses it: one question to one server, the answer read back as text (rcode, AA
// flag, ECS echo, answer RRs). It checks what the servers answer; dnsperf does the load.
import { HOST, commandExists, run } from '../lib.mjs';

let installed;
/** Whether dig is on PATH (asked once). */
export function digInstalled() {
  installed ??= commandExists('dig');
  return installed;
}

/** `dig NAME TYPE` to HOST:`port` without recursion: status, AA flag, the ECS echo (address/source/scope) and the answer RRs. */
export async function dig(port, name, type, extra = []) {
  if (!digInstalled()) throw new Error('dig is not installed (apt-get install bind9-dnsutils)');
  const r = await run('dig', [
    '+norec',
    '+tries=1',
    '+time=2',
    '+noall',
    '+comments',
    '+answer',
    ...extra,
    '-p',
    String(port),
    `@${HOST}`,
    name,
    type,
  ]);
  const status = r.out.match(/status: (\w+)/)?.[1] ?? 'NO-ANSWER';
  const aa = /flags:[^;]*\baa\b/.test(r.out);
  const ecs = r.out.match(/CLIENT-SUBNET: (\S+)/)?.[1] ?? null; // address/source/scope
  const rrs = r.out
    .split('\n')
    .filter((l) => l && !l.startsWith(';'))
    .map((l) => {
      const [owner, ttl, cls, rtype, ...rdata] = l.split(/\s+/);
      return { owner: owner.toLowerCase(), ttl: Number(ttl), cls, type: rtype, rdata: rdata.join(' ') };
    });
  return { status, aa, rrs, ecs };
}

/** Just the answer RRs. */
export async function digRecords(port, name, type) {
  return (await dig(port, name, type)).rrs;
}

/** A query-file line ("name TYPE") asked with dig, in the form answerText() compares: TTLs dropped, RRs sorted. */
export async function digAnswer(port, line) {
  const [name, type] = line.split(/\s+/);
  const a = await dig(port, name, type);
  return { status: a.status, aa: a.aa, rrs: a.rrs.map((rr) => `${rr.owner} ${rr.cls} ${rr.type} ${rr.rdata}`).sort() };
}

/** An answer as one comparable line: rcode, "aa", the RRs without TTLs, sorted. */
export const answerText = (a) => `${a.status}${a.aa ? ' aa' : ''} [${a.rrs.join('; ')}]`;
