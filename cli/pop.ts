// `meridian pop ACTION ID`: PoP drills and overrides. One --control URL: the control port of the
// server the action goes to, which the action decides.
//  - drain|undrain|down|auto: admin overrides on a running DNS server. A drained PoP gets no new
//    answers but stays monitored, and its anycast announcer (which reads the override in the
//    reply to its reports) withdraws its routes; `auto` (or `undrain`) returns it to the quorum
//    and the routes come back after `rise`. --control
//    defaults like every client's: $MERIDIAN_CONTROL, else the DNS server's default address.
//  - kill|revive: ask `meridian up` to stop a PoP's edge and keep it down (a real outage, as the
//    probers see it), or to start it again. --control defaults to up's own default address;
//    $MERIDIAN_CONTROL names the DNS server, which runs no edges, so it is not used here.
import { request } from 'undici';
import { controlUrl } from './control-url.js';
import { exitFor, parseCommandLine, sayDeprecatedFlags, usageError } from './flags.js';
import { CONTROL_URL_ENV, DEFAULT_CONTROL_URL } from '../common/control-defaults.js';
import { CONTROL_TOKEN_ENV } from '../common/control-token.js';
import { DEFAULT_UP_CONTROL } from './up.js';

const OVERRIDES = ['drain', 'undrain', 'down', 'auto'];
const DRILLS = ['kill', 'revive'];

export const POP_COMMAND = {
  name: 'pop',
  usage: `usage: meridian pop ${OVERRIDES.join('|')} ID [--control URL]   (DNS server overrides; default $${CONTROL_URL_ENV}, else ${DEFAULT_CONTROL_URL})
       meridian pop ${DRILLS.join('|')} ID [--control URL]                (outage drills: URL is \`meridian up\`'s; default http://${DEFAULT_UP_CONTROL})
  (a control token, if one is set, is read from ${CONTROL_TOKEN_ENV}; --up is the deprecated spelling of --control for kill|revive)
`,
  flags: { control: { type: 'string', was: ['up'] } },
  positionals: { min: 2, max: 2, what: 'ACTION and ID' },
} as const;

export async function runPop(args: string[]): Promise<number> {
  const line = parseCommandLine(POP_COMMAND, args);
  if (line.kind !== 'run') return exitFor(POP_COMMAND, line);
  const [action, pop] = line.positionals as [string, string];
  const isDrill = DRILLS.includes(action);
  if (!isDrill && !OVERRIDES.includes(action)) return usageError(POP_COMMAND, `unknown action '${action}'`);
  // --up only ever meant `meridian up`: given to an override it is still the mistake it was.
  if (!isDrill && line.deprecated.length > 0) {
    return usageError(
      POP_COMMAND,
      `--up is for kill|revive; \`pop ${action}\` talks to the DNS server: use --control URL`,
    );
  }
  sayDeprecatedFlags(line);
  if (isDrill) return drill(action as 'kill' | 'revive', pop, line.flags.control ?? `http://${DEFAULT_UP_CONTROL}`);
  const target = controlUrl(line.flags.control);
  if (!target.ok) return usageError(POP_COMMAND, target.message);
  return override(action, pop, target.url);
}

function authHeaders(): Record<string, string> {
  const token = process.env[CONTROL_TOKEN_ENV];
  return { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) };
}

async function override(action: string, pop: string, control: URL): Promise<number> {
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
    process.stderr.write(
      `meridian pop: cannot reach the DNS server's control port at ${control.href}: ${(e as Error).message}\n`,
    );
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
    process.stderr.write(
      `meridian pop ${action}: --control '${upUrl}' is not a URL (e.g. http://${DEFAULT_UP_CONTROL})\n`,
    );
    return 2;
  }
  let res;
  try {
    // Revive answers once the edge serves again (bounded on up's side), hence the longer wait.
    res = await request(new URL(`/v1/pops/${encodeURIComponent(pop)}/${action}`, base), {
      method: 'POST',
      headers: authHeaders(),
      headersTimeout: 20_000,
      bodyTimeout: 20_000,
    });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ECONNREFUSED' ? 'nothing listens there' : (e as Error).message;
    process.stderr.write(
      `meridian pop ${action}: cannot reach \`meridian up\` at ${base.origin} (${why}). Is it running? Start it with \`npm start\`, or give its --control-listen address as --control URL.\n`,
    );
    return 1;
  }
  const text = await res.body.text();
  let body: { error?: string; pop?: string; edge?: string; state?: string; changed?: boolean; pid?: number | null } =
    {};
  try {
    body = JSON.parse(text) as typeof body;
  } catch {
    // Not up's control API: said below.
  }
  if (res.statusCode === 404) {
    const known = await knownPops(base);
    process.stderr.write(
      known
        ? `meridian pop ${action}: \`meridian up\` at ${base.origin} runs no PoP '${pop}' (it runs: ${known.join(', ')})\n`
        : `meridian pop ${action}: ${base.origin} does not look like \`meridian up\`'s control API (HTTP 404)\n`,
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
