import { defineConfig } from 'vitest/config';

// .ci/run runs README's test command exactly as written and asks for a JSON report beside the
// usual output through this variable (it prints the pass/fail totals from it).
const jsonReport = process.env.MERIDIAN_TEST_REPORT;
// After the usual output: what was skipped on this machine and why (a missing tool, no ::1).
const reporters = ['default', './test/reporters/skip-summary.ts'];

export default defineConfig({
  test: {
    include: ['**/*.test.ts'],
    exclude: ['node_modules/**', 'dist/**'],
    testTimeout: 20_000,
    hookTimeout: 20_000,
    reporters: jsonReport ? [...reporters, 'json'] : reporters,
    ...(jsonReport ? { outputFile: { json: jsonReport } } : {}),
  },
});
