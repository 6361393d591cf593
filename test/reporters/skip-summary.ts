// Ends every run with what was skipped and why, one line per reason, so a green `npm test` on a
// machine without dig or python3 says what it did not check and what to install. The reasons
// come from test/helpers/system-tools.ts (a test's meta) or from `ctx.skip(note)`.
import type { Reporter, TestModule } from 'vitest/node';

/** Files named per reason before "and N more". */
const FILES_SHOWN = 4;

export default class SkipSummary implements Reporter {
  onTestRunEnd(modules: ReadonlyArray<TestModule>): void {
    const byReason = new Map<string, Map<string, number>>();
    let total = 0;
    for (const module of modules) {
      for (const test of module.children.allTests('skipped')) {
        const result = test.result();
        if (test.options.mode === 'todo') continue;
        const reason =
          test.meta().skipReason ?? (result.state === 'skipped' ? result.note : undefined) ?? 'no reason given';
        const files = byReason.get(reason) ?? new Map<string, number>();
        files.set(module.relativeModuleId, (files.get(module.relativeModuleId) ?? 0) + 1);
        byReason.set(reason, files);
        total += 1;
      }
    }
    if (total === 0) return;
    const lines = [`Skipped ${total} test${total === 1 ? '' : 's'} on this machine:`];
    for (const [reason, files] of [...byReason].sort((a, b) => count(b[1]) - count(a[1]))) {
      const named = [...files].slice(0, FILES_SHOWN).map(([file, n]) => `${file} (${n})`);
      const more = files.size > FILES_SHOWN ? `, and ${files.size - FILES_SHOWN} more files` : '';
      lines.push(`  ${String(count(files)).padStart(3)}  ${reason}`, `       in ${named.join(', ')}${more}`);
    }
    process.stdout.write(`\n${lines.join('\n')}\n\n`);
  }
}

function count(files: Map<string, number>): number {
  let n = 0;
  for (const v of files.values()) n += v;
  return n;
}
