// A Dockerfile and .dockerignore read the way Docker reads them, for the parts the compose test
// checks without a Docker engine: stages (FROM ... AS), each stage's WORKDIR, USER, RUN,
// ENTRYPOINT and COPY/ADD, and whether a repo file ends up in a stage's image.
import { posix } from 'node:path';
import { globRegExp } from './glob.js';

export interface Instruction {
  op: string;
  args: string;
}

export interface Stage {
  name: string | undefined;
  base: string;
  instructions: Instruction[];
}

export function parseDockerfile(text: string): Stage[] {
  const stages: Stage[] = [];
  const logical = text.replace(/\\\r?\n/g, ' ').split(/\r?\n/);
  for (const raw of logical) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const m = /^(\S+)\s*(.*)$/.exec(line)!;
    const op = m[1]!.toUpperCase();
    const args = m[2]!.trim();
    if (op === 'FROM') {
      const f = /^(?:--\S+\s+)*(\S+)(?:\s+AS\s+(\S+))?$/i.exec(args);
      stages.push({ base: f?.[1] ?? args, name: f?.[2], instructions: [] });
    } else if (stages.length > 0) {
      stages[stages.length - 1]!.instructions.push({ op, args });
    }
  }
  return stages;
}

export interface Copy {
  from: string | undefined;
  sources: string[];
  /** Absolute destination in the image. */
  dest: string;
  /** Several sources or a trailing slash: the destination is a directory. */
  destIsDir: boolean;
}

/** Working directory in force at each COPY, and the final one. */
export function stageLayout(stage: Stage): {
  copies: Copy[];
  workdir: string;
  user: string | undefined;
  runs: string[];
  entrypoint: unknown;
} {
  let workdir = '/';
  let user: string | undefined;
  let entrypoint: unknown;
  const copies: Copy[] = [];
  const runs: string[] = [];
  for (const { op, args } of stage.instructions) {
    if (op === 'WORKDIR') workdir = posix.resolve(workdir, args);
    else if (op === 'USER') user = args.split(':')[0];
    else if (op === 'RUN') runs.push(args);
    else if (op === 'ENTRYPOINT') entrypoint = args.startsWith('[') ? JSON.parse(args) : args;
    else if (op === 'COPY' || op === 'ADD') {
      const words = args.startsWith('[') ? (JSON.parse(args) as string[]) : args.split(/\s+/);
      let from: string | undefined;
      const rest = words.filter((w) => {
        if (!w.startsWith('--')) return true;
        const fm = /^--from=(.+)$/.exec(w);
        if (fm) from = fm[1];
        return false;
      });
      const destText = rest.pop()!;
      copies.push({
        from,
        sources: rest.map((s) => s.replace(/^\.\/(?=.)/, '').replace(/\/+$/, '') || '.'),
        dest: posix.resolve(workdir, destText),
        destIsDir: destText.endsWith('/') || destText === '.' || rest.length > 1,
      });
    }
  }
  return { copies, workdir, user, runs, entrypoint };
}

/** .dockerignore: the last matching pattern decides; a pattern that matches a directory covers its contents. */
export function dockerIgnored(patterns: string, path: string): boolean {
  const rules = patterns
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((l) => {
      const negate = l.startsWith('!');
      const p = posix
        .normalize((negate ? l.slice(1) : l).trim())
        .replace(/^\/+/, '')
        .replace(/\/+$/, '');
      return { negate, re: globRegExp(p) };
    });
  const parts = path.split('/');
  let ignored = false;
  for (const rule of rules) {
    for (let n = 1; n <= parts.length; n++) {
      if (rule.re.test(parts.slice(0, n).join('/'))) {
        ignored = !rule.negate;
        break;
      }
    }
  }
  return ignored;
}

function hasGlob(s: string): boolean {
  return /[*?[]/.test(s);
}

/** Where a COPY from the build context puts repo file `path`, or undefined when it does not. */
export function copiedTo(c: Copy, path: string): string | undefined {
  for (const s of c.sources) {
    if (s === '.') return posix.join(c.dest, path);
    if (hasGlob(s)) {
      if (globRegExp(s).test(path)) return posix.join(c.dest, posix.basename(path));
    } else if (path === s) {
      return c.destIsDir ? posix.join(c.dest, posix.basename(path)) : c.dest;
    } else if (path.startsWith(`${s}/`)) {
      return posix.join(c.dest, path.slice(s.length + 1));
    }
  }
  return undefined;
}

/** Does `stage` hold repo file `path` at the same place relative to its final WORKDIR? */
export function stageHolds(dockerignore: string, stage: Stage, path: string): boolean {
  if (dockerIgnored(dockerignore, path)) return false;
  const layout = stageLayout(stage);
  const wanted = posix.join(layout.workdir, path);
  return layout.copies.some((c) => c.from === undefined && copiedTo(c, path) === wanted);
}
