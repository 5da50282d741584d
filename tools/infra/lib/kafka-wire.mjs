// @ts-check
// Kafka wire protocol (just enough for readiness checks)

import net from 'node:net';
import { HOST } from './config.mjs';

/**
 * One request on a fresh connection; resolves the response body after the correlation id.
 * @param {number} port @param {number} apiKey @param {number} apiVersion @param {Buffer} body
 * @returns {Promise<Buffer>}
 */
function kafkaRequest(port, apiKey, apiVersion, body, timeoutMs = 3000) {
  return new Promise((resolve, reject) => {
    const clientId = Buffer.from('papka-infra');
    const header = Buffer.alloc(10 + clientId.length);
    header.writeInt16BE(apiKey, 0);
    header.writeInt16BE(apiVersion, 2);
    header.writeInt32BE(7, 4); // correlation id
    header.writeInt16BE(clientId.length, 8);
    clientId.copy(header, 10);
    const size = Buffer.alloc(4);
    size.writeInt32BE(header.length + body.length, 0);
    const sock = net.connect({ host: HOST, port });
    let buf = Buffer.alloc(0);
    /** @param {Error | null} err @param {Buffer} [val] */
    const finish = (err, val) => {
      sock.destroy();
      if (err) reject(err);
      else resolve(/** @type {Buffer} */ (val));
    };
    sock.setTimeout(timeoutMs, () => finish(new Error('timeout')));
    sock.once('error', (e) => finish(e));
    sock.once('connect', () => sock.write(Buffer.concat([size, header, body])));
    sock.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      if (buf.length >= 4) {
        const n = buf.readInt32BE(0);
        if (buf.length >= 4 + n) finish(null, buf.subarray(8, 4 + n)); // skip size + correlation id
      }
    });
    sock.once('end', () => finish(new Error('connection closed')));
  });
}

/** @param {string} s */
function kafkaString(s) {
  const b = Buffer.from(s);
  const out = Buffer.alloc(2 + b.length);
  out.writeInt16BE(b.length, 0);
  b.copy(out, 2);
  return out;
}

/** Metadata v0 (all topics); returns the number of brokers the cluster reports. */
/** @param {number} port */
export async function kafkaBrokerCount(port) {
  const body = Buffer.alloc(4); // topics: empty array = all topics (v0)
  const r = await kafkaRequest(port, 3, 0, body);
  return r.readInt32BE(0);
}

/** FindCoordinator v0 for a consumer group; returns the error code (0 = coordinator available). */
/** @param {number} port @param {string} group */
export async function kafkaFindCoordinator(port, group) {
  const r = await kafkaRequest(port, 10, 0, kafkaString(group));
  return r.readInt16BE(0);
}
