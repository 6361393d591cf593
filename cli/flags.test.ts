import { describe, expect, it } from 'vitest';
import { exitFor, parseCommandLine, usageError } from './flags.js';

const SERVER = {
  name: 'srv',
  usage: 'usage: meridian srv --config FILE [--control-listen HOST:PORT]\n',
  flags: {
    config: { type: 'string', short: 'c' },
    listen: { type: 'string', multiple: true },
    'control-listen': { type: 'string', was: ['http', 'control'] },
    json: { type: 'boolean' },
  },
  required: ['config'],
} as const;

describe('parseCommandLine', () => {
  it('reads the current spellings, with nothing deprecated', () => {
    const line = parseCommandLine(SERVER, [
      '-c',
      'f.yaml',
      '--listen',
      'a:1',
      '--listen',
      'b:2',
      '--control-listen',
      '127.0.0.1:1',
      '--json',
    ]);
    expect(line).toEqual({
      kind: 'run',
      flags: { config: 'f.yaml', listen: ['a:1', 'b:2'], 'control-listen': '127.0.0.1:1', json: true },
      positionals: [],
      deprecated: [],
    });
  });

  it('takes an old spelling as the current flag and names the deprecation', () => {
    const line = parseCommandLine(SERVER, ['--config', 'f.yaml', '--http', '127.0.0.1:2']);
    expect(line).toEqual({
      kind: 'run',
      flags: { config: 'f.yaml', 'control-listen': '127.0.0.1:2' },
      positionals: [],
      deprecated: [{ old: '--http', replacement: '--control-listen' }],
    });
  });

  it('lets the current spelling win when both are given', () => {
    const line = parseCommandLine(SERVER, [
      '--control',
      '127.0.0.1:2',
      '--config',
      'f',
      '--control-listen',
      '127.0.0.1:1',
    ]);
    expect(line.kind === 'run' && line.flags['control-listen']).toBe('127.0.0.1:1');
  });

  it.each([
    [['--config', 'f', '--nope'], /Unknown option '--nope'/],
    [['--config'], /--config <value>' argument missing/],
    [['--json'], /--config is required/],
    [['--config', 'f', 'extra'], /Unexpected argument 'extra'/],
  ])('refuses %j as a usage error', (args, message) => {
    const line = parseCommandLine(SERVER, args);
    expect(line.kind).toBe('usage');
    expect(line.kind === 'usage' && line.message).toMatch(message);
  });

  it('counts positionals when the command takes them', () => {
    const cmd = { name: 'x', usage: 'u\n', flags: {}, positionals: { min: 2, max: 2, what: 'A and B' } } as const;
    expect(parseCommandLine(cmd, ['a'])).toEqual({ kind: 'usage', message: 'A and B is missing' });
    expect(parseCommandLine(cmd, ['a', 'b', 'c'])).toEqual({ kind: 'usage', message: "unexpected argument 'c'" });
    expect(parseCommandLine(cmd, ['a', 'b'])).toMatchObject({ kind: 'run', positionals: ['a', 'b'] });
  });

  it('--help and -h ask for the usage', () => {
    expect(parseCommandLine(SERVER, ['--help'])).toEqual({ kind: 'help' });
    expect(parseCommandLine(SERVER, ['-h', '--nope-not-checked-first'])).toMatchObject({ kind: 'usage' });
  });
});

describe('exitFor and usageError', () => {
  const io = () => {
    const seen = { out: '', err: '' };
    return { seen, io: { out: (t: string) => void (seen.out += t), err: (t: string) => void (seen.err += t) } };
  };

  it('help: usage on stdout, exit 0', () => {
    const { seen, io: o } = io();
    expect(exitFor(SERVER, { kind: 'help' }, o)).toBe(0);
    expect(seen).toEqual({ out: SERVER.usage, err: '' });
  });

  it('a usage error: the message and usage on stderr, exit 2', () => {
    const { seen, io: o } = io();
    expect(exitFor(SERVER, { kind: 'usage', message: '--config is required' }, o)).toBe(2);
    expect(seen).toEqual({ out: '', err: `meridian srv: --config is required\n${SERVER.usage}` });
    expect(usageError(SERVER, 'bad', o)).toBe(2);
  });
});
