import { Request, Router } from 'express';
import {
  API_PREFIX,
  BenchError,
  COMPARE_API_PATH,
  CompareResponse,
  CompareSide,
  HISTORY_API_PATH,
  HistoryResponse,
  isValidTaskName,
  ROUND_RESULT_SCHEMA,
  RoundResultResponse,
} from '../../src/contract';
import { ALPHA, compareRounds, CompareRound, DEFAULT_MAX_REGRESSION_PCT, TEST_NAME } from '../metrics/compare';
import { renderCompareHtml } from '../reports/compare-html';
import { TaskEntry } from '../tasks/entry';
import { serviceHistory } from '../tasks/history';
import { TaskManager } from '../tasks/manager';
import { formatTime } from '../tasks/naming';
import { modeName, RoundRecord } from '../tasks/record';
import { judgedAgain } from '../tasks/round-verdict';
import { requestId } from './errors';
import { checkedTaskName } from './routes';
import { finishedRound } from './views';

/**
 * What CI and people comparing rounds read (SPEC 8): a round whole
 * (`bench report --format json|junit`), a service's rounds (`bench
 * history`), two rounds compared (`bench compare`).
 */
export function exportRoutes(manager: TaskManager, region: string): Router {
  const router = Router();

  router.get(`${API_PREFIX}/:region/:name/result`, (req, res) => {
    const entry = manager.entry(checkedTaskName(req, region));
    const body: RoundResultResponse = { RequestId: requestId(res), ...roundResult(entry, finishedRound(entry, req.query.round)) };
    res.json(body);
  });

  router.get(HISTORY_API_PATH, (req, res) => {
    const service = req.query.service;
    if (typeof service !== 'string' || service === '') throw new BenchError('InvalidParameter', 'service: name the service whose rounds to list (?service=NAME)', { field: 'service' });
    const body: HistoryResponse = { RequestId: requestId(res), ServiceName: service, Rounds: serviceHistory(manager.entries(), service) };
    res.json(body);
  });

  router.get(COMPARE_API_PATH, (req, res) => {
    const a = roundRef(manager, req, 'a');
    const b = roundRef(manager, req, 'b');
    const maxRegressionPct = maxRegressionOf(req.query.maxRegression);
    const compared: Omit<CompareResponse, 'RequestId' | 'Html'> = {
      A: side(a.entry, a.round),
      B: side(b.entry, b.round),
      MaxRegressionPct: maxRegressionPct,
      Alpha: ALPHA,
      Test: TEST_NAME,
      Figures: compareRounds(compareInput(a.entry, a.round), compareInput(b.entry, b.round), { maxRegressionPct }),
      Regressed: 0,
      Improved: 0,
    };
    compared.Regressed = compared.Figures.filter((f) => f.Verdict === 'regressed').length;
    compared.Improved = compared.Figures.filter((f) => f.Verdict === 'improved').length;
    const body: CompareResponse = { RequestId: requestId(res), ...compared, ...(req.query.html === '1' ? { Html: renderCompareHtml(compared) } : {}) };
    res.json(body);
  });

  return router;
}

function roundResult(entry: TaskEntry, round: RoundRecord): Omit<RoundResultResponse, 'RequestId'> {
  const record = entry.record;
  const figures = entry.figures(round);
  return {
    Schema: ROUND_RESULT_SCHEMA,
    TaskName: record.taskName,
    RoundId: round.roundId,
    ServiceName: record.serviceName,
    Mode: modeName(record),
    Status: record.status,
    StartTime: formatTime(round.startMs),
    EndTime: formatTime(round.endMs ?? round.startMs),
    Result: figures.result,
    ...(figures.llm ? { LLM: figures.llm } : {}),
    ...(round.capacity ? { Capacity: round.capacity } : {}),
    Thresholds: figures.result.Thresholds ?? [],
    Verdict: judgedAgain(record, round, () => figures),
    Percentiles: entry.percentiles(round),
    Series: figures.series,
  };
}

/** `?a=NAME[:ROUND]`: a task and one of its finished rounds (its last by default). */
function roundRef(manager: TaskManager, req: Request, key: 'a' | 'b'): { entry: TaskEntry; round: RoundRecord } {
  const value = req.query[key];
  const match = typeof value === 'string' ? /^([^:]+)(?::(\d{1,15}))?$/.exec(value) : null;
  if (!match || !isValidTaskName(match[1])) throw new BenchError('InvalidParameter', `${key}: must be TASK or TASK:ROUND, got ${JSON.stringify(String(value ?? '')).slice(0, 60)}`, { field: key });
  const entry = manager.entry(match[1]);
  return { entry, round: finishedRound(entry, match[2]) };
}

function maxRegressionOf(value: unknown): number {
  if (value === undefined) return DEFAULT_MAX_REGRESSION_PCT;
  const pct = typeof value === 'string' && value.trim() !== '' ? Number(value) : NaN;
  if (!Number.isFinite(pct) || pct < 0) throw new BenchError('InvalidParameter', `maxRegression: must be a percentage of 0 or more, got ${JSON.stringify(String(value)).slice(0, 40)}`, { field: 'maxRegression' });
  return pct;
}

function side(entry: TaskEntry, round: RoundRecord): CompareSide {
  return {
    TaskName: entry.taskName,
    RoundId: round.roundId,
    ServiceName: entry.record.serviceName,
    Mode: modeName(entry.record),
    StartTime: formatTime(round.startMs),
    Percentiles: entry.percentiles(round),
  };
}

function compareInput(entry: TaskEntry, round: RoundRecord): CompareRound {
  const figures = entry.figures(round);
  return { result: figures.result, ...(figures.llm ? { llm: figures.llm } : {}), seconds: entry.storedSeconds(round.roundId) };
}
