import { parseHeaderLine, TaskSpec } from '../../src/contract';

const SECRET_HEADERS = /^(authorization|x-api-key|api-key|cookie|proxy-authorization|x-auth-token)$/i;
export const REDACTED = '******';

/** The task as it may be shown (desc, reports, logs): tokens and auth headers masked. */
export function redactTask(spec: TaskSpec): TaskSpec {
  const out: TaskSpec = JSON.parse(JSON.stringify(spec)) as TaskSpec;
  if (out.service.requestToken !== undefined) out.service.requestToken = REDACTED;
  if (out.http?.headers) {
    out.http.headers = out.http.headers.map((line) => {
      const header = parseHeaderLine(line);
      return header && SECRET_HEADERS.test(header.name) ? `${header.name}:${REDACTED}` : line;
    });
  }
  if (out.data?.content !== undefined && out.data.content.length > 256) {
    out.data.content = `${out.data.content.slice(0, 64)}... (${out.data.content.length} base64 characters)`;
  }
  return out;
}
