import { BenchError, TRACE_DEFAULTS, TRACE_LIMITS, TRACE_START_LEAD_MS, traceFormat, type LlmSpec, type TraceRecord } from '../../src/contract';

/** A trace read and put in order: its records (offsets divided by speed) and its span, ms at that speed. */
export interface ReadTrace {
  records: TraceRecord[];
  spanMs: number;
}

type TraceDataset = Extract<NonNullable<LlmSpec['dataset']>, { type: 'trace' }>;

/** One record as read, before its offset from the first is taken. */
interface RawRecord extends Omit<TraceRecord, 'atMs'> {
  timestampMs: number;
}

function traceError(source: string, where: string, message: string): BenchError {
  return new BenchError('DataSourceFailed', `llm.dataset.path ${source}${where}: ${message}`, { field: 'llm.dataset.path', resource: source });
}

/** A length of tokens as a trace gives it: a whole number, 0 read as 1 (a request asks for at least one token). */
function tokens(value: unknown, name: string, source: string, where: string): number {
  const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0) throw traceError(source, where, `${name} must be a whole number >= 0, got ${JSON.stringify(value)?.slice(0, 40)}`);
  if (n > TRACE_LIMITS.maxTokens) throw traceError(source, where, `${name} ${n} is over ${TRACE_LIMITS.maxTokens} tokens`);
  return Math.max(1, n);
}

function timestamp(value: unknown, scale: number, name: string, source: string, where: string): number {
  const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isFinite(n) || n < 0) throw traceError(source, where, `${name} must be a number >= 0, got ${JSON.stringify(value)?.slice(0, 40)}`);
  return n * scale;
}

/**
 * JSONL, one request a line: `timestamp` (ms), `input_length`, or a text
 * in `input_text` (AISBench) or `prompt`, `output_length`, `hash_ids` (the
 * public Mooncake trace, and AISBench's `use_timestamp` input, as they are
 * written). Every record must have its timestamp: a replay has no other time.
 */
function readJsonl(text: string, source: string): RawRecord[] {
  const out: RawRecord[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (!line) continue;
    const where = ` line ${i + 1}`;
    if (out.length >= TRACE_LIMITS.maxRecords) throw traceError(source, where, `more than ${TRACE_LIMITS.maxRecords} records`);
    let doc: unknown;
    try {
      doc = JSON.parse(line);
    } catch (err) {
      throw traceError(source, where, `not valid JSON: ${(err as Error).message}`);
    }
    if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw traceError(source, where, 'must be a JSON object');
    const r = doc as Record<string, unknown>;
    const record: RawRecord = { timestampMs: timestamp(r.timestamp, 1, 'timestamp', source, where) };
    // AISBench's Mooncake reader takes `input_text` as the prompt, input_length and hash_ids then ignored
    const text = typeof r.input_text === 'string' ? r.input_text : r.prompt;
    if (typeof text === 'string') {
      if (text.length > TRACE_LIMITS.maxPromptChars) throw traceError(source, where, `prompt is over ${TRACE_LIMITS.maxPromptChars} characters`);
      record.prompt = text;
    } else if (r.input_length !== undefined) {
      record.inputTokens = tokens(r.input_length, 'input_length', source, where);
    } else {
      throw traceError(source, where, 'needs input_length, input_text or prompt');
    }
    if (r.output_length !== undefined) record.outputTokens = tokens(r.output_length, 'output_length', source, where);
    if (r.hash_ids !== undefined && record.prompt === undefined) {
      const ids = r.hash_ids;
      if (!Array.isArray(ids) || ids.length > TRACE_LIMITS.maxHashIds || !ids.every((id) => Number.isSafeInteger(id) && (id as number) >= 0)) {
        throw traceError(source, where, `hash_ids must be at most ${TRACE_LIMITS.maxHashIds} whole numbers >= 0`);
      }
      record.hashIds = ids as number[];
    }
    out.push(record);
  }
  return out;
}

/** BurstGPT's CSV: a header naming `Timestamp` (s), `Request tokens` and `Response tokens` among its columns. */
function readCsv(text: string, source: string): RawRecord[] {
  const lines = text.split(/\r?\n/);
  const cells = (line: string): string[] => line.split(',').map((c) => c.trim().replace(/^"(.*)"$/, '$1'));
  const header = cells(lines[0] ?? '');
  const column = (name: string): number => {
    const at = header.findIndex((h) => h.toLowerCase() === name.toLowerCase());
    if (at < 0) throw traceError(source, ' line 1', `the header has no "${name}" column (BurstGPT's: Timestamp, Request tokens, Response tokens)`);
    return at;
  };
  const ts = column('Timestamp');
  const input = column('Request tokens');
  const output = column('Response tokens');
  const out: RawRecord[] = [];
  for (let i = 1; i < lines.length; i++) {
    if (!lines[i].trim()) continue;
    const where = ` line ${i + 1}`;
    if (out.length >= TRACE_LIMITS.maxRecords) throw traceError(source, where, `more than ${TRACE_LIMITS.maxRecords} records`);
    const row = cells(lines[i]);
    out.push({
      timestampMs: timestamp(row[ts], 1000, 'Timestamp', source, where),
      inputTokens: tokens(row[input], 'Request tokens', source, where),
      outputTokens: tokens(row[output], 'Response tokens', source, where),
    });
  }
  return out;
}

/**
 * Reads a trace file: its records in order of timestamp (a stable sort, so
 * records at the same time keep the file's order), each due at its offset
 * from the first divided by `speed`. Refused when it would not fit the run:
 * no record, or a span at that speed (from TRACE_START_LEAD_MS in) not
 * shorter than `llm.duration`.
 */
export function readTrace(text: string, dataset: TraceDataset, durationS: number): ReadTrace {
  const source = dataset.path;
  const raw = traceFormat(source, dataset.format) === 'csv' ? readCsv(text, source) : readJsonl(text, source);
  if (raw.length === 0) throw traceError(source, '', 'no record');
  raw.sort((a, b) => a.timestampMs - b.timestampMs);
  const speed = dataset.speed ?? TRACE_DEFAULTS.speed;
  const firstMs = raw[0].timestampMs;
  const records = raw.map(({ timestampMs, ...rest }) => ({ atMs: Math.round(((timestampMs - firstMs) / speed) * 1000) / 1000, ...rest }));
  const spanMs = records[records.length - 1].atMs;
  // the agents' schedules end at the duration: a record due then would not be sent (the trace starts TRACE_START_LEAD_MS in)
  if (spanMs + TRACE_START_LEAD_MS >= durationS * 1000) {
    throw new BenchError('InvalidField', `llm.duration: the trace ${source} spans ${(spanMs / 1000).toFixed(3)} s at speed ${speed} from ${TRACE_START_LEAD_MS / 1000} s into the round, not ending before llm.duration (${durationS} s): raise llm.duration or llm.dataset.speed`, { field: 'llm.duration', resource: source });
  }
  return { records, spanMs };
}
