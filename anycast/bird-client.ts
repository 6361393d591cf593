// One connection to BIRD's control socket (a unix stream socket, `bird -s PATH`): wait for the
// 0001 welcome, then one command at a time, each resolved with its complete reply (BIRD answers
// requests in order, one reply each, so a queue is all the matching there is). Knows nothing of
// reconnecting: bird-driver.ts owns the connection's life. A command never hangs: it is bounded
// by a timeout, and a closed socket rejects what is pending.
import { createConnection, type Socket } from 'node:net';
import { ReplyReader, type Reply } from './bird-reply.js';

const COMMAND_TIMEOUT_MS = 5000;

export interface BirdConnection {
  /** BIRD's welcome line, e.g. 'BIRD 2.0.12 ready.' */
  readonly welcome: string;
  /** Sends one CLI command (no newline inside); resolves with its reply, rejects on close or timeout. */
  command(line: string): Promise<Reply>;
  /** Resolves when the socket has closed (BIRD stopped or restarted, or close() was called). */
  readonly closed: Promise<void>;
  close(): void;
}

interface Pending {
  resolve(reply: Reply): void;
  reject(err: Error): void;
}

export function connectBird(path: string, timeoutMs = COMMAND_TIMEOUT_MS): Promise<BirdConnection> {
  return new Promise((resolveConnect, rejectConnect) => {
    const socket: Socket = createConnection({ path });
    const reader = new ReplyReader();
    const pending: Pending[] = [];
    let welcomed = false;
    let closedResolve!: () => void;
    const closed = new Promise<void>((r) => (closedResolve = r));
    const welcomeTimer = setTimeout(
      () => socket.destroy(new Error(`no welcome from BIRD within ${timeoutMs} ms`)),
      timeoutMs,
    );

    const fail = (err: Error): void => {
      clearTimeout(welcomeTimer);
      if (!welcomed) rejectConnect(err);
      for (const p of pending.splice(0)) p.reject(err);
    };
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      for (const reply of reader.push(chunk)) {
        if (!welcomed) {
          welcomed = true;
          clearTimeout(welcomeTimer);
          if (!reply.ok || reply.code !== 1) {
            socket.destroy();
            return rejectConnect(
              new Error(`unexpected greeting from BIRD: ${reply.lines.map((l) => l.text).join(' ')}`),
            );
          }
          resolveConnect(connection(reply.lines[0]?.text ?? ''));
          continue;
        }
        pending.shift()?.resolve(reply);
      }
    });
    socket.on('error', (err) => fail(err));
    socket.on('close', () => {
      fail(new Error('BIRD closed the control socket'));
      closedResolve();
    });

    const connection = (welcome: string): BirdConnection => ({
      welcome,
      closed,
      close: () => socket.destroy(),
      command(line: string): Promise<Reply> {
        if (/[\r\n]/.test(line)) return Promise.reject(new Error('a BIRD command is one line'));
        if (socket.destroyed) return Promise.reject(new Error('BIRD control socket is closed'));
        return new Promise<Reply>((resolve, reject) => {
          // A reply that never comes means BIRD is stuck: drop the connection, the driver reconnects.
          const timer = setTimeout(
            () => socket.destroy(new Error(`BIRD did not answer '${line}' within ${timeoutMs} ms`)),
            timeoutMs,
          );
          pending.push({
            resolve: (r) => (clearTimeout(timer), resolve(r)),
            reject: (e) => (clearTimeout(timer), reject(e)),
          });
          socket.write(`${line}\n`);
        });
      },
    });
  });
}
