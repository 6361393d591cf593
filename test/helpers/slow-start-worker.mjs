// A node:cluster worker for common/process-pool.test.ts that starts like the services' workers:
// it asks for its setup, takes `setup.startMs` to get ready (as the edge's warm-up does), and
// only then listens for the service's messages. Until then, a message that reaches it is lost,
// as it would be in a real worker. Asked { kind: 'report', id }, it answers with what it got and
// how many IPC messages brought it (a { kind: 'batch', msgs } from a batching pool is taken
// apart, as common/ipc-batch.ts's unbatch does).
const got = [];
let arrivals = 0;
const send = (msg) => process.send?.(msg);
process.on('message', function onSetup(msg) {
  if (msg?.kind !== 'setup') return;
  process.off('message', onSetup);
  setTimeout(() => {
    const one = (m) => {
      if (m?.kind === 'report') send({ kind: 'reply', id: m.id, body: { got, arrivals } });
      else got.push(m);
    };
    process.on('message', (m) => {
      arrivals++;
      if (m?.kind === 'batch' && Array.isArray(m.msgs)) m.msgs.forEach(one);
      else one(m);
    });
    send({ kind: 'ready' });
  }, msg.setup.startMs);
});
// The pool stops a worker by disconnecting it (ProcessPool.close).
process.on('disconnect', () => process.exit(0));
send({ kind: 'setup-request' });
