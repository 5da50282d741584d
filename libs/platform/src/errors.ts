/** Errors a service throws; the HTTP filter maps each to its status and error code. */
export class AppError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly errors?: Record<string, string[]>,
    readonly headers?: Record<string, string>,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** 404 for what does not exist *or* belongs to another account: existence never leaks. */
export class NotFoundError extends AppError {
  constructor(what: string) {
    super(404, 'NOT_FOUND', `${what} not found`);
  }
}

export class ValidationFailedError extends AppError {
  constructor(errors: Record<string, string[]>, message = 'Validation failed') {
    super(400, 'VALIDATION_FAILED', message, errors);
  }
}

/** A 400 for one field. */
export const fieldError = (field: string, message: string) => new ValidationFailedError({ [field]: [message] }, message);

export class ConflictError extends AppError {
  constructor(code: string, message: string, errors?: Record<string, string[]>, headers?: Record<string, string>) {
    super(409, code, message, errors, headers);
  }
}

export class ServiceUnavailableError extends AppError {
  constructor(code: string, message: string, retryAfterSeconds?: number) {
    super(503, code, message, undefined, retryAfterSeconds ? { 'Retry-After': String(retryAfterSeconds) } : undefined);
  }
}

/*
 * The catalog: every error code a service answers with besides the kinds above, one class
 * each, so a code is spelled once and clients can rely on it. Add new codes here, not inline.
 */

/** 401: no bearer token, or one that does not verify. */
export class UnauthorizedError extends AppError {
  constructor(message: string) {
    super(401, 'UNAUTHORIZED', message);
  }
}

/** 405, with the methods the path does take. */
export class MethodNotAllowedError extends AppError {
  constructor(method: string, path: string, allow: string[]) {
    super(405, 'METHOD_NOT_ALLOWED', `${method} is not allowed on ${path}`, undefined, { Allow: allow.join(', ') });
  }
}

/** 413 for a body or file over its limit. */
export class PayloadTooLargeError extends AppError {
  constructor(message: string) {
    super(413, 'PAYLOAD_TOO_LARGE', message);
  }
}

/** 415 for a body or file of a type the endpoint does not take. */
export class UnsupportedMediaTypeError extends AppError {
  constructor(message: string) {
    super(415, 'UNSUPPORTED_MEDIA_TYPE', message);
  }
}

export class MalformedJsonError extends AppError {
  constructor() {
    super(400, 'MALFORMED_JSON', 'Request body is not valid JSON');
  }
}

export class BadMultipartError extends AppError {
  constructor() {
    super(400, 'BAD_MULTIPART', 'The multipart body is malformed');
  }
}

/** 422: an Idempotency-Key seen before with another request. */
export class IdempotencyKeyReusedError extends AppError {
  constructor() {
    super(422, 'IDEMPOTENCY_KEY_REUSED', 'This Idempotency-Key was already used for a different request');
  }
}

export class RateLimitedError extends AppError {
  constructor(retryAfterSeconds: number) {
    super(429, 'RATE_LIMITED', `Too many requests, retry in ${retryAfterSeconds} s`, undefined, { 'Retry-After': String(retryAfterSeconds) });
  }
}

/** 409 while a document is still being rendered: its file is coming, so retry. */
export class RenderPendingError extends ConflictError {
  constructor() {
    super('RENDER_PENDING', 'The document is still being rendered, try again shortly', undefined, { 'Retry-After': '2' });
  }
}

/** 409 for a document whose rendering failed, so it has no file; with the reason when known. */
export class RenderFailedError extends ConflictError {
  constructor(reason?: string) {
    super('RENDER_FAILED', reason === undefined ? 'The document could not be rendered, so it has no file' : `The document could not be rendered: ${reason}`);
  }
}

/** 409 for a status change the status machine does not allow (the message lists what is). */
export class InvalidStatusTransitionError extends ConflictError {
  constructor(message: string) {
    super('INVALID_STATUS_TRANSITION', message);
  }
}

export class DuplicateInnError extends ConflictError {
  constructor(inn: string) {
    super('DUPLICATE_INN', `a contractor with INN ${inn} already exists`, { inn: ['a contractor with this INN already exists in this account'] });
  }
}

export class DuplicateBankAccountError extends ConflictError {
  constructor() {
    super('DUPLICATE_BANK_ACCOUNT', 'this contractor already has this bank account', { number: ['this contractor already has this bank account'] });
  }
}

export class BuiltinTemplateError extends ConflictError {
  constructor() {
    super('BUILTIN_TEMPLATE', 'built-in templates cannot be deleted');
  }
}

/** 503 for an unreachable PostgreSQL, whichever query met it. */
export class DatabaseUnavailableError extends ServiceUnavailableError {
  constructor() {
    super('DATABASE_UNAVAILABLE', 'The database is not reachable, try again shortly', 5);
  }
}

/** 503 from withStorage (named apart from @papka/storage's StorageUnavailableError, its cause). */
export class FileStorageUnavailableError extends ServiceUnavailableError {
  constructor() {
    super('STORAGE_UNAVAILABLE', 'File storage is not reachable right now, try again shortly', 5);
  }
}

/** 503 without a provider key: the look-up endpoints are off. */
export class LookupNotConfiguredError extends ServiceUnavailableError {
  constructor(message: string) {
    super('LOOKUP_NOT_CONFIGURED', message);
  }
}

export class LookupUnavailableError extends ServiceUnavailableError {
  constructor(detail: string, retryAfterSeconds: number) {
    super('LOOKUP_UNAVAILABLE', `Organisation/bank look-up is unavailable: ${detail}`, retryAfterSeconds);
  }
}

/** 503 from the gateway for a service this deployment does not run. */
export class ServiceNotAvailableError extends ServiceUnavailableError {
  constructor(service: string) {
    super('SERVICE_NOT_AVAILABLE', `The ${service} service is not available in this deployment yet`);
  }
}

/** The JWKS endpoint that signs tokens cannot be reached: tokens cannot be checked, whoever sends them. */
export class AuthUnavailableError extends ServiceUnavailableError {
  constructor() {
    super('AUTH_UNAVAILABLE', 'Tokens cannot be checked right now (the signing keys are unreachable), try again shortly', 5);
  }
}

export class UpstreamUnavailableError extends ServiceUnavailableError {
  constructor() {
    super('UPSTREAM_UNAVAILABLE', 'The service is not reachable right now, try again shortly', 5);
  }
}

export class UpstreamTimeoutError extends AppError {
  constructor() {
    super(504, 'UPSTREAM_TIMEOUT', 'The service did not answer in time');
  }
}

export interface ErrorBody {
  status: 'ERROR';
  code: string;
  message: string;
  errors?: Record<string, string[]>;
  requestId?: string;
}

/**
 * 400 for a request target the gateway and a service would read differently: a `#` (a fragment,
 * which a client never sends; Express drops it and then reads `\` as `/`) or a `\`.
 */
export class BadRequestTargetError extends AppError {
  constructor() {
    super(400, 'BAD_REQUEST_TARGET', 'The request path must not contain "#" or "\\"');
  }
}

/** 400 for a body its Content-Encoding does not describe (`gzip` on bytes that are not gzip). */
export class BadContentEncodingError extends AppError {
  constructor(encoding: string) {
    super(400, 'BAD_CONTENT_ENCODING', `The request body is not valid ${encoding} data, as its Content-Encoding says`, {
      'Content-Encoding': [`the body could not be decoded as ${encoding}`],
    });
  }
}

/**
 * 502 from the gateway: the request may have reached the service, which then gave no answer
 * (connection reset or closed after sending, the service died mid-request). It may have been
 * applied, so the gateway does not say "retry": repeat it only with the same Idempotency-Key,
 * or after checking whether it took effect.
 */
export class UpstreamOutcomeUnknownError extends AppError {
  constructor() {
    super(502, 'UPSTREAM_OUTCOME_UNKNOWN', 'The service may have received the request but gave no answer; it may have been applied. Check before repeating it, or repeat it with the same Idempotency-Key');
  }
}

/** 400: a finance target refused the credentials (e.g. Adesk's `Auth required`); names the field. */
export class InvalidCredentialsError extends AppError {
  constructor(field: string, message: string) {
    super(400, 'INVALID_CREDENTIALS', message, { [field]: [message] });
  }
}

/** 503: a finance target (Adesk, ...) did not answer; nothing was stored. */
export class TargetUnavailableError extends ServiceUnavailableError {
  constructor(target: string) {
    super('TARGET_UNAVAILABLE', `${target} is not reachable right now, try again shortly`, 5);
  }
}
