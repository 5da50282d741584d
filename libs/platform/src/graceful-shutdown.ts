import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { Server as NetServer, type Socket } from 'node:net';

export interface DrainOptions {
  /** A connection idle this long while draining is closed (a request arriving sooner is still served). */
  idleCloseMs?: number;
  /** Connections still open this long after the drain began are cut, so the process exits within its grace period. */
  forceAfterMs?: number;
  /** Signals that begin the drain (Nest's shutdown hooks then close the app). */
  signals?: NodeJS.Signals[];
}

/**
 * Lets an HTTP server stop without resetting a request. Node's `server.close()` destroys every
 * idle keep-alive connection at once, and a client may be sending its next request on one at
 * that very moment: it gets ECONNRESET for a request that was never read. Instead, from the
 * first shutdown signal (or from `close()`):
 * - the server stops listening: a new connection is refused, which a client (the gateway's
 *   pool, a load balancer) retries elsewhere;
 * - every response not yet begun carries `Connection: close`, so the client does not reuse the
 *   connection and Node closes it once the answer is out;
 * - a connection that stays idle for `idleCloseMs` is closed; one that is used meanwhile gets
 *   its answer (with `Connection: close`) first;
 * - `close()` (Nest's adapter close, after the consumers stopped) resolves once every
 *   connection has ended, or cuts the rest after `forceAfterMs`.
 */
export function drainOnShutdown(server: Server, o: DrainOptions = {}): { begin(): void; drained(): Promise<void> } {
  const idleCloseMs = o.idleCloseMs ?? 250;
  const forceAfterMs = o.forceAfterMs ?? 15_000;
  const active = new Map<Socket, number>(); // open connections -> requests in flight on each
  const idleTimers = new Map<Socket, NodeJS.Timeout>();
  const responses = new Set<ServerResponse>(); // in flight
  let draining = false;
  let onDrained: (() => void) | undefined;
  const drainedPromise = new Promise<void>((resolve) => (onDrained = resolve));

  const checkDrained = () => {
    if (draining && active.size === 0) onDrained?.();
  };
  const closeWhenIdle = (socket: Socket) => {
    clearTimeout(idleTimers.get(socket));
    idleTimers.set(
      socket,
      setTimeout(() => {
        if (active.get(socket) === 0) socket.destroy();
      }, idleCloseMs).unref(),
    );
  };

  server.on('connection', (socket: Socket) => {
    active.set(socket, 0);
    if (draining) closeWhenIdle(socket);
    socket.once('close', () => {
      clearTimeout(idleTimers.get(socket));
      idleTimers.delete(socket);
      active.delete(socket);
      checkDrained();
    });
  });
  // First, so the header is set before any handler can send a response.
  server.prependListener('request', (req: IncomingMessage, res: ServerResponse) => {
    const socket = req.socket;
    active.set(socket, (active.get(socket) ?? 0) + 1);
    clearTimeout(idleTimers.get(socket));
    if (draining) res.setHeader('connection', 'close');
    responses.add(res);
    res.once('close', () => {
      responses.delete(res);
      if (!active.has(socket)) return;
      const left = (active.get(socket) ?? 1) - 1;
      active.set(socket, left);
      // A response whose headers went out before the drain kept the connection open.
      if (draining && left === 0 && !socket.destroyed) closeWhenIdle(socket);
    });
  });

  const begin = () => {
    if (draining) return;
    draining = true;
    // Stop listening, but without http.Server#close's closeIdleConnections() (see above).
    if (server.listening) NetServer.prototype.close.call(server);
    for (const res of responses) if (!res.headersSent) res.setHeader('connection', 'close');
    for (const [socket, requests] of active) if (requests === 0) closeWhenIdle(socket);
    setTimeout(() => {
      for (const socket of active.keys()) socket.destroy();
    }, forceAfterMs).unref();
    checkDrained();
  };

  const signals = o.signals ?? ['SIGTERM', 'SIGINT'];
  const onSignal = () => {
    for (const s of signals) process.removeListener(s, onSignal);
    begin();
  };
  for (const s of signals) process.once(s, onSignal);
  server.once('close', () => {
    for (const s of signals) process.removeListener(s, onSignal);
  });

  return {
    begin,
    drained: () => {
      begin();
      return drainedPromise;
    },
  };
}
