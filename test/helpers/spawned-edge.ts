// Test helper: the real `meridian edge --workers N` process (built CLI; vitest cannot fork the
// .ts worker entry point), on free loopback ports, and a client that opens a new connection
// per request so the primary's round-robin hands consecutive requests to different workers.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join, resolve as resolvePath } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO_ROOT = resolvePath(dirname(fileURLToPath(import.meta.url)), '..', '..');
const MERIDIAN_BIN = join(REPO_ROOT, 'bin', 'meridian.js');
const READY_MSG = 'meridian edge serving';
const READY_TIMEOUT_MS = 20_000;

export interface SpawnedEdge {
  readonly url: string;
  readonly controlUrl: string;
  readonly process: ChildProcess;
  readonly output: string[];
  stop(): Promise<void>;
}

/** `edgeYaml`: extra lines inside `edge:` (two-space indented). */
export async function spawnEdge(origin: string, workers: number, edgeYaml = ''): Promise<SpawnedEdge> {
  const dir = mkdtempSync(join(tmpdir(), 'meridian-edge-cluster-'));
  const config = join(dir, 'meridian.yaml');
  writeFileSync(config, `edge:\n  origin: "${origin}"\n${edgeYaml}\npops:\n  - { id: fra, location: { lat: 50.11, lon: 8.68 }, ipv4: [127.0.0.1], edge: "http://127.0.0.1:8080" }\n`);
  const env = { ...process.env };
  delete env.MERIDIAN_CONTROL_TOKEN;
  const child = spawn(process.execPath, [MERIDIAN_BIN, 'edge', '--config', config, '--pop', 'fra', '--listen', '127.0.0.1:0', '--control', '127.0.0.1:0', '--workers', String(workers)], {
    cwd: REPO_ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(killer);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const ready = new Promise<{ url: string; control: string }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`edge not ready in ${READY_TIMEOUT_MS} ms:\n${output.join('\n')}`)), READY_TIMEOUT_MS);
    let buf = '';
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      buf += chunk;
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        output.push(line);
        if (!line.includes(READY_MSG)) continue;
        const parsed = JSON.parse(line) as { url: string; control: string };
        clearTimeout(timer);
        resolve({ url: parsed.url, control: parsed.control });
      }
    });
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => output.push(chunk));
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`edge exited before it was ready:\n${output.join('\n')}`));
    });
  });
  try {
    const { url, control } = await ready;
    return { url, controlUrl: control, process: child, output, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}

export interface FreshResponse {
  readonly status: number;
  readonly text: string;
  readonly cacheStatus: string;
}

/** One request on its own connection. */
export function freshRequest(url: string, headers: Record<string, string> = {}, method = 'GET'): Promise<FreshResponse> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method, agent: false, headers: { host: 'www.test', connection: 'close', ...headers } }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (d: string) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text, cacheStatus: String(res.headers['cache-status'] ?? '') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}
