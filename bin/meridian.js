#!/usr/bin/env node
// The installed `meridian` command: runs the compiled CLI (npm run build produces dist/).
import { main } from '../dist/cli/main.js';

main(process.argv.slice(2)).then(
  (code) => {
    if (typeof code === 'number') process.exitCode = code;
  },
  (err) => {
    process.stderr.write(`meridian: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
