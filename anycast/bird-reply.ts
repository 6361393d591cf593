// BIRD's control-socket replies, read from the stream: pure, never throws. BIRD's CLI protocol
// (BIRD's doc/reply_codes and nest/cli.c, "Remote control" in the user's guide): a request is
// one line; a reply is one or more lines, each a four-digit code followed by '-' when more lines
// follow or ' ' on the last one. A continuation of the same code may start with a single space
// instead of the code. Lines starting '+' are spontaneous printouts (not part of any reply).
// Codes: 0xxx done, 1xxx table entry, 2xxx table heading, 8xxx run-time error, 9xxx parse error.

export interface ReplyLine {
  readonly code: number;
  readonly text: string;
}

/** A complete reply: ok unless its final code is 8xxx or 9xxx. */
export type Reply =
  | { readonly ok: true; readonly code: number; readonly lines: readonly ReplyLine[] }
  | { readonly ok: false; readonly code: number; readonly lines: readonly ReplyLine[]; readonly message: string };

/** What one line of the stream is. */
export type ParsedLine =
  | { readonly kind: 'line'; readonly code: number; readonly text: string; readonly last: boolean }
  /** A ' text' continuation: same code as the line before it. */
  | { readonly kind: 'continuation'; readonly text: string }
  | { readonly kind: 'spontaneous'; readonly text: string }
  | { readonly kind: 'invalid'; readonly text: string };

const CODED = /^(\d{4})([ -])(.*)$/;

export function parseLine(line: string): ParsedLine {
  const m = CODED.exec(line);
  if (m) return { kind: 'line', code: Number(m[1]), text: m[3]!, last: m[2] === ' ' };
  if (line.startsWith(' ')) return { kind: 'continuation', text: line.slice(1) };
  if (line.startsWith('+')) return { kind: 'spontaneous', text: line.slice(1) };
  return { kind: 'invalid', text: line };
}

export function isError(code: number): boolean {
  return code >= 8000;
}

/**
 * Collects stream bytes into replies. `push` returns the replies completed by this chunk, in
 * order; a partial line or reply waits for the next chunk. An invalid line ends nothing: BIRD
 * never sends one, so it is kept as text of the reply under way for the log to show.
 */
export class ReplyReader {
  private buffer = '';
  private lines: ReplyLine[] = [];
  private lastCode = 0;

  push(chunk: string): Reply[] {
    this.buffer += chunk;
    const done: Reply[] = [];
    let nl: number;
    while ((nl = this.buffer.indexOf('\n')) >= 0) {
      const line = this.buffer.slice(0, nl).replace(/\r$/, '');
      this.buffer = this.buffer.slice(nl + 1);
      const parsed = parseLine(line);
      if (parsed.kind === 'spontaneous') continue;
      if (parsed.kind === 'continuation' || parsed.kind === 'invalid') {
        this.lines.push({ code: this.lastCode, text: parsed.text });
        continue;
      }
      this.lastCode = parsed.code;
      this.lines.push({ code: parsed.code, text: parsed.text });
      if (parsed.last) {
        done.push(complete(parsed.code, this.lines));
        this.lines = [];
      }
    }
    return done;
  }
}

function complete(code: number, lines: readonly ReplyLine[]): Reply {
  if (!isError(code)) return { ok: true, code, lines };
  return {
    ok: false,
    code,
    lines,
    message:
      lines
        .map((l) => l.text)
        .join(' ')
        .trim() || `error ${code}`,
  };
}
