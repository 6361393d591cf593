// `meridian pop drain|undrain|down|auto ID`: admin overrides on a running DNS server. A drained
// PoP gets no new answers but stays monitored; `auto` (or `undrain`) returns it to the quorum.
import { parseArgs } from 'node:util';
import { request } from 'undici';
import { CONTROL_TOKEN_ENV } from '../common/control-token.js';

const ACTIONS = ['drain', 'undrain', 'down', 'auto'];

export async function runPop(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { control: { type: 'string', default: 'http://127.0.0.1:8053' } },
  });
  const [action, pop] = positionals;
  if (!action || !pop || !ACTIONS.includes(action) || positionals.length > 2) {
    process.stderr.write(`usage: meridian pop ${ACTIONS.join('|')} ID [--control URL]\n  (the control token, if the server has one, is read from ${CONTROL_TOKEN_ENV})\n`);
    return 2;
  }
  const token = process.env[CONTROL_TOKEN_ENV];
  let res;
  try {
    res = await request(new URL('/v1/pops/override', values.control), {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify({ pop, action }),
      headersTimeout: 5000,
      bodyTimeout: 5000,
    });
  } catch (e) {
    process.stderr.write(`meridian pop: cannot reach the DNS server's control port at ${values.control}: ${(e as Error).message}\n`);
    return 1;
  }
  const body = (await res.body.json()) as { error?: string; pop?: string; eligible?: boolean; reason?: string };
  if (res.statusCode !== 200) {
    process.stderr.write(`meridian pop: ${body.error ?? `HTTP ${res.statusCode}`}\n`);
    return 1;
  }
  process.stdout.write(`${body.pop}: ${body.eligible ? 'answered' : 'not answered'} (${body.reason})\n`);
  return 0;
}
