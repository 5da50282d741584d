/** What every failure says about the call, without headers or query string in the message. */
export interface HttpErrorInit {
  method: string;
  /** Origin and path only: a query string may carry a token (Adesk v1 takes `api_token` there). */
  url: string;
  /** Whether the request had been written to a socket when it failed. */
  requestSent: boolean;
  /** What went wrong, e.g. `timed out after 5000 ms after the request was sent`, `answered HTTP 422`. */
  reason: string;
  /** The answer's status, when there was an answer. */
  status?: number;
  /** The answer's body, when there was one: parsed JSON when it is JSON, else its text. Never in the message. */
  body?: unknown;
  /** The answer's headers, when there was an answer (MoySklad's `X-Lognex-*` rate headers). Never in the message. */
  headers?: Record<string, string | string[] | undefined>;
  cause?: unknown;
}

/** Base of the four outcomes below; a connector branches on the subclass, never on the message. */
export abstract class HttpError extends Error {
  readonly method: string;
  readonly url: string;
  readonly requestSent: boolean;
  readonly reason: string;
  readonly status?: number;
  readonly body?: unknown;
  readonly headers?: Record<string, string | string[] | undefined>;

  protected constructor(init: HttpErrorInit) {
    super(`${init.method} ${init.url}: ${init.reason}`, init.cause === undefined ? undefined : { cause: init.cause });
    this.name = new.target.name;
    this.method = init.method;
    this.url = init.url;
    this.requestSent = init.requestSent;
    this.reason = init.reason;
    this.status = init.status;
    this.body = init.body;
    this.headers = init.headers;
  }
}

/** 429: not applied. Wait `retryAfterMs` (from `Retry-After`; undefined when absent or unreadable). */
export class RateLimited extends HttpError {
  declare readonly status: 429;

  constructor(
    init: HttpErrorInit,
    readonly retryAfterMs: number | undefined,
  ) {
    super({ ...init, status: 429 });
  }
}

/**
 * The target is down or unreachable and did NOT apply the request (or the request is
 * idempotent, so a repeat does no harm): safe to send again later, and not a failed attempt.
 */
export class Unavailable extends HttpError {
  constructor(
    init: HttpErrorInit,
    /** From `Retry-After` on a 503, when the target gave one. */
    readonly retryAfterMs?: number,
  ) {
    super(init);
  }
}

/**
 * The target answered this request with a refusal or an unusable answer and did not apply it
 * (or the request is idempotent): sending the same request again is not expected to help.
 */
export class Rejected extends HttpError {
  declare readonly status: number;

  constructor(init: HttpErrorInit & { status: number }) {
    super(init);
  }
}

/**
 * A non-idempotent request MAY have been applied: it was sent, and then the answer was lost
 * (timeout, reset), was a 5xx other than 503, or could not be read. Look the object up in the
 * target before sending it again.
 */
export class OutcomeUnknown extends HttpError {
  constructor(init: HttpErrorInit) {
    super(init);
  }
}
