// `meridian status`: the CDN at a glance from a running DNS server: every PoP's quorum verdict,
// whether it is answered and why, each vantage point's vote and RTT, admin overrides, and the
// cache figures of its edge.
import { controlUrl } from './control-url.js';
import { exitFor, parseCommandLine, usageError } from './flags.js';
import { collectStatus, ControlError } from './status/collect.js';
import { formatStatus } from './status/format.js';
import { CONTROL_URL_ENV, DEFAULT_CONTROL_URL } from '../common/control-defaults.js';

export const STATUS_COMMAND = {
  name: 'status',
  usage: `usage: meridian status [--control URL] [--json]
  --control URL     the DNS server's control port (default $${CONTROL_URL_ENV}, else ${DEFAULT_CONTROL_URL})
  --json            print one JSON document
`,
  flags: {
    control: { type: 'string' },
    json: { type: 'boolean' },
  },
} as const;

// Short: status is read by people waiting at a terminal. The edges are asked all at once.
const CONTROL_TIMEOUT_MS = 3000;
const EDGE_TIMEOUT_MS = 1500;

export async function runStatus(args: string[]): Promise<number> {
  const line = parseCommandLine(STATUS_COMMAND, args);
  if (line.kind !== 'run') return exitFor(STATUS_COMMAND, line);
  const target = controlUrl(line.flags.control);
  if (!target.ok) return usageError(STATUS_COMMAND, target.message);
  const control = target.url;
  const json = line.flags.json ?? false;
  let report;
  try {
    report = await collectStatus(control, { controlTimeoutMs: CONTROL_TIMEOUT_MS, edgeTimeoutMs: EDGE_TIMEOUT_MS });
  } catch (e) {
    if (!(e instanceof ControlError)) throw e;
    process.stderr.write(`meridian status: ${e.message}\n`);
    return 1;
  }
  process.stdout.write(json ? `${JSON.stringify(report, null, 2)}\n` : formatStatus(report));
  return 0;
}
