import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CONTROL_TOKEN_ENV, resolveControlToken, tokenMatches } from './control-token.js';

const dir = mkdtempSync(join(tmpdir(), 'meridian-token-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function tokenFile(name: string, contents: string): string {
  const path = join(dir, name);
  writeFileSync(path, contents);
  return path;
}

describe('resolveControlToken', () => {
  it('returns undefined when nothing is configured', () => {
    expect(resolveControlToken({ env: {} })).toBeUndefined();
  });

  it('uses the literal token when it is the only source', () => {
    expect(resolveControlToken({ token: 'literal', env: {} })).toBe('literal');
  });

  it('prefers the token file over the literal token, trimming it', () => {
    const file = tokenFile('file-over-literal', '  from-file\n');
    expect(resolveControlToken({ token: 'literal', tokenFile: file, env: {} })).toBe('from-file');
  });

  it('prefers the environment over file and literal', () => {
    const file = tokenFile('env-wins', 'from-file\n');
    const env = { [CONTROL_TOKEN_ENV]: 'from-env' };
    expect(resolveControlToken({ token: 'literal', tokenFile: file, env })).toBe('from-env');
  });

  it('does not read the file when the environment provides the token', () => {
    const env = { [CONTROL_TOKEN_ENV]: 'from-env' };
    expect(resolveControlToken({ tokenFile: join(dir, 'missing'), env })).toBe('from-env');
  });

  it('treats an empty environment variable as unset', () => {
    expect(resolveControlToken({ token: 'literal', env: { [CONTROL_TOKEN_ENV]: '' } })).toBe('literal');
  });

  it('names the file when it cannot be read', () => {
    const missing = join(dir, 'does-not-exist');
    expect(() => resolveControlToken({ tokenFile: missing, env: {} })).toThrow(missing);
    expect(() => resolveControlToken({ tokenFile: missing, env: {} })).toThrow(/ENOENT/);
  });

  it('names the file when it is empty or only whitespace', () => {
    const file = tokenFile('blank', ' \n\t\n');
    expect(() => resolveControlToken({ tokenFile: file, env: {} })).toThrow(`control token file ${file} is empty`);
  });

  it('reads process.env when no env is given', () => {
    const saved = process.env[CONTROL_TOKEN_ENV];
    process.env[CONTROL_TOKEN_ENV] = 'process-env';
    try {
      expect(resolveControlToken({ token: 'literal' })).toBe('process-env');
    } finally {
      if (saved === undefined) delete process.env[CONTROL_TOKEN_ENV];
      else process.env[CONTROL_TOKEN_ENV] = saved;
    }
  });
});

describe('tokenMatches', () => {
  it('accepts the right bearer token, scheme in any case', () => {
    expect(tokenMatches('s3cret', 'Bearer s3cret')).toBe(true);
    expect(tokenMatches('s3cret', 'bearer s3cret')).toBe(true);
    expect(tokenMatches('s3cret', 'BEARER   s3cret ')).toBe(true);
  });

  it('rejects a wrong, longer, shorter or missing token', () => {
    expect(tokenMatches('s3cret', 'Bearer s3cres')).toBe(false);
    expect(tokenMatches('s3cret', 'Bearer s3cret-and-more')).toBe(false);
    expect(tokenMatches('s3cret', 'Bearer s3')).toBe(false);
    expect(tokenMatches('s3cret', 'Bearer ')).toBe(false);
    expect(tokenMatches('s3cret', undefined)).toBe(false);
    expect(tokenMatches('s3cret', '')).toBe(false);
  });

  it('rejects other schemes and a bare token', () => {
    expect(tokenMatches('s3cret', 's3cret')).toBe(false);
    expect(tokenMatches('s3cret', 'Basic s3cret')).toBe(false);
    expect(tokenMatches('s3cret', 'Bearers3cret')).toBe(false);
  });

  it('never matches an empty expected token', () => {
    expect(tokenMatches('', 'Bearer ')).toBe(false);
    expect(tokenMatches('', 'Bearer x')).toBe(false);
  });
});
