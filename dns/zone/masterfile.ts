// RFC 1035 section 5 master files: directives, owners, TTL and class, parentheses. This layer
// only finds records; what the rdata tokens mean (and resolving names inside them against
// `origin`) is the rdata parser's job.
import type { Lexeme, Token } from './text.js';
import { TextError, parseTtl, readEscape, scanLine, unescapeCharString } from './text.js';
import { runInSlices, runNow, STEPS_PER_YIELD, type Work } from './slices.js';

export interface MasterRecord {
  /** Absolute, trailing dot, escapes and case as written; `@` resolved to the origin. */
  owner: string;
  ttl: number;
  /** Upper-case mnemonic, or `TYPE<n>` for RFC 3597 generic types. */
  type: string;
  /** The rest of the record: parentheses and comments removed, lines joined, names as written. */
  rdata: Token[];
  /** The $ORIGIN in force, to resolve relative names in `rdata`. */
  origin: string;
  file: string;
  /** Where the record starts (1-based). */
  line: number;
}

export class MasterFileError extends Error {
  constructor(
    readonly file: string,
    readonly line: number,
    message: string,
  ) {
    super(`${file}:${line}: ${message}`);
    this.name = 'MasterFileError';
  }
}

export interface MasterFileOptions {
  /** Absolute, with trailing dot. */
  origin: string;
  defaultTtl?: number;
  file: string;
  readInclude?: (path: string) => string;
}

const MAX_INCLUDE_DEPTH = 10;

/** Parse a master file into records, following $INCLUDEs through `opts.readInclude`. */
export function parseMasterFile(text: string, opts: MasterFileOptions): MasterRecord[] {
  const records: MasterRecord[] = [];
  readMasterFile(text, opts, (r) => records.push(r));
  return records;
}

/**
 * The same, handing over each record as it is read: a large zone's records then need not all be
 * held in this form (tokens and all, several hundred bytes each) before they are converted.
 */
export function readMasterFile(text: string, opts: MasterFileOptions, onRecord: (r: MasterRecord) => void): void {
  runNow(reading(text, opts, onRecord));
}

/** The same in slices of a few ms: a million-line file takes seconds, and a server reloading it keeps answering. */
export function readMasterFileInSlices(
  text: string,
  opts: MasterFileOptions,
  onRecord: (r: MasterRecord) => void,
): Promise<void> {
  return runInSlices(reading(text, opts, onRecord));
}

function* reading(text: string, opts: MasterFileOptions, onRecord: (r: MasterRecord) => void): Work<void> {
  // A bad origin option is no line's fault, hence line 0.
  const fail = failAt(opts.file, 0);
  if (!guard(fail, () => checkName(opts.origin)).absolute) fail(`origin '${opts.origin}' is not absolute`);
  const zone: ZoneState = { opts, onRecord, dollarTtl: undefined, soaMinimum: undefined };
  yield* parseFile(zone, text, { file: opts.file, origin: opts.origin, owner: undefined, depth: 0 });
}

/** What lasts across $INCLUDE: RFC 1035 scopes only $ORIGIN to an included file, so a $TTL
 * set inside one stays in force after it. */
interface ZoneState {
  readonly opts: MasterFileOptions;
  readonly onRecord: (r: MasterRecord) => void;
  dollarTtl: number | undefined;
  soaMinimum: number | undefined;
}

/** What is private to one file: RFC 1035 says an include's $ORIGIN does not leak back. */
interface FileState {
  readonly file: string;
  origin: string;
  /** The last owner, for lines that start with a blank. */
  owner: string | undefined;
  readonly depth: number;
}

/** One record or directive: a line, or several joined by parentheses. */
interface Entry {
  line: number;
  indented: boolean;
  tokens: Token[];
}

type Fail = (message: string) => never;

function failAt(file: string, line: number): Fail {
  return (message) => {
    throw new MasterFileError(file, line, message);
  };
}

/** Run `fn`, turning a TextError into a located MasterFileError. */
function guard<T>(fail: Fail, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof TextError) fail(err.message);
    throw err;
  }
}

function* parseFile(zone: ZoneState, text: string, fs: FileState): Work<void> {
  let steps = 0;
  for (const entry of entries(text, fs.file)) {
    if (++steps % STEPS_PER_YIELD === 0) yield;
    const first = entry.tokens[0];
    const fail = failAt(fs.file, entry.line);
    if (first && !entry.indented && !first.quoted && first.text.startsWith('$')) {
      yield* directive(zone, fs, entry.tokens, fail);
    } else {
      zone.onRecord(record(zone, fs, entry, fail));
    }
  }
}

function* entries(text: string, file: string): Generator<Entry> {
  let open: Entry | undefined;
  let parenLine = 0; // line of the unclosed '(', or 0
  let lineNo = 0;
  // One closure for the file rather than two per line: a zone has a million lines.
  const fail = (message: string): never => failAt(file, lineNo)(message);
  for (const line of linesOf(text)) {
    lineNo++;
    let lexemes: Lexeme[];
    try {
      lexemes = scanLine(line);
    } catch (err) {
      if (err instanceof TextError) fail(err.message);
      throw err;
    }
    if (!open) {
      if (lexemes.length === 0) continue;
      open = { line: lineNo, indented: line.startsWith(' ') || line.startsWith('\t'), tokens: [] };
    }
    for (const lx of lexemes) {
      if (lx === '(') {
        if (parenLine) fail(`nested '(' (the open one is on line ${parenLine})`);
        parenLine = lineNo;
      } else if (lx === ')') {
        if (!parenLine) fail(`')' without a matching '('`);
        parenLine = 0;
      } else {
        open.tokens.push(lx);
      }
    }
    if (!parenLine) {
      if (open.tokens.length > 0) yield open;
      open = undefined;
    }
  }
  if (parenLine) failAt(file, parenLine)(`'(' is never closed`);
}

/**
 * The lines of `text`, as split(/\r?\n/) gives them, one at a time: splitting a million-line
 * file at once is one long pause for a server that reloads it.
 */
function* linesOf(text: string): Generator<string> {
  // A byte-order mark from a Windows editor would otherwise glue itself to the first owner.
  let start = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  while (start <= text.length) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    yield text.slice(start, end > start && text.charCodeAt(end - 1) === 13 ? end - 1 : end);
    start = end + 1;
  }
}

function* directive(zone: ZoneState, fs: FileState, tokens: Token[], fail: Fail): Work<void> {
  const [name, ...args] = tokens;
  switch (name?.text.toUpperCase()) {
    case '$ORIGIN': {
      const [arg, extra] = args;
      if (!arg || extra) return fail('$ORIGIN takes exactly one name');
      fs.origin = guard(fail, () => resolveName(arg, fs.origin));
      return;
    }
    case '$TTL': {
      const [arg, extra] = args;
      if (!arg || extra || arg.quoted) return fail('$TTL takes exactly one TTL');
      zone.dollarTtl = guard(fail, () => parseTtl(arg.text));
      return;
    }
    case '$INCLUDE':
      return yield* include(zone, fs, args, fail);
    default:
      return fail(`unknown directive ${name?.text}`);
  }
}

function* include(zone: ZoneState, fs: FileState, args: Token[], fail: Fail): Work<void> {
  const [pathTok, originTok, extra] = args;
  if (!pathTok || extra) return fail('$INCLUDE takes a file name and an optional origin');
  const { readInclude } = zone.opts;
  if (!readInclude) return fail('$INCLUDE is not allowed here (no way to read included files)');
  if (fs.depth >= MAX_INCLUDE_DEPTH) return fail(`$INCLUDE nested more than ${MAX_INCLUDE_DEPTH} deep`);
  const path = guard(fail, () => new TextDecoder().decode(unescapeCharString(pathTok)));
  const origin = originTok ? guard(fail, () => resolveName(originTok, fs.origin)) : fs.origin;
  let text: string;
  try {
    text = readInclude(path);
  } catch (err) {
    return fail(`cannot read $INCLUDE file '${path}': ${err instanceof Error ? err.message : String(err)}`);
  }
  yield* parseFile(zone, text, { file: path, origin, owner: undefined, depth: fs.depth + 1 });
}

function record(zone: ZoneState, fs: FileState, entry: Entry, fail: Fail): MasterRecord {
  const tokens = entry.tokens.slice();
  const owner = entry.indented ? previousOwner(fs, tokens[0], fail) : ownerName(fs, tokens.shift(), fail);

  // RFC 1035 lets TTL and class come in either order; a type never starts with a digit.
  let ttl: number | undefined;
  let sawClass = false;
  for (let tok = tokens[0]; tok && !tok.quoted; tok = tokens[0]) {
    const text = tok.text;
    const c = text.charCodeAt(0);
    if (ttl === undefined && c >= 0x30 && c <= 0x39) {
      ttl = guard(fail, () => parseTtl(text));
    } else if (!sawClass && (text === 'IN' || CLASS.test(text))) {
      if (!isIn(text)) fail(`class ${text} is not supported (only IN)`);
      sawClass = true;
    } else {
      break;
    }
    tokens.shift();
  }

  const typeTok = tokens.shift();
  if (!typeTok) return fail('missing record type');
  const type = recordType(typeTok) ?? fail(`bad record type '${typeTok.text}'`);

  // RFC 1035 section 3.3.13: the SOA minimum bounds every TTL in the zone, so it is the last
  // fallback; the SOA itself counts as having come first.
  if (type === 'SOA') zone.soaMinimum ??= soaMinimum(tokens);
  ttl ??= zone.dollarTtl ?? zone.opts.defaultTtl ?? zone.soaMinimum ?? fail('no TTL for record and no $TTL');

  fs.owner = owner;
  return { owner, ttl, type, rdata: tokens, origin: fs.origin, file: fs.file, line: entry.line };
}

function previousOwner(fs: FileState, first: Token | undefined, fail: Fail): string {
  if (first && !first.quoted && first.text.startsWith('$')) {
    fail(`directive ${first.text} must start at the beginning of the line`);
  }
  return fs.owner ?? fail('line starts with a blank but there is no previous owner to repeat');
}

function ownerName(fs: FileState, tok: Token | undefined, fail: Fail): string {
  if (!tok) return fail('missing owner name');
  return guard(fail, () => resolveName(tok, fs.origin));
}

const CLASS = /^(?:IN|CH|CS|HS|NONE|ANY|CLASS[0-9]+)$/i;

const isIn = (text: string): boolean => text === 'IN' || /^(?:IN|CLASS0*1)$/i.test(text);

/** Mnemonics as nearly every record writes them: known without a regular expression. */
const COMMON_TYPES = new Set(['A', 'AAAA', 'CNAME', 'NS', 'MX', 'TXT', 'SRV', 'PTR', 'SOA', 'CAA']);

/** The normalised type mnemonic, or undefined if the token cannot be one. */
function recordType(tok: Token): string | undefined {
  if (tok.quoted) return undefined;
  if (COMMON_TYPES.has(tok.text)) return tok.text;
  const generic = /^TYPE([0-9]+)$/i.exec(tok.text);
  if (generic) {
    const n = Number(generic[1]);
    return n <= 0xffff ? `TYPE${n}` : undefined;
  }
  return /^[A-Za-z][A-Za-z0-9-]*$/.test(tok.text) ? tok.text.toUpperCase() : undefined;
}

/** MINIMUM is the seventh SOA field; a malformed one is left for the rdata parser to report. */
function soaMinimum(rdata: Token[]): number | undefined {
  const tok = rdata[6];
  if (!tok || tok.quoted) return undefined;
  try {
    return parseTtl(tok.text);
  } catch {
    return undefined;
  }
}

/** An owner or origin token made absolute against `origin`; `@` is the origin itself. */
function resolveName(tok: Token, origin: string): string {
  if (tok.quoted) throw new TextError(`name "${tok.text}" must not be quoted`);
  if (tok.text === '@') return origin;
  if (checkName(tok.text).absolute) return tok.text;
  const joined = origin === '.' ? `${tok.text}.` : `${tok.text}.${origin}`;
  checkName(joined); // joining may have made it too long
  return joined;
}

const MAX_LABEL = 63;
const MAX_NAME_WIRE = 255;
const utf8 = new TextEncoder();

/**
 * Reject empty or oversized labels and bad escapes in a presentation-form name, and say
 * whether it ends in an unescaped dot. Lengths are wire octets: `\DDD` is one octet.
 */
function checkName(text: string): { absolute: boolean } {
  if (text === '.') return { absolute: true };
  if (text === '') throw new TextError('empty name');
  let wire = 1; // the root label's length byte
  let label = 0;
  for (let i = 0; i < text.length;) {
    const c = text.charAt(i);
    if (c === '.') {
      if (label === 0) throw new TextError(`empty label in name '${text}'`);
      wire += label + 1;
      label = 0;
      i++;
      continue;
    }
    const { bytes, width } = c === '\\' ? readEscape(text, i) : plainChar(text, i);
    label += bytes.length;
    if (label > MAX_LABEL) throw new TextError(`label longer than ${MAX_LABEL} octets in name '${text}'`);
    i += width;
  }
  const absolute = label === 0;
  if (!absolute) wire += label + 1;
  if (wire > MAX_NAME_WIRE) throw new TextError(`name '${text}' is longer than ${MAX_NAME_WIRE} octets`);
  return { absolute };
}

const ASCII = Array.from({ length: 0x80 }, (_, c) => ({ bytes: Uint8Array.of(c), width: 1 }));

function plainChar(s: string, i: number): { bytes: Uint8Array; width: number } {
  const cp = s.codePointAt(i) ?? 0;
  // ASCII needs no encoder (and nearly every name is ASCII: this runs per character of a zone).
  if (cp < 0x80) return ASCII[cp]!;
  const ch = String.fromCodePoint(cp);
  return { bytes: utf8.encode(ch), width: ch.length };
}
