// The one command-line parser of every `meridian` command: node:util's parseArgs (strict) over
// the command's flag table, plus what each command used to do by hand: old spellings accepted
// with a deprecation line, required flags, a positional count, --help. It never throws and
// never prints; `exitFor` turns a result that is not a command line to run into the exit every
// command shares: --help prints usage and exits 0, a usage error prints it and exits 2.
import { parseArgs } from 'node:util';
import { deprecationLine, type Deprecation } from '../common/deprecation.js';
import { parseHostPort, type HostPort } from '../common/host-port.js';

export interface Flag {
  readonly type: 'string' | 'boolean';
  readonly short?: string;
  readonly multiple?: boolean;
  /** Old spellings (without '--') still accepted for this flag, each said deprecated when used. */
  readonly was?: readonly string[];
}

type ValueOf<F extends Flag> = F['type'] extends 'boolean' ? boolean : F['multiple'] extends true ? string[] : string;
export type FlagValues<T extends Record<string, Flag>> = { -readonly [K in keyof T]?: ValueOf<T[K]> };

export interface Command<T extends Record<string, Flag>> {
  /** 'dns', 'pop': messages start `meridian <name>: `. */
  readonly name: string;
  readonly usage: string;
  readonly flags: T;
  readonly required?: readonly (keyof T & string)[];
  /** Positional arguments allowed (default none). */
  readonly positionals?: { readonly min: number; readonly max: number; readonly what: string };
}

export type CommandLine<T extends Record<string, Flag>> =
  | {
      readonly kind: 'run';
      readonly flags: FlagValues<T>;
      readonly positionals: string[];
      readonly deprecated: Deprecation[];
    }
  | { readonly kind: 'help' }
  | { readonly kind: 'usage'; readonly message: string };

export function parseCommandLine<T extends Record<string, Flag>>(
  command: Command<T>,
  args: readonly string[],
): CommandLine<T> {
  // Each old spelling is an option of its own, so parseArgs accepts it and we can tell it was used.
  const options: Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }> = {
    help: { type: 'boolean', short: 'h' },
  };
  const oldOf = new Map<string, string>();
  for (const [name, flag] of Object.entries(command.flags)) {
    const { type, short, multiple } = flag;
    options[name] = { type, ...(short !== undefined && { short }), ...(multiple && { multiple }) };
    for (const old of flag.was ?? []) {
      options[old] = { type, ...(multiple && { multiple }) };
      oldOf.set(old, name);
    }
  }
  let parsed;
  try {
    parsed = parseArgs({ args: [...args], options, allowPositionals: command.positionals !== undefined, strict: true });
  } catch (e) {
    return { kind: 'usage', message: (e as Error).message };
  }
  const values = parsed.values as Record<string, string | string[] | boolean | undefined>;
  if (values['help'] === true) return { kind: 'help' };
  const flags: Record<string, string | string[] | boolean> = {};
  const deprecated: Deprecation[] = [];
  // Current spellings first: given both ways, the current one wins a single value.
  const entries = Object.entries(values).sort(([a], [b]) => Number(oldOf.has(a)) - Number(oldOf.has(b)));
  for (const [name, value] of entries) {
    if (name === 'help' || value === undefined) continue;
    const current = oldOf.get(name);
    if (current === undefined) {
      flags[name] = mergeValue(flags[name], value);
      continue;
    }
    deprecated.push({ old: `--${name}`, replacement: `--${current}` });
    flags[current] = mergeValue(flags[current], value);
  }
  for (const name of command.required ?? []) {
    if (flags[name] === undefined) return { kind: 'usage', message: `--${name} is required` };
  }
  const { positionals } = parsed;
  const allowed = command.positionals ?? { min: 0, max: 0, what: '' };
  if (positionals.length < allowed.min) return { kind: 'usage', message: `${allowed.what} is missing` };
  if (positionals.length > allowed.max)
    return { kind: 'usage', message: `unexpected argument '${positionals[allowed.max]}'` };
  return { kind: 'run', flags: flags as FlagValues<T>, positionals, deprecated };
}

/** A flag given in both spellings: both count (lists join), the new one wins for a single value. */
function mergeValue(
  before: string | string[] | boolean | undefined,
  value: string | string[] | boolean,
): string | string[] | boolean {
  if (Array.isArray(before) && Array.isArray(value)) return [...before, ...value];
  return before ?? value;
}

export interface Output {
  out(text: string): void;
  err(text: string): void;
}

const STDIO: Output = { out: (t) => void process.stdout.write(t), err: (t) => void process.stderr.write(t) };

/** The exit of a command line that is not one to run: usage on stdout (0) or the error and usage on stderr (2). */
export function exitFor(
  command: Command<Record<string, Flag>>,
  line: { kind: 'help' } | { kind: 'usage'; message: string },
  io: Output = STDIO,
): number {
  if (line.kind === 'help') {
    io.out(command.usage);
    return 0;
  }
  return usageError(command, line.message, io);
}

/** A value the parser accepted but the command cannot use (a bad HOST:PORT, URL, number): exit 2 with usage. */
export function usageError(command: { name: string; usage: string }, message: string, io: Output = STDIO): 2 {
  io.err(`meridian ${command.name}: ${message}\n${command.usage}`);
  return 2;
}

/** The deprecation lines of the old spellings used: one stderr line each. */
export function sayDeprecatedFlags(line: { deprecated: readonly Deprecation[] }, io: Output = STDIO): void {
  for (const d of line.deprecated) io.err(deprecationLine(d));
}

/** A HOST:PORT flag's value; throws naming the flag (callers turn it into a usage error). */
export function hostPortFlag(flag: string, text: string): HostPort {
  try {
    return parseHostPort(text);
  } catch (e) {
    throw new Error(`--${flag}: ${(e as Error).message}`);
  }
}
