import { defineConfig } from 'vitest/config';

// .ci/run runs README's test command exactly as written and asks for a JSON report beside the
// usual output through this variable (it prints the pass/fail totals from it).
const jsonReport = process.env.MERIDIAN_TEST_REPORT;
// After the usual output: what was skipped on this machine and why (a missing tool, no ::1).
const reporters = ['default', './test/reporters/skip-summary.ts'];

// The compose system test builds an image and runs eleven containers: on a 2-core machine that
// would starve the timing-sensitive tests running beside it, so it runs alone, after them
// (sequence.groupOrder).
const COMPOSE = 'test/system/compose.test.ts';
// A million-record zone takes ~1 GB and a core for 12-30 s: alone too, after the others.
const ZONE_SCALE = 'dns/zone/scale.test.ts';
// The fuzz campaign keeps the server and the test busy on both cores for ~20 s: alone, last.
const FUZZ_CAMPAIGN = 'test/security/dns-fuzz-campaign.test.ts';

export default defineConfig({
  test: {
    exclude: ['node_modules/**', 'dist/**'],
    testTimeout: 20_000,
    hookTimeout: 20_000,
    reporters: jsonReport ? [...reporters, 'json'] : reporters,
    ...(jsonReport ? { outputFile: { json: jsonReport } } : {}),
    projects: [
      {
        extends: true,
        test: {
          name: 'unit+integration',
          include: ['**/*.test.ts'],
          exclude: ['node_modules/**', 'dist/**', COMPOSE, ZONE_SCALE, FUZZ_CAMPAIGN],
          sequence: { groupOrder: 0 },
        },
      },
      { extends: true, test: { name: 'compose', include: [COMPOSE], sequence: { groupOrder: 1 } } },
      { extends: true, test: { name: 'zone-scale', include: [ZONE_SCALE], sequence: { groupOrder: 2 } } },
      { extends: true, test: { name: 'fuzz-campaign', include: [FUZZ_CAMPAIGN], sequence: { groupOrder: 3 } } },
    ],
  },
});
