// `npm install` runs this when node-gyp could not build native/udp_batch.c (no python3, make or
// g++; not Linux). Installing still succeeds: the DNS server then moves UDP through node:dgram,
// one datagram per system call, and says so in its start-up line.
console.warn(
  'meridian: the batched UDP addon (native/udp_batch.c) was not built; the DNS server will use node:dgram.\n' +
    'meridian: to build it, install python3, make and g++ and run `npm rebuild`.',
);
