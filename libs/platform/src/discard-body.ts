import type { IncomingMessage } from 'node:http';

/**
 * Reads and drops what is left of a request's body, so its connection can carry the next request
 * (an unread body would sit in front of it for good) and a client still sending reads the answer
 * instead of a reset. At most `maxBytes` and `maxMs`: a body declared over `maxBytes` is not read
 * at all. Resolves true once the body has ended within both, false otherwise; then the caller ends
 * the connection after its answer. Past a cap the stream stays flowing, so whatever still comes
 * until the connection ends is dropped too.
 */
export function discardBody(req: IncomingMessage, maxBytes: number, maxMs: number): Promise<boolean> {
  if (!hasUnreadBody(req)) return Promise.resolve(true);
  req.unpipe();
  if (Number(req.headers['content-length'] ?? 0) > maxBytes) return Promise.resolve(false);
  return new Promise<boolean>((resolve) => {
    let bytes = 0;
    const done = (drained: boolean) => {
      clearTimeout(timer);
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('close', onGone);
      req.off('error', onGone);
      resolve(drained);
    };
    const onData = (c: Buffer) => {
      bytes += c.length;
      if (bytes > maxBytes) done(false);
    };
    const onEnd = () => done(true);
    const onGone = () => done(false);
    const timer = setTimeout(() => done(false), maxMs);
    req.on('data', onData);
    req.once('end', onEnd);
    req.once('close', onGone);
    req.once('error', onGone);
    req.resume();
  });
}

/** Whether some of the request's body is still to be read (none for a GET, or once read whole). */
export const hasUnreadBody = (req: IncomingMessage): boolean => !(req.readableEnded || req.destroyed || (req.complete && req.readableLength === 0));
