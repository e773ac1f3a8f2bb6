import { BenchError, ErrorCode, isErrorCode } from '../contract';

/**
 * An error answer of the controller. Keeps the RequestId so the CLI can print
 * `[RequestId]` before `[ERROR]`, as for a successful call, and the HTTP
 * status for callers that branch on it.
 */
export class ApiError extends BenchError {
  constructor(
    code: ErrorCode,
    message: string,
    readonly responseStatus: number,
    readonly requestId: string | undefined,
    field?: string,
  ) {
    super(code, message, { field });
    this.name = 'ApiError';
  }
}

/** A code for an error body whose Code this client does not know (a newer controller, a proxy). */
function codeForStatus(status: number): ErrorCode {
  if (status === 400) return 'InvalidParameter';
  if (status === 401) return 'Unauthorized';
  if (status === 403) return 'Forbidden';
  if (status === 404) return 'NotFound';
  if (status === 409) return 'TaskConflict';
  if (status === 413) return 'PayloadTooLarge';
  if (status === 503) return 'ControllerUnreachable';
  return 'InternalError';
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function stringField(body: Record<string, unknown>, key: string): string | undefined {
  const value = body[key];
  return typeof value === 'string' ? value : undefined;
}

/** Turns a non-2xx answer (parsed JSON or raw text) into an ApiError. */
export function errorFromResponse(status: number, body: unknown, rawText: string): ApiError {
  if (isRecord(body)) {
    const code = stringField(body, 'Code');
    const message = stringField(body, 'Message') ?? `HTTP ${status}`;
    const requestId = stringField(body, 'RequestId');
    const field = stringField(body, 'Field');
    if (isErrorCode(code)) return new ApiError(code, message, status, requestId, field);
    // Keep the controller's own code visible when it is not one of ours.
    const shown = code ? `${code}: ${message}` : message;
    return new ApiError(codeForStatus(status), shown, status, requestId, field);
  }
  const snippet = rawText.trim().slice(0, 200) || '(empty body)';
  return new ApiError(codeForStatus(status), `HTTP ${status} from the controller: ${snippet}`, status, undefined);
}
