#!/usr/bin/env node
// Runs README.md's quick start exactly as written, so it cannot drift from the code:
//   1. the start command from "On a fresh machine" (`npm install && npm start`), in the
//      background, until it prints that Meridian is up;
//   2. every command of the "Try it" block, one after another, as a shell would run them: each
//      must exit 0, a dig must get an answer (a `status:` line), a curl an HTTP 2xx/3xx;
//   3. Ctrl-C (SIGINT to the whole process group, as a terminal sends it): everything must stop
//      within 20 s and leave the DNS port free.
// The test command from the same section is what .ci/run runs (`--print test` prints it).
//
//   node test/readme/quickstart.mjs            (.ci/run runs it after the tests; needs dig, curl)
//   node test/readme/quickstart.mjs --print start|test
import { spawn, spawnSync } from 'node:child_process';
import dgram from 'node:dgram';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const README = readFileSync(join(ROOT, 'README.md'), 'utf8');
const READY = /Meridian is up/;
const READY_TIMEOUT_MS = 180_000; // npm install + build on a cold machine
const COMMAND_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 20_000;

/** The text of the `## heading` section (up to the next `## `). */
function section(heading) {
  const start = README.search(new RegExp(`^## ${heading}`, 'm'));
  if (start < 0) throw new Error(`README.md has no "## ${heading}" section`);
  const rest = README.slice(start + 3);
  const end = rest.search(/^## /m);
  return end < 0 ? rest : rest.slice(0, end);
}

/** The ```sh blocks of a section, each as its commands with their trailing comments. */
function shellLines(text) {
  return [...text.matchAll(/^```sh\n([\s\S]*?)^```/gm)].map((m) =>
    m[1]
      .split('\n')
      .map((line) => {
        const at = line.search(/\s+#\s/);
        return at < 0
          ? { cmd: line.trim(), comment: '' }
          : { cmd: line.slice(0, at).trim(), comment: line.slice(at).replace(/^\s+#\s/, '') };
      })
      .filter((l) => l.cmd && !l.cmd.startsWith('#')),
  );
}

const shellBlocks = (text) => shellLines(text).map((block) => block.map((l) => l.cmd));

export function quickStart() {
  const [start, test] = shellBlocks(section('On a fresh machine'));
  if (start?.length !== 1 || test?.length !== 1)
    throw new Error('"On a fresh machine" must hold two ```sh blocks of one command each: start, then test');
  const tryLines = shellLines(section('Try it')).flat();
  if (tryLines.length === 0) throw new Error('"Try it" has no commands');
  return { start: start[0], test: test[0], tryIt: tryLines.map((l) => l.cmd), tryLines };
}

function udpPortFree(port) {
  return new Promise((resolve) => {
    const s = dgram.createSocket('udp4');
    s.once('error', () => resolve(false));
    s.bind(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

/**
 * What a command must print, from its README comment: an address in parentheses, e.g.
 * "# now Sydney (127.0.5.1)", is the answer the reader is promised.
 */
export function promisedAddresses(comment) {
  return [...comment.matchAll(/\((\d+\.\d+\.\d+\.\d+)\)/g)].map((m) => m[1]);
}

function check(cmd, comment, r) {
  const out = `${r.stdout ?? ''}${r.stderr ?? ''}`;
  const missing = promisedAddresses(comment).filter((a) => !out.split(/\s+/).includes(a));
  if (missing.length > 0 && r.status === 0)
    return `the README promises ${missing.join(', ')}; got: ${out.trim() || '(nothing)'}`;
  if (r.error) return `could not run: ${r.error.message}`;
  if (r.status !== 0) return `exit ${r.status ?? r.signal}`;
  if (/^dig\b/.test(cmd) && !/status: [A-Z]+/.test(out) && !cmd.includes('+short')) return 'dig printed no response';
  if (/^dig\b.*\+short/.test(cmd) && out.trim() === '') return 'dig +short printed no answer';
  if (/^curl\b/.test(cmd) && !/^HTTP\/[\d.]+ [23]\d\d/m.test(out)) return 'curl did not get a 2xx/3xx response';
  return null;
}

async function main() {
  const { start, test, tryIt, tryLines } = quickStart();
  const which = process.argv[2] === '--print' ? process.argv[3] : undefined;
  if (which) {
    if (which !== 'start' && which !== 'test') throw new Error('--print start|test');
    process.stdout.write(`${which === 'start' ? start : test}\n`);
    return 0;
  }
  console.log(`readme: ${start}`);
  const child = spawn('bash', ['-c', start], { cwd: ROOT, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines = [];
  const keep = (chunk) => lines.push(...chunk.toString().split('\n'));
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal)));
  const stopGroup = (signal) => {
    try {
      process.kill(-child.pid, signal);
    } catch {
      /* already gone */
    }
  };
  let failures = 0;
  try {
    const ready = await Promise.race([
      new Promise((resolve) => {
        const timer = setInterval(() => {
          if (lines.some((l) => READY.test(l))) {
            clearInterval(timer);
            resolve(true);
          }
        }, 200);
      }),
      exited.then((code) => {
        throw new Error(`"${start}" exited (${code}) before Meridian was up`);
      }),
      new Promise((_, reject) =>
        setTimeout(
          () => reject(new Error(`"${start}" not up within ${READY_TIMEOUT_MS / 1000} s`)),
          READY_TIMEOUT_MS,
        ).unref(),
      ),
    ]);
    if (ready) console.log('readme: up');
    for (const { cmd, comment } of tryLines) {
      const r = spawnSync('bash', ['-c', cmd], { cwd: ROOT, encoding: 'utf8', timeout: COMMAND_TIMEOUT_MS });
      const problem = check(cmd, comment, r);
      console.log(
        `readme: ${problem ? 'FAIL' : 'ok  '} ${cmd}${problem ? `\n    ${problem}\n${`${r.stdout}${r.stderr}`.trim().replace(/^/gm, '    | ')}` : ''}`,
      );
      if (problem) failures++;
    }
  } catch (e) {
    console.log(`readme: FAIL ${e.message}`);
    failures++;
  }
  // Ctrl-C, as a terminal delivers it: to every process of the foreground group.
  stopGroup('SIGINT');
  const stopped = await Promise.race([
    exited.then(() => true),
    new Promise((r) => setTimeout(() => r(false), STOP_TIMEOUT_MS)),
  ]);
  if (!stopped) {
    console.log(`readme: FAIL Ctrl-C did not stop "${start}" within ${STOP_TIMEOUT_MS / 1000} s`);
    failures++;
    stopGroup('SIGKILL');
  } else if (!(await udpPortFree(5353))) {
    console.log('readme: FAIL after Ctrl-C something still holds 127.0.0.1:5353');
    failures++;
  } else {
    console.log('readme: Ctrl-C stopped everything');
  }
  if (failures > 0) console.log(`readme: last output of "${start}":\n${lines.filter(Boolean).slice(-40).join('\n')}`);
  console.log(`readme: ${tryIt.length} commands, ${failures} failure(s)`);
  return failures > 0 ? 1 : 0;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  main().then(
    (code) => process.exit(code),
    (e) => {
      console.error(`readme: ${e.message}`);
      process.exit(2);
    },
  );
}
