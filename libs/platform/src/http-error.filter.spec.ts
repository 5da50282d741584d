import { Logger } from '@nestjs/common';
import type { Request, Response } from 'express';
import { DatabaseUnavailableError } from './errors';
import { requestErrorObject, requestLogLevel, requestLogMessage } from './http-app';
import { sendError } from './http-error.filter';

function fakeRes() {
  const res = { locals: {} as Record<string, unknown>, headersSent: false, statusCode: 200, setHeader: jest.fn(), json: jest.fn() } as unknown as Response & {
    json: jest.Mock;
  };
  (res as unknown as { status: (s: number) => Response }).status = (s: number) => {
    res.statusCode = s;
    return res;
  };
  return res;
}

const req = { method: 'POST', originalUrl: '/v2/docs/contractors', headers: {} } as unknown as Request;

describe(sendError.name, () => {
  let logger: { error: jest.Mock; warn: jest.Mock };

  beforeEach(() => {
    logger = { error: jest.fn(), warn: jest.fn() };
  });

  it.each([
    ['PostgreSQL refusing connections (a raw driver error)', Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' })],
    ['a dependency-down AppError', new DatabaseUnavailableError()],
  ])('answers 503 for %s and logs nothing itself: the request line at warn says it', (_, err) => {
    const res = fakeRes();
    sendError(req, res, err, logger as unknown as Logger);
    expect(res.statusCode).toBe(503);
    expect(logger.error).not.toHaveBeenCalled();
    expect(logger.warn).not.toHaveBeenCalled();
    expect(requestLogLevel(res.statusCode)).toBe('warn');
    expect(requestLogMessage(res.statusCode, res.locals.errorCode)).toBe('unavailable: DATABASE_UNAVAILABLE');
    // pino-http's own made-up Error (and its stack) is left out of that line.
    expect(requestErrorObject(503, { err: new Error('failed with status code 503'), res: 'r', responseTime: 3 })).toEqual({ res: 'r', responseTime: 3 });
  });

  it('logs a real failure once at error, with the error (and so its stack)', () => {
    const res = fakeRes();
    const err = new TypeError('cannot read x of undefined');
    sendError(req, res, err, logger as unknown as Logger);
    expect(res.statusCode).toBe(500);
    expect(logger.error).toHaveBeenCalledTimes(1);
    expect(logger.error.mock.calls[0]![0]).toMatchObject({ err });
    expect(requestLogLevel(500)).toBe('error');
    expect(Object.keys(requestErrorObject(500, { err, res: 'r' }))).toEqual(['err', 'res']);
  });
});

describe(requestLogLevel.name, () => {
  it('keeps client errors at warn and successes at info', () => {
    expect(requestLogLevel(404)).toBe('warn');
    expect(requestLogLevel(200)).toBe('info');
    expect(requestLogMessage(200)).toBe('request completed');
  });
});
