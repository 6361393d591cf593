// An edge started in this process (edge/service.ts, one worker) from a YAML file in a temp dir,
// with a clock the test moves and its log lines kept for assertions.
import { startEdgeService, type EdgeService } from '../../edge/service.js';
import { capturedLog } from './captured-log.js';
import { writeConfigDir } from './config-dir.js';
import { edgeConfig } from './edge-config.js';
import { request, type TestResponse } from './http-client.js';

export interface TestEdge {
  readonly edge: EdgeService;
  readonly url: string;
  readonly controlUrl: string;
  readonly lines: Record<string, unknown>[];
  /** Moves the edge's clock forward. */
  advance(ms: number): void;
  get(path: string, headers?: Record<string, string>, method?: string, body?: string): Promise<TestResponse>;
  close(): Promise<void>;
}

export interface TestEdgeOptions {
  /** Extra lines inside `edge:` (YAML, two-space indented). */
  edge?: string;
  /** Replaces the pops list (YAML). */
  pops?: string;
  pop?: string;
  /** The origin URL (default: the given origin's). */
  origin: string;
}

export async function startTestEdge(opts: TestEdgeOptions): Promise<TestEdge> {
  // No warm-up (edge/warm-up.ts) unless a test asks for it: hundreds of in-process edges start here,
  // and none of these tests measures speed. Spawned edges (the CLI) keep the default.
  const edgeYaml = /^\s*warmUp:/m.test(opts.edge ?? '') ? opts.edge : `  warmUp: 0s\n${opts.edge ?? ''}`;
  const { configPath } = writeConfigDir(edgeConfig(opts.origin, edgeYaml, opts.pops), { prefix: 'meridian-edge-' });
  let offset = 0;
  const { log, lines } = capturedLog();
  const edge = await startEdgeService({
    configFile: configPath,
    pop: opts.pop ?? 'fra',
    listen: { host: '127.0.0.1', port: 0 },
    controlListen: { host: '127.0.0.1', port: 0 },
    // In-process tests move the clock; multi-worker tests spawn the built CLI (spawned-edge.ts).
    workers: 1,
    log,
    now: () => Date.now() + offset,
  });
  return {
    edge,
    url: edge.url,
    controlUrl: edge.control!.url,
    lines,
    advance: (ms) => void (offset += ms),
    get: (path, headers = {}, method = 'GET', body?: string) =>
      request(edge.url + path, { host: 'www.test', ...headers }, method, body),
    close: () => edge.close(),
  };
}
