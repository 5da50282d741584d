/** The bounded queue is full: the caller should back off (or nack the message) and retry later. */
export class RenderQueueFullError extends Error {
  override readonly name = 'RenderQueueFullError';
}

/** The job exceeded its time budget; the page it ran on was discarded. */
export class RenderTimeoutError extends Error {
  override readonly name = 'RenderTimeoutError';
}

/** Chromium (or the page's renderer process) died or disconnected while the job ran. */
export class RenderCrashedError extends Error {
  override readonly name = 'RenderCrashedError';
}

/** The pool is closed (or closing) and takes no more work. */
export class RenderPoolClosedError extends Error {
  override readonly name = 'RenderPoolClosedError';
}
