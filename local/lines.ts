// Children's output, line by line: a splitter that never holds more than one (capped) line in
// memory, and the last few lines of each child for the report when it dies.
import type { Readable } from 'node:stream';

/** Longer lines are cut: one runaway child must not grow the supervisor's memory. */
export const MAX_LINE_CHARS = 16_384;

export function onLines(stream: Readable, onLine: (line: string) => void): void {
  let buf = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    buf += chunk;
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      onLine(cut(buf.slice(0, nl)));
      buf = buf.slice(nl + 1);
    }
    if (buf.length > MAX_LINE_CHARS) {
      onLine(cut(buf));
      buf = '';
    }
  });
  // A last line without a newline (a crash message) still counts.
  stream.on('end', () => {
    if (buf !== '') onLine(cut(buf));
    buf = '';
  });
}

function cut(line: string): string {
  const trimmed = line.endsWith('\r') ? line.slice(0, -1) : line;
  return trimmed.length > MAX_LINE_CHARS ? `${trimmed.slice(0, MAX_LINE_CHARS)}…` : trimmed;
}

/** The most recent `size` lines. */
export class Tail {
  private readonly lines: string[] = [];

  constructor(private readonly size: number) {}

  push(line: string): void {
    this.lines.push(line);
    if (this.lines.length > this.size) this.lines.shift();
  }

  last(n = this.size): string[] {
    return this.lines.slice(-n);
  }

  clear(): void {
    this.lines.length = 0;
  }
}
