// Single requests outside the load: one GET on a fresh connection, and the bytes one keep-alive
// response takes on the wire (what each server sends per request under wrk).
import http from 'node:http';
import net from 'node:net';
import { HOST } from '../lib.mjs';

export const REQUEST_TIMEOUT_MS = 5_000;

/** One GET with a fresh connection (no agent, nothing left open); resolves with status, headers and body size. */
export function httpGet(port, path) {
  return new Promise((res, rej) => {
    const req = http.request(
      { host: HOST, port, path, method: 'GET', agent: false, headers: { connection: 'close' } },
      (r) => {
        let bytes = 0;
        r.on('data', (d) => (bytes += d.length));
        r.on('end', () => res({ status: r.statusCode, headers: r.headers, bytes }));
        r.on('error', rej);
      },
    );
    req.setTimeout(REQUEST_TIMEOUT_MS, () =>
      req.destroy(new Error(`GET ${path} on port ${port}: no answer within ${REQUEST_TIMEOUT_MS / 1000} s`)),
    );
    req.on('error', rej);
    req.end();
  });
}

/** Bytes on the wire of one keep-alive response to the request wrk sends (status line, headers, body). */
export function rawResponseBytes(port, path) {
  return new Promise((res, rej) => {
    const s = net.connect(port, HOST);
    let buf = Buffer.alloc(0);
    const timer = setTimeout(() => {
      s.destroy();
      rej(new Error('raw GET timed out'));
    }, REQUEST_TIMEOUT_MS);
    s.on('connect', () => s.write(`GET ${path} HTTP/1.1\r\nHost: ${HOST}:${port}\r\n\r\n`));
    s.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      const length = Number(
        buf
          .subarray(0, end)
          .toString('latin1')
          .match(/\r\ncontent-length:\s*(\d+)/i)?.[1] ?? NaN,
      );
      if (Number.isFinite(length) && buf.length >= end + 4 + length) {
        clearTimeout(timer);
        s.destroy();
        res({ total: end + 4 + length, head: end + 4 });
      }
    });
    s.on('error', (e) => {
      clearTimeout(timer);
      rej(e);
    });
  });
}
