// A real logger (common/log.ts, level debug) whose JSON lines the test reads back, to assert on
// what a component logged without a process or a file in between.
import { Writable } from 'node:stream';
import { createLogger, type Logger } from '../../common/log.js';

/** A logger whose JSON lines the test can read back. */
export function capturedLog(): { log: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n'))
        if (line.trim()) lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { log: createLogger({ service: 'test', level: 'debug', destination }), lines };
}
