/**
 * Every error the product raises carries a stable code. The controller maps a
 * code to an HTTP status in one place (its error middleware); the CLI maps it
 * to one `[ERROR] <Code>: <Message>` line and an exit code in one place (its root).
 */
export const ERROR_CODES = {
  InvalidJson: 400,
  InvalidField: 400,
  InvalidParameter: 400,
  ServiceNotFound: 400,
  DataSourceFailed: 400,
  Unauthorized: 401,
  Forbidden: 403,
  TaskNotFound: 404,
  ReportNotFound: 404,
  NotFound: 404,
  TaskConflict: 409,
  ReportNotReady: 409,
  PayloadTooLarge: 413,
  TooManyRequests: 429,
  TooManyTasks: 429,
  TooManyAgents: 429,
  TooManyCreates: 429,
  StorageFailed: 500,
  StorageFull: 507,
  InternalError: 500,
  ControllerUnreachable: 503,
  ServiceUnreachable: 503,
  Cancelled: 400,
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.prototype.hasOwnProperty.call(ERROR_CODES, value);
}

export class BenchError extends Error {
  readonly code: ErrorCode;
  /** Dotted path of the task field the error is about, when there is one. */
  readonly field?: string;
  /** Task, source or store the error is about, when there is one. */
  readonly resource?: string;

  constructor(code: ErrorCode, message: string, details: { field?: string; resource?: string } = {}) {
    super(message);
    this.name = 'BenchError';
    this.code = code;
    this.field = details.field;
    this.resource = details.resource;
  }

  get httpStatus(): number {
    return ERROR_CODES[this.code];
  }
}

/** One field-level validation problem: `optional.duration: must be <= 1200`. */
export interface FieldError {
  field: string;
  message: string;
}

export function formatFieldErrors(errors: readonly FieldError[]): string {
  return errors.map((e) => (e.field ? `${e.field}: ${e.message}` : e.message)).join('; ');
}

export class InvalidFieldError extends BenchError {
  readonly errors: readonly FieldError[];

  constructor(errors: readonly FieldError[]) {
    super('InvalidField', formatFieldErrors(errors), { field: errors[0]?.field });
    this.name = 'InvalidFieldError';
    this.errors = errors;
  }
}
