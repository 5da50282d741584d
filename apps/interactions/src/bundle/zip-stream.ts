import archiver from 'archiver';
import { once } from 'node:events';
import type { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

export interface ZipSource {
  name: string;
  /** Opened only when the archive reaches this entry, so one source is open at a time. */
  open: () => Promise<Readable>;
  /** Already-compressed content (PDF, images, Office files) is stored, not deflated again. */
  compressed: boolean;
}

const COMPRESSED = /^(application\/(pdf|zip|vnd\.openxmlformats-officedocument\.[\w.]+)|image\/(png|jpeg|gif|webp))$/;
export const isCompressed = (contentType: string | null): boolean => COMPRESSED.test(contentType ?? '');

/**
 * Streams a ZIP of `sources` into `out` (an HTTP response). Entries are opened one after
 * another and flow through archiver with back-pressure, so memory stays at a few buffers
 * whatever the total size. A client that goes away aborts the archive and the open source.
 *
 * The first source is opened before anything is written and before `start` (which sets the
 * response's headers) runs: if that open fails, streamZip rejects with its error, nothing has
 * been sent, and the caller's error answer (a 503 for a storage outage) still goes out. Once
 * `start` has run the 200 is committed, so a later failure (a source that cannot be opened or
 * breaks off) aborts the archive, never finalizes it, and destroys `out`: the client sees a
 * transfer that stops short (no end of the chunked body, no ZIP central directory), not a
 * complete-looking ZIP with entries missing.
 */
export async function streamZip(sources: ZipSource[], out: Writable, start: () => void = () => undefined): Promise<void> {
  // Opened, not yet handed to archiver: released on every way out before that.
  let pending: Readable | undefined = sources.length > 0 ? await sources[0]!.open() : undefined;
  try {
    start();
  } catch (err) {
    pending?.destroy();
    throw err;
  }
  const archive = archiver('zip', { zlib: { level: 6 }, forceZip64: false });
  // Errors are handled through the race below and the pipeline; this listener only makes sure
  // a late 'error' from archiver can never become an uncaught exception that stops the process.
  archive.on('error', () => undefined).on('warning', () => undefined);
  const done = pipeline(archive, out);
  const gone = new AbortController();
  // A client that left while the first source was being opened has already had its 'close'.
  if (out.destroyed) gone.abort();
  else out.once('close', () => gone.abort());
  try {
    for (const source of sources) {
      if (gone.signal.aborted) break;
      const stream = pending ?? (await source.open());
      pending = undefined;
      archive.append(stream, { name: source.name, store: source.compressed });
      try {
        // The entry is written, or its source fails, or the client goes away.
        await Promise.race([once(archive, 'entry'), failure(stream), aborted(gone.signal)]);
      } catch (err) {
        stream.destroy();
        throw err;
      }
    }
    if (!gone.signal.aborted) await archive.finalize();
  } catch (err) {
    archive.abort();
    out.destroy(err as Error);
  } finally {
    pending?.destroy();
  }
  await done.catch(() => undefined);
}

/** Rejects when `stream` errors (archiver does not always listen before data flows). */
function failure(stream: Readable): Promise<never> {
  const p = new Promise<never>((_, reject) => stream.once('error', reject));
  p.catch(() => undefined); // the race reports it; a loser must not be an unhandled rejection
  return p;
}

function aborted(signal: AbortSignal): Promise<never> {
  const p = new Promise<never>((_, reject) => {
    const fail = () => reject(new Error('the client went away'));
    if (signal.aborted) fail();
    else signal.addEventListener('abort', fail, { once: true });
  });
  p.catch(() => undefined);
  return p;
}
