// The quick start in README.md is what a new user types; these pin its shape so the script that
// runs it (quickstart.mjs, from .ci/run) and CI itself run the same commands.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../helpers/repo-paths.js';
// @ts-expect-error -- a plain .mjs script without type declarations
import { promisedAddresses, quickStart } from './quickstart.mjs';

describe('README quick start', () => {
  const q = quickStart() as { start: string; test: string; tryIt: string[] };

  it('installs and runs the whole local CDN with one command, and tests with another', () => {
    expect(q.start).toBe('npm install && npm start');
    expect(q.test).toBe('npm install && npm test');
    const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as {
      scripts: Record<string, string>;
    };
    expect(pkg.scripts.start).toMatch(/meridian\.js up --config config\/demo\.yaml/);
  });

  it('is what CI runs: .ci/run takes the test command from README and runs the quick start', () => {
    const ci = readFileSync(join(REPO_ROOT, '.ci', 'run'), 'utf8');
    expect(ci).toContain('node test/readme/quickstart.mjs --print test');
    expect(ci).toMatch(/^node test\/readme\/quickstart\.mjs \|\| status=\$\?$/m);
  });

  it('reads the answer a comment promises, so the run checks it', () => {
    expect(promisedAddresses('now Sydney (127.0.5.1)')).toEqual(['127.0.5.1']);
    expect(promisedAddresses('hit, same X-Origin-Time')).toEqual([]);
    const lines = (quickStart() as { tryLines: { cmd: string; comment: string }[] }).tryLines;
    expect(lines.filter((l) => promisedAddresses(l.comment).length > 0).length).toBeGreaterThanOrEqual(2);
  });

  it('has commands to try that use the demo ports', () => {
    expect(q.tryIt.some((c) => c.startsWith('dig @127.0.0.1 -p 5353 '))).toBe(true);
    expect(q.tryIt.some((c) => c.startsWith('curl '))).toBe(true);
  });
});
