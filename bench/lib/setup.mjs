// What every bench checks and knows before it starts: where the repository and the Meridian CLI
// are, the loopback address the benches use, whether the tools and dist/ are there, and the
// command line's flags.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (bench/..). */
export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
/** The Meridian CLI (it runs dist/: see distBuilt()). */
export const MERIDIAN_BIN = join(ROOT, 'bin', 'meridian.js');
/** Where the loopback benches listen and connect. */
export const HOST = '127.0.0.1';

export function commandExists(cmd) {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

/** True once `npm run build` has produced dist/. */
export const distBuilt = () => existsSync(join(ROOT, 'dist', 'cli', 'main.js'));

/**
 * For a loopback bench that reads /proc: false, with the reason on stderr, when `tool` is missing
 * (apt package of the same name), dist/ is not built (`npmScript` builds, then runs the bench) or
 * there is no Linux /proc.
 */
export function prerequisitesMet(tool, npmScript) {
  let missing = null;
  if (!commandExists(tool)) missing = `${tool} is not installed. Install it with:  apt-get install ${tool}`;
  else if (!distBuilt()) missing = `dist/ is not built. Run \`npm run build\` first (or use \`npm run ${npmScript}\`).`;
  else if (process.platform !== 'linux' || !existsSync('/proc/self/stat'))
    missing = 'needs Linux /proc to read server CPU time';
  if (missing) process.stderr.write(`bench: ${missing}\n`);
  return !missing;
}

/**
 * The command line's flags as a Set, when each is one of `allowed`; otherwise prints `usage` (to
 * stdout for -h/--help, exit 0; to stderr, exit 2) and exits.
 */
export function parseFlags(allowed, usage) {
  const args = new Set(process.argv.slice(2));
  if (args.has('-h') || args.has('--help') || [...args].some((a) => !allowed.includes(a))) {
    const ok = args.has('-h') || args.has('--help');
    (ok ? process.stdout : process.stderr).write(`${usage}\n`);
    process.exit(ok ? 0 : 2);
  }
  return args;
}
