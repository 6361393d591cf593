// `npm install` runs this when node-gyp could not build native/ (no python3, make or g++; not
// Linux). Installing still succeeds: the DNS server then moves UDP through node:dgram, one
// datagram per system call, and the edge accepts connections the way libuv does, one per event
// loop turn; each says so in its start-up line.
console.warn(
  'meridian: the native addons (native/udp_batch.c, native/tcp_accept.c) were not built; the DNS server will use node:dgram\n' +
    'meridian: and the edge will accept one connection per event-loop turn.\n' +
    'meridian: to build them, install python3, make and g++ and run `npm rebuild`.',
);
