// The real `meridian edge --workers N` process (built CLI; vitest cannot fork the .ts worker
// entry point), on free loopback ports, for tests of multi-worker serving. Pair it with
// http-client.ts's freshRequest, which spreads requests over the workers.
import type { ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { writeConfigDir } from './config-dir.js';
import { edgeConfig } from './edge-config.js';
import { collectLines, spawnMeridian, terminate } from './meridian-process.js';

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
  const { dir, configPath } = writeConfigDir(edgeConfig(origin, edgeYaml), { prefix: 'meridian-edge-cluster-' });
  const child = spawnMeridian([
    'edge',
    '--config',
    configPath,
    '--pop',
    'fra',
    '--listen',
    '127.0.0.1:0',
    '--control',
    '127.0.0.1:0',
    '--workers',
    String(workers),
  ]);
  const output: string[] = [];
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async (): Promise<void> => {
    await terminate(child, exited, 5000);
    rmSync(dir, { recursive: true, force: true });
  };
  const ready = new Promise<{ url: string; control: string }>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`edge not ready in ${READY_TIMEOUT_MS} ms:\n${output.join('\n')}`)),
      READY_TIMEOUT_MS,
    );
    collectLines(child.stdout, output, (line) => {
      if (!line.includes(READY_MSG)) return;
      const parsed = JSON.parse(line) as { url: string; control: string };
      clearTimeout(timer);
      resolve({ url: parsed.url, control: parsed.control });
    });
    collectLines(child.stderr, output);
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
