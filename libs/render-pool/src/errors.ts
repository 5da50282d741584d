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
  override readonly name: string = 'RenderCrashedError';
}

/**
 * There is no browser to render on: Chromium is down and relaunching it failed (the pool tries
 * again with a back-off, see RenderPool.available). Unlike a RenderCrashedError met while the job
 * ran, the job did not cause it, so a caller should wait for the browser rather than count it
 * against the job. A RenderCrashedError too, so callers that treat every crash alike still do.
 */
export class RenderBrowserUnavailableError extends RenderCrashedError {
  override readonly name: string = 'RenderBrowserUnavailableError';
}

/** The pool is closed (or closing) and takes no more work. */
export class RenderPoolClosedError extends Error {
  override readonly name = 'RenderPoolClosedError';
}
