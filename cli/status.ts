// `meridian status`: the CDN at a glance from a running DNS server: every PoP's quorum verdict,
// whether it is answered and why, each vantage point's vote and RTT, admin overrides, and the
// cache figures of its edge.
import { parseArgs } from 'node:util';
import { collectStatus, ControlError } from './status/collect.js';
import { formatStatus } from './status/format.js';

const USAGE = `usage: meridian status [--control URL] [--json]
  --control URL     the DNS server's control port (default http://127.0.0.1:8053)
  --json            print one JSON document
`;

// Short: status is read by people waiting at a terminal. The edges are asked all at once.
const CONTROL_TIMEOUT_MS = 3000;
const EDGE_TIMEOUT_MS = 1500;

export async function runStatus(args: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args,
      options: {
        control: { type: 'string', default: 'http://127.0.0.1:8053' },
        json: { type: 'boolean', default: false },
      },
    }));
  } catch (e) {
    process.stderr.write(`meridian status: ${(e as Error).message}\n${USAGE}`);
    return 2;
  }
  const control = URL.canParse(values.control) ? new URL(values.control) : undefined;
  if (!control || (control.protocol !== 'http:' && control.protocol !== 'https:')) {
    process.stderr.write(`meridian status: --control '${values.control}' is not an http(s) URL (e.g. http://127.0.0.1:8053)\n${USAGE}`);
    return 2;
  }
  let report;
  try {
    report = await collectStatus(control, { controlTimeoutMs: CONTROL_TIMEOUT_MS, edgeTimeoutMs: EDGE_TIMEOUT_MS });
  } catch (e) {
    if (!(e instanceof ControlError)) throw e;
    process.stderr.write(`meridian status: ${e.message}\n`);
    return 1;
  }
  process.stdout.write(values.json ? `${JSON.stringify(report, null, 2)}\n` : formatStatus(report));
  return 0;
}
