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
  constructor(code: string, message: string, errors?: Record<string, string[]>) {
    super(409, code, message, errors);
  }
}

export class ServiceUnavailableError extends AppError {
  constructor(code: string, message: string, retryAfterSeconds?: number) {
    super(503, code, message, undefined, retryAfterSeconds ? { 'Retry-After': String(retryAfterSeconds) } : undefined);
  }
}

export interface ErrorBody {
  status: 'ERROR';
  code: string;
  message: string;
  errors?: Record<string, string[]>;
  requestId?: string;
}
