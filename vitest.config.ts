import { defineConfig } from 'vitest/config';

// .ci/run runs README's test command exactly as written and asks for a JSON report beside the
// usual output through this variable (it prints the pass/fail totals from it).
const jsonReport = process.env.MERIDIAN_TEST_REPORT;

export default defineConfig({
  test: {
    include: ['**/*.test.ts'],
    exclude: ['node_modules/**', 'dist/**'],
    testTimeout: 20_000,
    hookTimeout: 20_000,
    ...(jsonReport ? { reporters: ['default', 'json'], outputFile: { json: jsonReport } } : {}),
  },
});
