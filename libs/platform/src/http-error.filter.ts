import type { IncomingMessage, ServerResponse } from 'node:http';
import { ArgumentsHost, Catch, HttpException, HttpStatus, Logger, type ExceptionFilter } from '@nestjs/common';
import type { Request, Response } from 'express';
import { isDatabaseUnavailable } from '@papka/persistence';
import { AppError, BadContentEncodingError, DatabaseUnavailableError, MalformedJsonError, PayloadTooLargeError, UnsupportedMediaTypeError, type ErrorBody } from './errors';
import { redactUrl } from './redact-url';

const codeForStatus: Record<number, string> = {
  400: 'BAD_REQUEST',
  401: 'UNAUTHORIZED',
  403: 'FORBIDDEN',
  404: 'NOT_FOUND',
  405: 'METHOD_NOT_ALLOWED',
  409: 'CONFLICT',
  413: 'PAYLOAD_TOO_LARGE',
  415: 'UNSUPPORTED_MEDIA_TYPE',
  429: 'RATE_LIMITED',
  503: 'SERVICE_UNAVAILABLE',
};

/**
 * A decompression error: what zlib (gzip, deflate) or brotli raise on bytes that are not what
 * the request's Content-Encoding says (body-parser passes them on as a 400 without a `type`).
 */
const isDecodeError = (e: { code?: unknown; type?: unknown }) =>
  e.type === undefined && typeof e.code === 'string' && (/^Z_/.test(e.code) || /^ERR_(_ERROR|BROTLI)/.test(e.code));

/**
 * Maps any error to `{ status: "ERROR", code, message, errors? }` with the right HTTP status.
 * `req`, when given, names the Content-Encoding of a body that could not be decoded.
 */
export function toErrorResponse(
  err: unknown,
  req?: { headers: Record<string, string | string[] | undefined> },
): { status: number; body: ErrorBody; headers?: Record<string, string> } {
  if (err instanceof AppError) {
    return {
      status: err.status,
      body: { status: 'ERROR', code: err.code, message: err.message, ...(err.errors ? { errors: err.errors } : {}) },
      headers: err.headers,
    };
  }
  if (err instanceof HttpException) {
    const status = err.getStatus();
    const res = err.getResponse();
    const message =
      typeof res === 'string' ? res : Array.isArray((res as { message?: unknown }).message)
        ? ((res as { message: string[] }).message).join('; ')
        : String((res as { message?: unknown }).message ?? err.message);
    return { status, body: { status: 'ERROR', code: codeForStatus[status] ?? `HTTP_${status}`, message } };
  }
  if (isDatabaseUnavailable(err)) return toErrorResponse(new DatabaseUnavailableError());
  const e = err as { type?: string; status?: number; statusCode?: number };
  // Errors of the body parser (raw-body / body-parser conventions).
  if (e?.type === 'entity.too.large') return toErrorResponse(new PayloadTooLargeError('Request body is too large'));
  if (e?.type === 'entity.parse.failed') return toErrorResponse(new MalformedJsonError());
  if (e?.type === 'encoding.unsupported' || e?.type === 'charset.unsupported') {
    return toErrorResponse(new UnsupportedMediaTypeError('Unsupported body encoding'));
  }
  if (e && isDecodeError(e as { code?: unknown; type?: unknown })) {
    const encoding = req?.headers['content-encoding'];
    return toErrorResponse(new BadContentEncodingError(typeof encoding === 'string' && encoding ? encoding.toLowerCase() : 'compressed'));
  }
  // Any other client error of the body reader (http-errors: an aborted or short body), kept 4xx.
  const status = e?.status ?? e?.statusCode;
  if ((e as { expose?: unknown })?.expose === true && typeof status === 'number' && status >= 400 && status < 500) {
    return { status, body: { status: 'ERROR', code: codeForStatus[status] ?? `HTTP_${status}`, message: (err as Error).message || 'Bad request' } };
  }
  return {
    status: HttpStatus.INTERNAL_SERVER_ERROR,
    body: { status: 'ERROR', code: 'INTERNAL', message: 'Internal error' },
  };
}

/**
 * Answers `err` in the error shape. `req`/`res` are Express's, or Node's own for a handler that
 * runs before Express (the gateway's proxy): then the same status, headers and JSON body, with
 * the Content-Type Express gives JSON (no ETag).
 */
export function sendError(req: Request | IncomingMessage, res: Response | ServerResponse, err: unknown, logger: Logger): void {
  const { status, body, headers } = toErrorResponse(err, req);
  const url = (req as Partial<Request>).originalUrl ?? req.url ?? '';
  // A real failure gets its stack. A 503 is an outage the request's own log line (at warn, see
  // requestLogLevel) already reports: nothing more here, whatever raised it.
  if (status >= 500 && status !== 503) {
    if (err instanceof AppError) logger.warn(`${req.method} ${redactUrl(url)}: ${status} ${body.code}: ${body.message}`);
    else logger.error({ err, path: redactUrl(url), method: req.method }, (err as Error)?.message ?? 'error');
  }
  const locals = (res as Partial<Response>).locals;
  if (locals) locals.errorCode = body.code; // named in the request's log line
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const requestId = req.headers['x-request-id'];
  for (const [k, v] of Object.entries(headers ?? {})) res.setHeader(k, v);
  const payload = { ...body, ...(typeof requestId === 'string' && requestId ? { requestId } : {}) };
  if (typeof (res as Partial<Response>).json === 'function') {
    (res as Response).status(status).json(payload);
    return;
  }
  const text = JSON.stringify(payload);
  res.statusCode = status;
  res.setHeader('content-type', 'application/json; charset=utf-8');
  res.setHeader('content-length', Buffer.byteLength(text));
  res.end(req.method === 'HEAD' ? undefined : text);
}

@Catch()
export class HttpErrorFilter implements ExceptionFilter {
  private readonly logger = new Logger('HttpError');

  catch(exception: unknown, host: ArgumentsHost): void {
    if (host.getType() !== 'http') throw exception;
    const ctx = host.switchToHttp();
    sendError(ctx.getRequest<Request>(), ctx.getResponse<Response>(), exception, this.logger);
  }
}
