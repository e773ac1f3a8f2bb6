import { randomUUID } from 'node:crypto';
import type { ErrorRequestHandler, NextFunction, Request, Response } from 'express';
import { BenchError, ErrorResponse, InvalidFieldError, redactText } from '../../src/contract';

/** Uppercase UUID, as EAS request ids look. */
export function newRequestId(): string {
  return randomUUID().toUpperCase();
}

export function requestId(res: Response): string {
  return String(res.locals.requestId);
}

export function assignRequestId(_req: Request, res: Response, next: NextFunction): void {
  res.locals.requestId = newRequestId();
  res.setHeader('x-eas-request-id', String(res.locals.requestId));
  next();
}

/** The one place where an error becomes an HTTP status and a body. Internal details are logged, not sent. */
export function errorMiddleware(log: (line: string) => void): ErrorRequestHandler {
  return (err: unknown, _req, res, _next) => {
    let error: BenchError;
    if (err instanceof BenchError) {
      error = err;
    } else if (isBodyTooLarge(err)) {
      error = new BenchError('PayloadTooLarge', 'the request body is too large');
    } else if (err instanceof URIError) {
      // the router decodes path parameters before any handler runs: a bad escape is the caller's mistake
      error = new BenchError('InvalidParameter', 'the request path holds a malformed percent escape');
    } else {
      log(`internal error: ${(err as Error)?.stack ?? String(err)}`);
      error = new BenchError('InternalError', 'internal error; see the controller log');
    }
    const body: ErrorResponse = { RequestId: requestId(res), Code: error.code, Message: redactText(error.message) };
    if (error.field !== undefined) body.Field = error.field;
    if (error instanceof InvalidFieldError) body.Field = error.errors[0]?.field;
    res.status(error.httpStatus).json(body);
  };
}

function isBodyTooLarge(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { type?: string }).type === 'entity.too.large';
}
