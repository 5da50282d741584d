// @ts-check
// Is something listening, answering?

import http from 'node:http';
import net from 'node:net';
import { HOST } from './config.mjs';
import { InfraError } from './report.mjs';

/** Resolves true if something accepts a TCP connection on host:port. @param {number} port @returns {Promise<boolean>} */
export function tcpOpen(port, host = HOST, timeoutMs = 1000) {
  return new Promise((resolve) => {
    const s = net.connect({ port, host });
    /** @param {boolean} ok */
    const done = (ok) => {
      s.destroy();
      resolve(ok);
    };
    s.setTimeout(timeoutMs, () => done(false));
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
  });
}

/** The status code, or 0 when nothing answers in time. @param {string} url @returns {Promise<number | undefined>} */
export function httpStatus(url, timeoutMs = 2000) {
  return new Promise((resolve) => {
    const req = http.get(url, { timeout: timeoutMs }, (res) => {
      res.resume();
      resolve(res.statusCode);
    });
    req.on('timeout', () => {
      req.destroy();
      resolve(0);
    });
    req.on('error', () => resolve(0));
  });
}

/** @param {string} comp @param {number} port @param {string} what */
export async function ensurePortFree(comp, port, what) {
  if (await tcpOpen(port)) {
    throw new InfraError(`${what} port ${HOST}:${port} is already in use by a process this script did not start`, {
      hint: `find it with \`ss -ltnp 'sport = :${port}'\` and stop it, or choose another port via the PAPKA_*_PORT variables`,
    });
  }
}
