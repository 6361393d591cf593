// Preloaded into every child of `meridian up` (`node --import`): a child whose parent is gone
// stops itself. A Ctrl-C or SIGTERM to `up` stops its children in order; this covers the case
// where `up` cannot (SIGKILL, a crash), so no edge or DNS server is left holding its port.
// Linux's PR_SET_PDEATHSIG would do this in the kernel, but Node does not expose it.
const parent = process.ppid;

const watch = setInterval(() => {
  if (process.ppid === parent) return;
  clearInterval(watch);
  // The service's own SIGTERM handler closes it cleanly; if that hangs, leave anyway.
  process.kill(process.pid, 'SIGTERM');
  setTimeout(() => process.exit(1), 5000).unref();
}, 1000);
// Never the reason the process stays alive.
watch.unref();
