import { describe, expect, it } from 'vitest';
import { dockerIgnored, parseDockerfile, stageHolds, stageLayout } from './dockerfile.js';
import { globRegExp } from './glob.js';

const DOCKERFILE = `# syntax=docker/dockerfile:1
FROM --platform=linux/amd64 node:20 AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci \\
    --omit=dev
COPY dns ./dns

FROM node:20-slim
WORKDIR /app
COPY --from=build /src/dist dist
COPY ["bin/meridian.js", "bin/"]
USER node:node
ENTRYPOINT ["node", "bin/meridian.js"]
`;

describe('parseDockerfile and stageLayout', () => {
  it('splits stages, joins continued lines and skips comments', () => {
    const stages = parseDockerfile(DOCKERFILE);
    expect(stages.map((s) => [s.name, s.base])).toEqual([
      ['build', 'node:20'],
      [undefined, 'node:20-slim'],
    ]);
    expect(stages[0]!.instructions.map((i) => i.op)).toEqual(['WORKDIR', 'COPY', 'RUN', 'COPY']);
    expect(stages[0]!.instructions[2]!.args).toBe('npm ci      --omit=dev');
  });

  it('resolves COPY destinations against WORKDIR and reads USER, RUN, ENTRYPOINT', () => {
    const [build, runtime] = parseDockerfile(DOCKERFILE).map(stageLayout);
    expect(build!.copies[0]).toEqual({
      from: undefined,
      sources: ['package.json', 'package-lock.json'],
      dest: '/src',
      destIsDir: true,
    });
    expect(build!.runs).toEqual(['npm ci      --omit=dev']);
    expect(runtime!.workdir).toBe('/app');
    expect(runtime!.user).toBe('node');
    expect(runtime!.entrypoint).toEqual(['node', 'bin/meridian.js']);
    expect(runtime!.copies.map((c) => [c.from, c.sources, c.dest, c.destIsDir])).toEqual([
      ['build', ['/src/dist'], '/app/dist', false],
      [undefined, ['bin/meridian.js'], '/app/bin', true],
    ]);
  });
});

describe('.dockerignore', () => {
  it('lets the last matching pattern decide; a directory pattern covers its contents', () => {
    const ignore = '# comment\nnode_modules\n**/*.test.ts\ndist\n!dist/keep.js\n';
    expect(dockerIgnored(ignore, 'node_modules/x/index.js')).toBe(true);
    expect(dockerIgnored(ignore, 'dns/wire/decode.test.ts')).toBe(true);
    expect(dockerIgnored(ignore, 'dns/wire/decode.ts')).toBe(false);
    expect(dockerIgnored(ignore, 'dist/cli/main.js')).toBe(true);
    expect(dockerIgnored(ignore, 'dist/keep.js')).toBe(false);
  });
});

describe('stageHolds', () => {
  it('holds a repo file copied to the same place under the final WORKDIR, unless .dockerignore drops it', () => {
    const [build] = parseDockerfile(DOCKERFILE);
    expect(stageHolds('', build!, 'package.json')).toBe(true);
    expect(stageHolds('', build!, 'dns/wire/decode.ts')).toBe(true);
    expect(stageHolds('dns/wire', build!, 'dns/wire/decode.ts')).toBe(false);
    expect(stageHolds('', build!, 'cli/main.ts')).toBe(false);
  });
});

describe('globRegExp', () => {
  it('matches * and ? within a segment and ** across segments', () => {
    expect(globRegExp('*.ts').test('a.ts')).toBe(true);
    expect(globRegExp('*.ts').test('dir/a.ts')).toBe(false);
    expect(globRegExp('?.ts').test('ab.ts')).toBe(false);
    expect(globRegExp('**/*.test.ts').test('a.test.ts')).toBe(true);
    expect(globRegExp('**/*.test.ts').test('a/b/c.test.ts')).toBe(true);
    expect(globRegExp('**/testdata/**').test('geo-data/testdata/x.mmdb')).toBe(true);
    expect(globRegExp('a.b').test('axb')).toBe(false);
  });
});
