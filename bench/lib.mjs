// The toolkit the bench scripts share, one import for all of it. Plain JS like the scripts (they
// run without a build step). Each job is its own file under lib/:
//   setup.mjs      where the repository and the CLI are, the loopback address, prerequisites, flags
//   processes.mjs  the processes and temp dirs a bench owns and their cleanup; running commands
//                  and load generators; starting servers and waiting until they are ready
//   ports.mjs      free ports, waiting for a TCP port to accept
//   cpu.mjs        CPU accounting from /proc (process trees, the machine, "other work")
//   report.mjs     progress lines, number formats, medians, the machine line, plain-text tables
//   prng.mjs       a seeded PRNG for generated inputs
//
// Importing it installs one 'exit' handler (processes.mjs's last-resort cleanup) and nothing else;
// signal handling is opt-in with stopOnSignals().
export * from './lib/setup.mjs';
export * from './lib/processes.mjs';
export * from './lib/ports.mjs';
export * from './lib/cpu.mjs';
export * from './lib/report.mjs';
export * from './lib/prng.mjs';
