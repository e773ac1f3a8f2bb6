import { parseHeaderLine, type ReplayFormat } from '../../src/contract';

/**
 * One record of a recorded log as read, before it is placed on the round's
 * schedule (replay.ts): when it came, and the request. Formats (docs/data.md):
 * - nginx: the default `combined` log format, as nginx writes it; the time
 *   has whole seconds, the Referer and User-Agent are sent as logged, and
 *   there is no body;
 * - jsonl: one object a line, `timestamp` (ms since the epoch, or an
 *   ISO-8601 string), `method`, `path` or `url`, `headers` (an object, or
 *   `Name:value` lines), the body in `body` (or the field `bodyField` names;
 *   text, or JSON written out) or `bodyBase64`;
 * - csv: a header row naming the same columns, then one record a row
 *   (RFC 4180 quoting; `headers` as `Name:value` lines).
 */
export interface LogRecord {
  /** ms since the epoch (nginx: whole seconds). */
  timeMs: number;
  method: string;
  /** A path (from "/") or an absolute URL. */
  target: string;
  headers: [string, string][];
  /** base64; absent: no body. */
  body?: string;
}

export interface ParsedLog {
  records: LogRecord[];
  /** Lines (csv: rows) that were not a record, skipped. */
  malformed: number;
  /** Where and why the first of them was refused: `line 7: no timestamp`. */
  firstProblem?: string;
}

const METHODS = new Set(['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS']);

export function parseLog(text: string, format: ReplayFormat, bodyField = 'body'): ParsedLog {
  const log: ParsedLog = { records: [], malformed: 0 };
  const refuse = (line: number, why: string): void => {
    log.malformed++;
    log.firstProblem ??= `line ${line}: ${why}`;
  };
  const take = (line: number, record: LogRecord | string): void => {
    if (typeof record === 'string') refuse(line, record);
    else log.records.push(record);
  };
  if (format === 'csv') {
    parseCsv(text, bodyField, take);
    return log;
  }
  const lines = text.split('\n');
  lines.forEach((raw, i) => {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line.trim() === '') return;
    take(i + 1, format === 'nginx' ? nginxRecord(line) : jsonRecord(line, bodyField));
  });
  return log;
}

// ------------------------------------------------------------------ nginx

/**
 * `$remote_addr - $remote_user [$time_local] "$request" $status
 * $body_bytes_sent "$http_referer" "$http_user_agent"`: nginx escapes a `"`
 * inside a quoted field as \x22, so a quoted field holds none.
 */
const COMBINED = /^\S+ \S+ \S+ \[([^\]]+)\] "([^"]*)" \d{3} (?:\d+|-)(?: "([^"]*)" "([^"]*)")?/;
const TIME_LOCAL = /^(\d{2})\/([A-Z][a-z]{2})\/(\d{4}):(\d{2}):(\d{2}):(\d{2}) ([+-])(\d{2})(\d{2})$/;
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

export function nginxRecord(line: string): LogRecord | string {
  const m = COMBINED.exec(line);
  if (!m) return 'not the nginx combined format';
  const timeMs = nginxTime(m[1]);
  if (timeMs === undefined) return `time "${m[1].slice(0, 40)}" is not $time_local (07/Dec/2026:02:30:01 +0000)`;
  const parts = m[2].split(' ');
  // "GET /path HTTP/1.1"; HTTP/0.9 has no protocol; a garbled request (nginx logs it as sent) is left out
  if (parts.length < 2 || parts.length > 3 || !METHODS.has(parts[0])) return `request "${m[2].slice(0, 60)}" is not "METHOD /path HTTP/x"`;
  if (!parts[1].startsWith('/')) return `request target "${parts[1].slice(0, 60)}" is not a path`;
  return { timeMs, method: parts[0], target: parts[1], headers: loggedHeaders(m[3], m[4]) };
}

/**
 * The combined format's `$http_referer` and `$http_user_agent`, sent as the
 * request's Referer and User-Agent: `-` is none, nginx's \xHH escapes are
 * read back, and a value that is not printable ASCII (a control byte, or
 * bytes of another encoding) is left out rather than sent altered.
 */
function loggedHeaders(referer: string | undefined, userAgent: string | undefined): [string, string][] {
  const headers: [string, string][] = [];
  for (const [name, logged] of [['Referer', referer], ['User-Agent', userAgent]] as const) {
    if (logged === undefined || logged === '-' || logged === '') continue;
    const value = logged.replace(/\\x([0-9A-Fa-f]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
    if (/^[\x20-\x7e]+$/.test(value) && value.trim() === value) headers.push([name, value]);
  }
  return headers;
}

function nginxTime(text: string): number | undefined {
  const t = TIME_LOCAL.exec(text);
  if (!t) return undefined;
  const month = MONTHS.indexOf(t[2]);
  if (month < 0) return undefined;
  const offsetMin = (t[7] === '-' ? -1 : 1) * (Number(t[8]) * 60 + Number(t[9]));
  const utc = Date.UTC(Number(t[3]), month, Number(t[1]), Number(t[4]), Number(t[5]), Number(t[6]));
  return Number.isFinite(utc) ? utc - offsetMin * 60_000 : undefined;
}

// ------------------------------------------------------------------ jsonl and csv

function jsonRecord(line: string, bodyField: string): LogRecord | string {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return 'not JSON';
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'not a JSON object';
  return fieldsRecord(value as Record<string, unknown>, bodyField);
}

/** A record from named fields (a jsonl object, or a csv row under its header). */
function fieldsRecord(fields: Record<string, unknown>, bodyField: string): LogRecord | string {
  const timeMs = timestampOf(fields.timestamp);
  if (timeMs === undefined) return fields.timestamp === undefined ? 'no timestamp' : 'timestamp is not ms since the epoch or an ISO-8601 time';
  const path = nonEmpty(fields.path);
  const url = nonEmpty(fields.url);
  if ((path === undefined) === (url === undefined)) return 'give "path" or "url", one of them';
  if (path !== undefined && !path.startsWith('/')) return 'path must start with "/"';
  if (url !== undefined && !/^https?:\/\//i.test(url)) return 'url must be an http(s) URL';
  const headers = headersOf(fields.headers);
  if (typeof headers === 'string') return headers;
  let body: string | undefined;
  const text = fields[bodyField];
  const base64 = nonEmpty(fields.bodyBase64);
  if (text !== undefined && text !== null && text !== '') body = Buffer.from(typeof text === 'string' ? text : JSON.stringify(text), 'utf8').toString('base64');
  else if (base64 !== undefined) {
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(base64) || base64.length % 4 !== 0) return 'bodyBase64 is not base64';
    body = base64;
  }
  const given = nonEmpty(fields.method)?.toUpperCase();
  if (given !== undefined && !METHODS.has(given)) return `method "${given.slice(0, 20)}" is not one of ${[...METHODS].join(', ')}`;
  return { timeMs, method: given ?? (body !== undefined ? 'POST' : 'GET'), target: (path ?? url) as string, headers, ...(body !== undefined ? { body } : {}) };
}

function nonEmpty(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function timestampOf(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0 ? value : undefined;
  if (typeof value !== 'string' || value === '') return undefined;
  // a csv cell holds numbers as text
  if (/^\d+(\.\d+)?$/.test(value)) return Number(value);
  const ms = Date.parse(value);
  return Number.isFinite(ms) ? ms : undefined;
}

function headersOf(value: unknown): [string, string][] | string {
  if (value === undefined || value === null || value === '') return [];
  const lines = typeof value === 'string' ? value.split(/\r?\n/).filter((l) => l !== '') : Array.isArray(value) ? value : undefined;
  if (lines) {
    const out: [string, string][] = [];
    for (const line of lines) {
      const header = typeof line === 'string' ? parseHeaderLine(line) : undefined;
      if (!header) return `header ${JSON.stringify(String(line).slice(0, 40))} is not "Name:value"`;
      out.push([header.name, header.value]);
    }
    return out;
  }
  if (typeof value !== 'object') return 'headers must be an object or "Name:value" lines';
  const out: [string, string][] = [];
  for (const [name, v] of Object.entries(value as Record<string, unknown>)) {
    const header = typeof v === 'string' ? parseHeaderLine(`${name}:${v}`) : undefined;
    if (!header) return `header ${JSON.stringify(name.slice(0, 40))} is not a name with a string value`;
    out.push([header.name, header.value]);
  }
  return out;
}

/**
 * RFC 4180 rows, each with the line it starts on: a quoted field may hold
 * commas, newlines and doubled quotes. The first row names the columns.
 */
function parseCsv(text: string, bodyField: string, take: (line: number, record: LogRecord | string) => void): void {
  let header: string[] | undefined;
  let row: string[] = [];
  let field = '';
  let quoted = false;
  let line = 1;
  let rowLine = 1;
  let broken: string | undefined;
  const endRow = (): void => {
    row.push(field);
    field = '';
    const blank = row.length === 1 && row[0] === '';
    if (!blank) {
      if (!header) header = row.map((c) => c.trim());
      else if (broken) take(rowLine, broken);
      else if (row.length !== header.length) take(rowLine, `${row.length} columns, the header has ${header.length}`);
      else take(rowLine, fieldsRecord(Object.fromEntries(header.map((name, i) => [name, row[i]])), bodyField));
    }
    row = [];
    broken = undefined;
    rowLine = line;
  };
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else {
        if (c === '\n') line++;
        field += c;
      }
      continue;
    }
    if (c === '"' && field === '') quoted = true;
    else if (c === '"') broken ??= 'a quote inside an unquoted field';
    else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\n') {
      line++;
      if (field.endsWith('\r')) field = field.slice(0, -1);
      endRow();
    } else field += c;
  }
  if (quoted) broken = 'a quoted field is not closed';
  if (field !== '' || row.length > 0 || broken) endRow();
}
