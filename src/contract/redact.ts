/**
 * What may be shown of a task: the one place that decides which parts of a
 * URL, a header or a message are secrets. The agents get the real values;
 * every view (API, stats stream, reports, events, logs, CLI lines) goes
 * through these functions.
 */

import type { TaskSpec } from './task';

export const REDACTED = '******';

/** A header or query parameter whose value is a credential, by its name. */
const SECRET_NAME = /token|key|secret|auth|password|passwd|signature|cookie|session|credential/i;

export function isSecretName(name: string): boolean {
  return SECRET_NAME.test(name);
}

/**
 * `user:pass@` of any URL in the text (scheme://userinfo@host). Greedy up to
 * the last '@' before the path, as URL parsers read it: a password may hold an
 * unescaped '@'. The scheme is bounded so that a long run of dots stays linear.
 */
const USERINFO = /\b([a-z][a-z0-9+.-]{0,31}:\/\/)[^/?#\s"'<>]*@/gi;
/**
 * `name=value` in a query string (after `?` or `&`). In a message the URL may
 * be followed by `: reason` or a full stop, which is not part of the value.
 */
const QUERY_PARAM = /([?&])([^=&#?\s"'<>]+)=([^&#\s"'<>]*?)(?=[&#\s"'<>]|[:;,.)](?:\s|$)|$)/g;
/** `Name: value` / `Name=value` where Name is a secret header or parameter name (a header line quoted in a message). */
const NAMED_VALUE = /(^|[\s"'{,(])([A-Za-z0-9_-]+)("?\s*[:=]\s*)("?)((?:(?:Bearer|Basic|Token|Digest)\s+)?[^\s"',;&)}]+)/g;

/** A URL as it may be shown: userinfo and the values of secret query parameters masked. Not a URL: the text rules apply. */
export function redactUrl(url: string): string {
  return redactText(url);
}

/**
 * Any text (an error message, a log line) with its secrets masked: userinfo of
 * every URL in it, values of secret query parameters, and `Name: value` pairs
 * whose name is a secret one.
 */
export function redactText(text: string): string {
  if (text === '') return text;
  return text
    .replace(USERINFO, `$1${REDACTED}@`)
    .replace(QUERY_PARAM, (whole: string, sep: string, name: string) => (isSecretName(safeDecode(name)) ? `${sep}${name}=${REDACTED}` : whole))
    .replace(NAMED_VALUE, (whole: string, before: string, name: string, eq: string, quote: string, value: string) =>
      isSecretName(name) && value !== REDACTED && !value.startsWith(`${REDACTED}`) ? `${before}${name}${eq}${quote}${REDACTED}` : whole,
    );
}

/** A `Name:value` header line as it may be shown. */
export function redactHeaderLine(line: string): string {
  const colon = line.indexOf(':');
  if (colon <= 0) return redactText(line);
  const name = line.slice(0, colon).trim();
  return isSecretName(name) ? `${name}:${REDACTED}` : `${name}:${redactText(line.slice(colon + 1))}`;
}

/** data.content up to this length is shown whole; a longer one is cut to its first CUT_CONTENT_HEAD characters. */
export const SHOWN_CONTENT_CHARS = 256;
export const CUT_CONTENT_HEAD = 64;

/** How a long data.content is shown: its head and its length (shorter than SHOWN_CONTENT_CHARS, so never cut again). */
export function cutContent(head: string, length: number): string {
  return `${head.slice(0, CUT_CONTENT_HEAD)}... (cut: ${length} base64 characters in all)`;
}

/**
 * The task as it may be shown (desc, reports, logs): tokens, secret headers
 * and URL secrets masked, long content cut unless `wholeContent` (asked for
 * by `bench desc --json`; content holds no secret of ours, only size).
 */
export function redactTask(spec: TaskSpec, options: { wholeContent?: boolean } = {}): TaskSpec {
  const out = JSON.parse(JSON.stringify(spec)) as TaskSpec;
  if (out.service.requestToken !== undefined) out.service.requestToken = REDACTED;
  if (out.service.url !== undefined) out.service.url = redactUrl(out.service.url);
  if (out.http?.headers) out.http.headers = out.http.headers.map(redactHeaderLine);
  if (out.data?.path !== undefined) out.data.path = redactText(out.data.path);
  if (!options.wholeContent && out.data?.content !== undefined && out.data.content.length > SHOWN_CONTENT_CHARS) {
    out.data.content = cutContent(out.data.content.slice(0, CUT_CONTENT_HEAD), out.data.content.length);
  }
  if (out.llm?.dataset?.type === 'sharegpt') out.llm.dataset.path = redactText(out.llm.dataset.path);
  return out;
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text.replace(/\+/g, ' '));
  } catch {
    return text;
  }
}
