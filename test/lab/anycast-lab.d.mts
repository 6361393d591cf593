// Types of anycast-lab.mjs (plain JS, so users and the bench run it without a build) for the
// TypeScript system test.
import type { ChildProcess } from 'node:child_process';

export type Pop = 'a' | 'b' | 'c';
export type Router = 'r1' | 'r2' | 'r3';
export type Client = 'c1' | 'c2' | 'c3';

export const POPS: readonly Pop[];
export const ROUTERS: readonly Router[];
export const CLIENTS: readonly Client[];
export const ROUTER_OF: Readonly<Record<Pop | Client, Router>>;
export const NEAREST: Readonly<Record<Client, Pop>>;
export const ASN: Readonly<Record<Pop | Router, number>>;
export type Family = 4 | 6;
/** IPv4 anycast addresses and their prefixes; ANYCAST6 and PREFIX6 the IPv6 ones. */
export const ANYCAST: { readonly dns: string; readonly edge: string };
export const PREFIX: { readonly dns: string; readonly edge: string };
export const ANYCAST6: { readonly dns: string; readonly edge: string };
export const PREFIX6: { readonly dns: string; readonly edge: string };
interface LinkAddresses {
  popLink(pop: Pop): { readonly router: string; readonly pop: string };
  clientLink(client: Client): { readonly router: string; readonly client: string };
  routerLink(from: Router, to: Router): Readonly<Record<string, string>>;
}
/** The links' addresses: IPv4 (ADDR, with routerId) and IPv6 (ADDR6). */
export const ADDR: LinkAddresses & { routerId(router: Router): string };
export const ADDR6: LinkAddresses;
export const ZONE: string;
export const HOLD_DOWN_MS: number;
export const DAMPING: { readonly penalty: number; readonly suppress: number; readonly reuse: number; readonly halfLifeMs: number; readonly maxHoldDownMs: number };
export const BFD: { readonly intervalMs: number; readonly multiplier: number };
export const BGP_TIMERS: { readonly hold: number; readonly keepalive: number };
export const CATCHMENT_INTERVAL_MS: number;
export function serverId(pop: Pop): string;

export interface ExecResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface LabProcess {
  readonly pid: number;
  readonly child: ChildProcess;
  readonly logFile: string;
  readonly exited: Promise<number | string>;
}

export type ProcessName = `${'dns' | 'edge' | 'anycast'}-${Pop}` | `bird-${Pop | Router}` | `health-${Client}`;

export class Lab {
  readonly prefix: string;
  readonly dir: string;
  readonly procs: Partial<Record<ProcessName, LabProcess>>;
  constructor(prefix: string, dir: string);
  ns(key: Pop | Router | Client): string;
  exec(key: Pop | Router | Client, cmd: readonly string[], timeoutMs?: number): Promise<ExecResult>;
  configFile(pop: Pop): string;
  socket(key: Pop | Router): string;
  log(name: string): string;
  startBird(key: Pop | Router): LabProcess;
  startAnnouncer(pop: Pop): Promise<LabProcess>;
  startDns(pop: Pop): Promise<LabProcess>;
  startEdge(pop: Pop): Promise<LabProcess>;
  startProber(client: Client): Promise<LabProcess>;
  dnsStatus(pop: Pop): Promise<Record<string, unknown>>;
  meridian(key: Pop | Router | Client, args: readonly string[]): Promise<ExecResult>;
  stop(name: ProcessName, signal?: NodeJS.Signals): Promise<void>;
  pause(name: ProcessName, paused: boolean): void;
  askDns(key: Pop | Router | Client, server?: string): Promise<string | null>;
  servedBy(client: Client, family?: Family): Promise<string | null>;
  edgeServedBy(client: Client, family?: Family): Promise<string | null>;
  popCommand(action: 'drain' | 'undrain' | 'down' | 'auto', pop: Pop): Promise<string>;
  routes(router: Router, prefix?: string): Promise<{ pop: Pop | null; path: number[] }[]>;
  nextHop(router: Router, prefix?: string): Promise<string | null>;
  popSessionStats(router: Router): Promise<{ updates: number; withdraws: number; state: string }>;
  announcerMetrics(pop: Pop): Promise<string>;
  announcerStatus(pop: Pop): Promise<{
    override: 'drain' | 'down' | null;
    prefixes: { prefix: string; announced: boolean; reason: string }[];
  }>;
  waitUntil<T>(what: string, boundMs: number, get: () => Promise<T>, proc?: LabProcess): Promise<{ value: T; ms: number }>;
  cutLink(pop: Pop): Promise<void>;
  restoreLink(pop: Pop): Promise<void>;
  close(opts?: { keepFiles?: boolean }): void;
}

export function startLab(opts: {
  prefix?: string;
  dir: string;
  log?: (line: string) => void;
  /** Start a catchment prober in every client namespace (default false: the bench runs without). */
  probers?: boolean;
}): Promise<Lab>;
export function removeLab(prefix: string, dir?: string): void;
export function labExists(prefix: string): boolean;
