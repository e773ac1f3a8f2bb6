import { Router, Request, Response, NextFunction } from 'express';
import {
  API_PREFIX,
  BenchError,
  CreateTaskResponse,
  GetTaskResponse,
  ListTasksResponse,
  LlmRecomputeResponse,
  LlmRecordsResponse,
  LlmRequestRecord,
  RECORDS_FORMATS,
  isRecordsFormat,
  isValidTaskName,
  ReportResponse,
  SimpleTaskResponse,
  UpdateTaskResponse,
} from '../../src/contract';
import { recordCsvLine, RECORDS_CSV_HEADER } from '../metrics/llm/result';
import { TaskManager } from '../tasks/manager';
import { TaskRecord } from '../tasks/record';
import { requestId } from './errors';
import { detailView, finishedRound, verdictView, listView, llmRecomputeView, llmRecordsView, statsView } from './views';

/**
 * Most `recompute` calls a controller runs at once (its last step, the
 * sorting, holds the event loop for a moment each); one more is refused with
 * 429 TooManyRequests rather than queued (a queue would hold its callers'
 * connections for as long as the others take).
 */
export const MAX_RECOMPUTES = 1;

type Handler = (req: Request, res: Response) => Promise<void> | void;

/** Express 5 forwards rejected promises to the error middleware; this keeps handlers small. */
const route = (handler: Handler) => (req: Request, res: Response, next: NextFunction): void => {
  Promise.resolve(handler(req, res)).catch(next);
};

/** Parses a raw body as strict UTF-8 JSON (invalid UTF-8 is refused, not replaced). */
export function parseJsonBody(req: Request): unknown {
  const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
  if (raw.length === 0) throw new BenchError('InvalidJson', 'the request body is empty; send the task JSON');
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(raw);
  } catch {
    throw new BenchError('InvalidJson', 'the request body is not valid UTF-8');
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new BenchError('InvalidJson', `the request body is not valid JSON: ${(err as Error).message}`);
  }
}

/** The task name of a `.../:region/:name...` route, refused unless it can exist here. */
export function checkedTaskName(req: Request, region: string): string {
  const name = String(req.params.name);
  // a name outside the task-name alphabet cannot exist: answered before any lookup or path is built
  if (!isValidTaskName(name)) throw new BenchError('TaskNotFound', 'benchmark task does not exist: not a valid task name', { resource: name });
  if (req.params.region !== region) throw new BenchError('TaskNotFound', `benchmark task ${name} does not exist in region ${String(req.params.region)} (this controller serves ${region})`, { resource: name });
  return name;
}

export function taskRoutes(manager: TaskManager, region: string): Router {
  const router = Router();
  const checkRegion = (req: Request): string => checkedTaskName(req, region);
  /** Recomputes running now: each reads a whole records file, so a few at once would hold the event loop and memory. */
  let recomputes = 0;
  const simple = (res: Response, record: TaskRecord): SimpleTaskResponse => ({ RequestId: requestId(res), TaskName: record.taskName, Status: record.status, Message: record.message });

  router.post(API_PREFIX, route(async (req, res) => {
    const record = await manager.create(parseJsonBody(req), String(res.locals.keyId ?? ''));
    const warning = manager.durationWarning(record);
    const body: CreateTaskResponse = { RequestId: requestId(res), TaskId: record.taskId, TaskName: record.taskName, Region: record.region, Status: record.status, Message: record.message, ...(warning ? { Warning: warning } : {}) };
    res.json(body);
  }));

  router.get(API_PREFIX, route((_req, res) => {
    const body: ListTasksResponse = { RequestId: requestId(res), Tasks: listView(manager) };
    res.json(body);
  }));

  router.get(`${API_PREFIX}/:region/:name`, route((req, res) => {
    const body: GetTaskResponse = { RequestId: requestId(res), ...detailView(manager, checkRegion(req), { wholeConfig: req.query.config === 'whole' }) };
    res.json(body);
  }));

  router.put(`${API_PREFIX}/:region/:name`, route(async (req, res) => {
    const name = checkRegion(req);
    await manager.update(name, parseJsonBody(req));
    const detail = detailView(manager, name);
    const body: UpdateTaskResponse = { RequestId: requestId(res), TaskName: name, DesiredAgent: detail.DesiredAgent, AvailableAgent: detail.AvailableAgent, Status: detail.Status, Message: detail.Message };
    res.json(body);
  }));

  router.delete(`${API_PREFIX}/:region/:name`, route(async (req, res) => {
    res.json(simple(res, await manager.delete(checkRegion(req))));
  }));

  router.put(`${API_PREFIX}/:region/:name/start`, route(async (req, res) => {
    res.json(simple(res, await manager.start(checkRegion(req))));
  }));

  router.put(`${API_PREFIX}/:region/:name/stop`, route(async (req, res) => {
    res.json(simple(res, await manager.stop(checkRegion(req))));
  }));

  router.get(`${API_PREFIX}/:region/:name/report`, route(async (req, res) => {
    const name = checkRegion(req);
    // ?round=ID: one of the task's finished rounds (checked as bench check checks it)
    const report = await manager.report(name, req.query.round === undefined ? undefined : finishedRound(manager.entry(name), req.query.round).roundId);
    const body: ReportResponse = { RequestId: requestId(res), TaskName: name, RoundId: report.roundId, ReportUrl: report.reportUrl, JsonUrl: report.jsonUrl };
    res.json(body);
  }));

  router.get(`${API_PREFIX}/:region/:name/stats`, route((req, res) => {
    res.json(statsView(manager, checkRegion(req), requestId(res)));
  }));

  router.get(`${API_PREFIX}/:region/:name/verdict`, route((req, res) => {
    res.json(verdictView(manager, checkRegion(req), requestId(res), req.query.round));
  }));

  // LLM tasks: every request of the current (or last) round, as CSV or JSON.
  // Streamed from the round's file: a long run's records are never all in memory.
  router.get(`${API_PREFIX}/:region/:name/records`, route(async (req, res) => {
    const name = checkRegion(req);
    const format = req.query.format === undefined ? 'json' : String(req.query.format);
    if (!isRecordsFormat(format)) throw new BenchError('InvalidField', `format: must be one of ${RECORDS_FORMATS.join(', ')}`, { field: 'format' });
    const { roundId, lines } = llmRecordsView(manager, name);
    if (format === 'csv') {
      res.type('text/csv').attachment(`${name}-${roundId}-records.csv`);
      await writeStreamed(res, `${RECORDS_CSV_HEADER}\n`, lines, (line) => `${recordCsvLine(JSON.parse(line) as LlmRequestRecord)}\n`, '', '');
      return;
    }
    // the body of LlmRecordsResponse, written piece by piece; the stored lines are the records' JSON
    const head: Omit<LlmRecordsResponse, 'Records'> = { RequestId: requestId(res), TaskName: name, RoundId: roundId };
    res.type('application/json');
    await writeStreamed(res, `${JSON.stringify(head).slice(0, -1)},"Records":[`, lines, (line) => line, ',', ']}');
  }));

  // LLM tasks: the tables again, exactly, from the stored records (AISBench's --reuse), with a steady stage and percentiles of choice.
  router.get(`${API_PREFIX}/:region/:name/recompute`, route(async (req, res) => {
    const name = checkRegion(req);
    const text = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
    if (recomputes >= MAX_RECOMPUTES) {
      throw new BenchError('TooManyRequests', `another recompute is running on this controller (it runs ${MAX_RECOMPUTES} at a time); try again when it ends`);
    }
    recomputes++;
    let result: Awaited<ReturnType<typeof llmRecomputeView>>;
    try {
      result = await llmRecomputeView(manager, name, { steady: text(req.query.steady), percentiles: text(req.query.percentiles) });
    } finally {
      recomputes--;
    }
    const { roundId, records, llm } = result;
    const body: LlmRecomputeResponse = { RequestId: requestId(res), TaskName: name, RoundId: roundId, Records: records, LLM: llm };
    res.json(body);
  }));

  return router;
}

/** Writes `head`, the lines mapped and separated, then `tail`, waiting for the socket to drain whenever its buffer is full. */
async function writeStreamed(res: Response, head: string, lines: AsyncIterable<string>, map: (line: string) => string, separator: string, tail: string): Promise<void> {
  res.status(200);
  res.write(head);
  let n = 0;
  for await (const line of lines) {
    if (res.destroyed) return;
    const ok = res.write(`${n > 0 ? separator : ''}${map(line)}`);
    n++;
    if (!ok) await new Promise<void>((resolve) => res.once('drain', resolve).once('close', resolve));
  }
  res.end(tail);
}
