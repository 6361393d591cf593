// `meridian pop ACTION ID`: PoP drills and overrides.
//  - drain|undrain|down|auto: admin overrides on a running DNS server. A drained PoP gets no new
//    answers but stays monitored; `auto` (or `undrain`) returns it to the quorum.
//  - kill|revive: ask `meridian up` to stop a PoP's edge and keep it down (a real outage, as the
//    probers see it), or to start it again.
import { parseArgs } from 'node:util';
import { request } from 'undici';
import { CONTROL_TOKEN_ENV } from '../common/control-token.js';
import { DEFAULT_UP_CONTROL } from './up.js';

const OVERRIDES = ['drain', 'undrain', 'down', 'auto'];
const DRILLS = ['kill', 'revive'];

const USAGE = `usage: meridian pop ${OVERRIDES.join('|')} ID [--control URL]   (DNS server overrides; default http://127.0.0.1:8053)
       meridian pop ${DRILLS.join('|')} ID [--up URL]                (outage drills under \`meridian up\`; default http://${DEFAULT_UP_CONTROL})
  (a control token, if one is set, is read from ${CONTROL_TOKEN_ENV})
`;

export async function runPop(args: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args, allowPositionals: true, options: { control: { type: 'string' }, up: { type: 'string' } } });
  } catch (e) {
    process.stderr.write(`meridian pop: ${(e as Error).message}\n${USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  const [action, pop] = positionals;
  const isDrill = action !== undefined && DRILLS.includes(action);
  if (!action || !pop || positionals.length > 2 || (!isDrill && !OVERRIDES.includes(action))) {
    process.stderr.write(USAGE);
    return 2;
  }
  // Each action talks to one server; a flag for the other one is a mistake worth saying.
  if (isDrill && values.control !== undefined) {
    process.stderr.write(`meridian pop ${action}: --control is the DNS server's; \`pop ${action}\` talks to \`meridian up\`: use --up URL\n`);
    return 2;
  }
  if (!isDrill && values.up !== undefined) {
    process.stderr.write(`meridian pop ${action}: --up is for kill|revive; \`pop ${action}\` talks to the DNS server: use --control URL\n`);
    return 2;
  }
  return isDrill ? drill(action as 'kill' | 'revive', pop, values.up ?? `http://${DEFAULT_UP_CONTROL}`) : override(action, pop, values.control ?? 'http://127.0.0.1:8053');
}

function authHeaders(): Record<string, string> {
  const token = process.env[CONTROL_TOKEN_ENV];
  return { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) };
}

async function override(action: string, pop: string, control: string): Promise<number> {
  let res;
  try {
    res = await request(new URL('/v1/pops/override', control), {
      method: 'POST',
      headers: authHeaders(),
      body: JSON.stringify({ pop, action }),
      headersTimeout: 5000,
      bodyTimeout: 5000,
    });
  } catch (e) {
    process.stderr.write(`meridian pop: cannot reach the DNS server's control port at ${control}: ${(e as Error).message}\n`);
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

async function drill(action: 'kill' | 'revive', pop: string, upUrl: string): Promise<number> {
  let base: URL;
  try {
    base = new URL(upUrl);
  } catch {
    process.stderr.write(`meridian pop ${action}: --up '${upUrl}' is not a URL (e.g. http://${DEFAULT_UP_CONTROL})\n`);
    return 2;
  }
  let res;
  try {
    // Revive answers once the edge serves again (bounded on up's side), hence the longer wait.
    res = await request(new URL(`/v1/pops/${encodeURIComponent(pop)}/${action}`, base), { method: 'POST', headers: authHeaders(), headersTimeout: 20_000, bodyTimeout: 20_000 });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ECONNREFUSED' ? 'nothing listens there' : (e as Error).message;
    process.stderr.write(`meridian pop ${action}: cannot reach \`meridian up\` at ${base.origin} (${why}). Is it running? Start it with \`npm start\`, or give its --control address as --up URL.\n`);
    return 1;
  }
  const text = await res.body.text();
  let body: { error?: string; pop?: string; edge?: string; state?: string; changed?: boolean; pid?: number | null } = {};
  try {
    body = JSON.parse(text) as typeof body;
  } catch {
    // Not up's control API: said below.
  }
  if (res.statusCode === 404) {
    const known = await knownPops(base);
    process.stderr.write(
      known ? `meridian pop ${action}: \`meridian up\` at ${base.origin} runs no PoP '${pop}' (it runs: ${known.join(', ')})\n` : `meridian pop ${action}: ${base.origin} does not look like \`meridian up\`'s control API (HTTP 404)\n`,
    );
    return 1;
  }
  if (res.statusCode !== 200 || body.state === undefined) {
    process.stderr.write(`meridian pop ${action}: ${body.error ?? `HTTP ${res.statusCode} from ${base.origin}`}\n`);
    return 1;
  }
  const line =
    action === 'kill'
      ? body.changed
        ? `${pop}: edge killed (${body.edge}); it stays down until \`meridian pop revive ${pop}\`. Probers will see it refuse connections and the DNS answers move within seconds.`
        : `${pop}: edge was already killed`
      : body.changed
        ? `${pop}: edge ${body.state === 'running' ? 'serving again' : `started (${body.state})`} on ${body.edge}${body.pid ? ` (pid ${body.pid})` : ''}; answers return once the probers see it up.`
        : `${pop}: edge was not killed (${body.state})`;
  process.stdout.write(`${line}\n`);
  return 0;
}

async function knownPops(base: URL): Promise<string[] | undefined> {
  try {
    const res = await request(new URL('/v1/processes', base), { headersTimeout: 5000, bodyTimeout: 5000 });
    const body = (await res.body.json()) as { processes?: { role: string; pop: string | null }[] };
    if (res.statusCode !== 200 || !Array.isArray(body.processes)) return undefined;
    return body.processes.filter((p) => p.role === 'edge' && p.pop !== null).map((p) => p.pop!);
  } catch {
    return undefined;
  }
}
