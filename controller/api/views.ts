import {
  AgentView,
  BenchError,
  LlmRequestRecord,
  LlmResult,
  parsePercentileList,
  parseSteadyChoice,
  redactText,
  RoundResult,
  StatsPoint,
  StatsResponse,
  TaskDetail,
  TaskEvent,
  TaskSummary,
  Verdict,
  VerdictResponse,
} from '../../src/contract';
import type { AgentInfo } from '../fleet/pool';
import { percentilesOf, recomputeLlm } from '../metrics/llm/result';
import { askedRequestRate, stageHeldAt } from '../metrics/llm/stage';
import { LlmRecordColumns } from '../metrics/llm/columns';
import { TaskEntry } from '../tasks/entry';
import { TaskManager } from '../tasks/manager';
import { formatTime } from '../tasks/naming';
import { currentRound, modeName, RoundRecord } from '../tasks/record';
import { judgedAgain, liveVerdict } from '../tasks/round-verdict';

/** The figures shown of a task's current round: live while it runs, kept (or read back from disk) once it ended. */
interface ShownRound {
  readonly series: readonly StatsPoint[];
  readonly events: readonly TaskEvent[];
  readonly result: RoundResult;
  readonly llm?: LlmResult;
}

function shownRound(entry: TaskEntry): ShownRound | undefined {
  const round = currentRound(entry.record);
  return entry.live() ?? (round ? entry.figures(round) : undefined);
}

export function listView(manager: TaskManager): TaskSummary[] {
  return manager.entries().map(summaryView);
}

/** `wholeConfig`: data.content uncut (`GET ...?config=whole`); by default it is cut, since status polls read the detail often and a body can be megabytes. */
export function detailView(manager: TaskManager, name: string, options: { wholeConfig?: boolean } = {}): TaskDetail {
  return detailOf(manager.entry(name), options.wholeConfig === true);
}

export function statsView(manager: TaskManager, name: string, requestId: string): StatsResponse {
  const entry = manager.entry(name);
  const detail = detailOf(entry);
  return {
    RequestId: requestId,
    TaskName: name,
    RoundId: detail.RoundId,
    Status: detail.Status,
    Mode: detail.Mode,
    Series: [...(shownRound(entry)?.series ?? [])],
    Events: detail.Events,
    Result: detail.Result,
    Capacity: detail.Capacity,
    ...(detail.Verdict ? { Verdict: detail.Verdict } : {}),
  };
}

/** The verdict of the current round so far (`result`: its figures, already taken), or of a finished one as it was made at its end. */
function verdictOf(entry: TaskEntry, round: RoundRecord | undefined, result: RoundResult | undefined): Verdict | undefined {
  const live = entry.live();
  if (live && round === currentRound(entry.record)) return liveVerdict(entry.record, live, result ?? live.result);
  if (!round || round.endMs === undefined) return undefined;
  return round.verdict ?? judgedAgain(entry.record, round, () => entry.figures(round));
}

/**
 * `bench check NAME [--round ID]`: a finished round judged again, its
 * thresholds evaluated anew on its stored seconds (the current round by
 * default; any round the task's record still lists).
 */
export function verdictView(manager: TaskManager, name: string, requestId: string, roundQuery: unknown): VerdictResponse {
  const entry = manager.entry(name);
  const found = finishedRound(entry, roundQuery);
  const verdict = judgedAgain(entry.record, found, () => entry.figures(found));
  return { RequestId: requestId, TaskName: name, RoundId: found.roundId, Status: entry.record.status, Verdict: verdict };
}

/** A finished round of the task: `roundQuery` (a `?round=` value) or, when absent, the current one. */
export function finishedRound(entry: TaskEntry, roundQuery: unknown): RoundRecord {
  const name = entry.taskName;
  const rounds = entry.record.rounds;
  let round = currentRound(entry.record);
  if (roundQuery !== undefined) {
    const id = typeof roundQuery === 'string' && /^\d{1,15}$/.test(roundQuery) ? Number(roundQuery) : NaN;
    if (!Number.isSafeInteger(id)) throw new BenchError('InvalidParameter', `round: must be a round id (a whole number), got ${JSON.stringify(String(roundQuery)).slice(0, 40)}`, { field: 'round' });
    round = rounds.find((r) => r.roundId === id);
    if (!round) throw new BenchError('NotFound', `task ${name} has no round ${id} (its rounds: ${rounds.map((r) => r.roundId).join(', ') || 'none'})`, { resource: name });
  }
  if (!round) throw new BenchError('TaskConflict', `task ${name} has not run a round yet`, { resource: name });
  if (round.endMs === undefined) throw new BenchError('TaskConflict', `round ${round.roundId} of task ${name} is still running: check it once it ended (its verdict so far is in bench desc)`, { resource: name });
  return round;
}

/** The per-request records of the current (or last) round of an llm task: stored ndjson lines, read from disk as they are sent. */
export function llmRecordsView(manager: TaskManager, name: string): { roundId: number; lines: AsyncIterable<string> } {
  const entry = manager.entry(name);
  if (!entry.record.spec.llm) throw new BenchError('InvalidField', `task ${name} is not an llm task: it has no per-request records`, { field: 'llm' });
  const round = currentRound(entry.record);
  if (!round) return { roundId: 0, lines: noLines() };
  return { roundId: round.roundId, lines: entry.llmRecordLines(round.roundId) };
}

async function* noLines(): AsyncGenerator<string> {}

/**
 * `bench recompute`: the current (or last) round's `LLM` section computed
 * again, exactly, from its stored records, with the steady stage and the
 * percentiles asked (the task's by default). The records are read into
 * columns (LlmRecordColumns, about 87 bytes a request and 4 a token gap), not kept as objects.
 */
export async function llmRecomputeView(manager: TaskManager, name: string, query: { steady?: string; percentiles?: string }): Promise<{ roundId: number; records: number; llm: LlmResult }> {
  const choice = parseSteadyChoice(query.steady ?? 'auto');
  if ('problem' in choice) throw new BenchError('InvalidField', `steady: ${choice.problem}`, { field: 'steady' });
  const { steady } = choice;
  const percentiles = query.percentiles === undefined ? undefined : parsePercentileList(query.percentiles);
  if (typeof percentiles === 'string') throw new BenchError('InvalidField', `percentiles: ${percentiles}`, { field: 'percentiles' });
  const spec = manager.entry(name).record.spec.llm;
  const { roundId, lines } = llmRecordsView(manager, name);
  const columns = new LlmRecordColumns(spec?.slo);
  for await (const line of lines) columns.add(JSON.parse(line) as LlmRequestRecord);
  return { roundId, records: columns.n, llm: recomputeLlm(columns, { percentiles: percentiles ?? percentilesOf(spec), steady, heldAt: stageHeldAt(spec), askedRatePerS: askedRequestRate(spec) }) };
}

function detailOf(entry: TaskEntry, wholeConfig = false): TaskDetail {
  const record = entry.record;
  const live = entry.live();
  const round = currentRound(record);
  const shown = shownRound(entry);
  const series = shown?.series ?? [];
  const last = series[series.length - 1];
  const result = shown?.result;
  const detail: TaskDetail = {
    ...summaryView(entry),
    Config: entry.shownConfig(wholeConfig),
    RoundId: round?.roundId ?? 0,
    StartTime: round ? formatTime(round.startMs) : undefined,
    EndTime: round?.endMs ? formatTime(round.endMs) : undefined,
    ElapsedS: live ? Math.round(live.elapsedS) : round?.endMs && round.startMs ? Math.round((round.endMs - round.startMs) / 1000) : 0,
    DurationS: record.options.durationS,
    Target: live?.target,
    Events: [...(shown?.events ?? [])],
    Capacity: live?.capacity ?? round?.capacity,
    ReportUrl: round?.reportUrl,
  };
  const verdict = verdictOf(entry, round, result);
  if (verdict) detail.Verdict = verdict;
  if (shown?.llm) {
    detail.LLM = shown.llm;
  }
  if (live) {
    detail.Agents = live.agents.map((agent) => roundAgentView(agent, record.taskName, live.roundId));
  }
  if (result && result.TotalRequests > 0) {
    detail.Result = result;
    detail.CurrentQPS = last ? last.Requests : 0;
    detail.TP99 = last ? last.RT.TP99 : result.TP99;
    detail.ErrorRate = last && last.Requests > 0 ? last.Errors / last.Requests : result.ErrorRate;
  }
  return detail;
}

/** One agent of a round, as desc and `bench agents` show it. */
export function roundAgentView(agent: AgentInfo, taskName: string, roundId: number): AgentView {
  return { AgentId: agent.id, Host: agent.host, Address: agent.address, Pid: agent.pid, State: agent.state, TaskName: taskName, RoundId: roundId };
}

function summaryView(entry: TaskEntry): TaskSummary {
  const record = entry.record;
  const live = entry.live();
  return {
    TaskName: record.taskName,
    TaskId: record.taskId,
    Region: record.region,
    ServiceName: record.serviceName,
    Mode: modeName(record),
    DesiredAgent: live ? live.desiredAgents : record.desiredAgent,
    AvailableAgent: live ? live.availableAgents : 0,
    Status: record.status,
    Message: messageOf(entry),
    CreateTime: formatTime(record.createMs),
    UpdateTime: formatTime(record.updateMs),
  };
}

/** The task's Message, with what a full disk holds back. */
function messageOf(entry: TaskEntry): string {
  const held = entry.heldWrites();
  const message = redactText(entry.record.message);
  if (!held) return message;
  return `${message} [data dir cannot be written (${held.error}): ${held.lines} line${held.lines === 1 ? '' : 's'} of data held in memory until it can]`;
}
