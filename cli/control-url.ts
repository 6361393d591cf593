// Where a client command (`status`, `explain`, `pop`) finds the DNS server's control port:
// --control URL, else $MERIDIAN_CONTROL, else the default address the server itself listens on.
import { CONTROL_URL_ENV, DEFAULT_CONTROL_URL } from '../common/control-defaults.js';

export type ControlUrl = { readonly ok: true; readonly url: URL } | { readonly ok: false; readonly message: string };

export function controlUrl(
  flag: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
  fallback: string = DEFAULT_CONTROL_URL,
): ControlUrl {
  // An empty variable counts as unset (`MERIDIAN_CONTROL= meridian status`).
  const fromEnv = env[CONTROL_URL_ENV] === '' ? undefined : env[CONTROL_URL_ENV];
  const text = flag ?? fromEnv ?? fallback;
  const url = URL.canParse(text) ? new URL(text) : undefined;
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
    const from = flag !== undefined ? '--control' : fromEnv !== undefined ? CONTROL_URL_ENV : 'the default';
    return { ok: false, message: `${from} '${text}' is not an http(s) URL (e.g. ${DEFAULT_CONTROL_URL})` };
  }
  return { ok: true, url };
}
