// dig's text output read back into fields a test can assert on: header, flags, EDNS (NSID, client
// subnet), each section's records, warnings, transport and size. dig is the independent client,
// so what it prints is what a user would see.

export interface DigRecord {
  name: string;
  ttl: number;
  class: string;
  type: string;
  data: string;
}

export interface DigQuestion {
  name: string;
  class: string;
  type: string;
}

export interface DigEdns {
  version: number;
  flags: string[];
  udp: number;
}

export interface DigResponse {
  opcode: string;
  status: string;
  id: number;
  flags: string[];
  counts: { query: number; answer: number; authority: number; additional: number };
  edns: DigEdns | null;
  /** The NSID as text (dig prints hex and, when printable, the text in quotes). */
  nsid: string | null;
  /** e.g. `198.51.100.0/24/0` */
  clientSubnet: string | null;
  question: DigQuestion[];
  answer: DigRecord[];
  authority: DigRecord[];
  additional: DigRecord[];
  /** Lines dig printed as warnings (`;; WARNING: ...`, `;; Truncated ...`). */
  warnings: string[];
  /** `;; SERVER: ...` transport, e.g. UDP or TCP. */
  transport: string | null;
  /** `;; MSG SIZE  rcvd: N` */
  size: number | null;
  raw: string;
}

const RR_LINE = /^(\S+)\s+(\d+)\s+(\S+)\s+(\S+)\s*(.*)$/;

function parseRecord(line: string): DigRecord {
  const m = RR_LINE.exec(line);
  if (!m) throw new Error(`cannot parse dig record line: ${line}`);
  return { name: m[1]!, ttl: Number(m[2]), class: m[3]!, type: m[4]!, data: m[5]!.trim() };
}

/** Parses every response in dig's output (one per `;; Got answer:`). */
export function parseDigAll(output: string): DigResponse[] {
  const parts = output.split(/^;; Got answer:\s*$/m).slice(1);
  return parts.map(parseOne);
}

/** Parses dig's output, which must hold exactly one response. */
export function parseDig(output: string): DigResponse {
  const all = parseDigAll(output);
  if (all.length !== 1) throw new Error(`expected one response in dig output, found ${all.length}:\n${output}`);
  return all[0]!;
}

function parseOne(text: string): DigResponse {
  const res: DigResponse = {
    opcode: '',
    status: '',
    id: -1,
    flags: [],
    counts: { query: 0, answer: 0, authority: 0, additional: 0 },
    edns: null,
    nsid: null,
    clientSubnet: null,
    question: [],
    answer: [],
    authority: [],
    additional: [],
    warnings: [],
    transport: null,
    size: null,
    raw: text,
  };
  type Section = 'question' | 'answer' | 'authority' | 'additional' | 'opt' | null;
  let section: Section = null;
  for (const rawLine of text.split('\n')) {
    const line = rawLine.trimEnd();
    let m: RegExpExecArray | null;
    if ((m = /^;; ->>HEADER<<- opcode: (\S+), status: (\S+), id: (\d+)/.exec(line))) {
      res.opcode = m[1]!;
      res.status = m[2]!;
      res.id = Number(m[3]);
    } else if ((m = /^;; flags:([^;]*); QUERY: (\d+), ANSWER: (\d+), AUTHORITY: (\d+), ADDITIONAL: (\d+)/.exec(line))) {
      res.flags = m[1]!.trim().split(/\s+/).filter(Boolean);
      res.counts = { query: Number(m[2]), answer: Number(m[3]), authority: Number(m[4]), additional: Number(m[5]) };
    } else if (line === ';; OPT PSEUDOSECTION:') {
      section = 'opt';
    } else if (line === ';; QUESTION SECTION:') {
      section = 'question';
    } else if (line === ';; ANSWER SECTION:') {
      section = 'answer';
    } else if (line === ';; AUTHORITY SECTION:') {
      section = 'authority';
    } else if (line === ';; ADDITIONAL SECTION:') {
      section = 'additional';
    } else if ((m = /^; EDNS: version: (\d+), flags:([^;]*); udp: (\d+)/.exec(line))) {
      res.edns = { version: Number(m[1]), flags: m[2]!.trim().split(/\s+/).filter(Boolean), udp: Number(m[3]) };
    } else if ((m = /^; NSID: (.*)$/.exec(line))) {
      const quoted = /\("(.*)"\)\s*$/.exec(m[1]!);
      res.nsid = quoted ? quoted[1]! : Buffer.from(m[1]!.replace(/[^0-9a-f]/gi, ''), 'hex').toString('utf8');
    } else if ((m = /^; CLIENT-SUBNET: (\S+)/.exec(line))) {
      res.clientSubnet = m[1]!;
    } else if ((m = /^;; SERVER: .*\((\w+)\)\s*$/.exec(line))) {
      res.transport = m[1]!;
    } else if ((m = /^;; MSG SIZE\s+rcvd: (\d+)/.exec(line))) {
      res.size = Number(m[1]);
    } else if (line.startsWith(';; WARNING') || line.startsWith(';; Truncated') || line.startsWith(';; Warning')) {
      res.warnings.push(line);
    } else if (line === '') {
      if (section !== 'opt') section = null;
    } else if (section === 'question' && line.startsWith(';')) {
      const q = /^;(\S+)\s+(\S+)\s+(\S+)/.exec(line);
      if (q) res.question.push({ name: q[1]!, class: q[2]!, type: q[3]! });
    } else if ((section === 'answer' || section === 'authority' || section === 'additional') && !line.startsWith(';')) {
      res[section].push(parseRecord(line));
    }
  }
  return res;
}
