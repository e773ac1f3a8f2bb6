import { randomBytes, timingSafeEqual } from 'node:crypto';
import { EventEmitter } from 'node:events';
import {
  applyOptionalUpdate,
  assertValidTask,
  BenchError,
  DEFAULTS,
  isFinalStatus,
  LlmRequestRecord,
  LlmResult,
  LlmSpec,
  LlmWork,
  normalizeTask,
  parseHeaderLine,
  redactTask,
  redactText,
  redactUrl,
  RequestTemplate,
  resolveOptional,
  ResolvedOptional,
  RoundResult,
  StatsPoint,
  StatsResponse,
  TaskDetail,
  TaskEvent,
  TaskSpec,
  TaskStatus,
  TaskSummary,
} from '../../src/contract';
import { computeLlmResult } from '../metrics/llm';
import { AgentOwner } from '../agents/hub';
import { AgentLauncher } from '../agents/launcher';
import { DataLimits, DataPolicy, loadEntries } from '../data';
import { taskMode } from '../modes';
import { RoundAccumulator, StoredSecond } from '../metrics/aggregate';
import { newReportSecret, ReportData } from '../reports/model';
import { publishReport } from '../reports/publish';
import { ServiceRegistry } from '../services';
import { ReportStore } from '../storage';
import { FIRST_ROUND_ID, formatTime, newEvent, newTaskId, newTaskName } from './naming';
import { currentRound, loadDurationS, RoundRecord, TaskRecord } from './record';
import { RoundRunner } from './round';
import { AppendOutcome, errorCode } from './append-log';
import { isDiskFull, TaskStore } from './store';

export interface TaskManagerDeps {
  store: TaskStore;
  reports: ReportStore;
  /** The controller's own disk: every report is written here first. */
  localReports: ReportStore;
  services: ServiceRegistry;
  launcher: AgentLauncher;
  region: string;
  maxAgents: number;
  /** Most tasks not in a final status at once (create and start beyond it are refused). */
  maxRunningTasks: number;
  /** Most agents across those tasks: checked at create, start and update, and granted as auto/scan rounds grow. */
  maxAgentsTotal: number;
  agentConnectTimeoutS: number;
  dataLimits: DataLimits;
  /** Which local folders and network addresses data sources may read. */
  dataPolicy: DataPolicy;
  controllerWsUrl: () => string;
  retentionStoppedS: number;
  retentionFailedS: number;
  log: (line: string) => void;
}

/** Finished rounds' figures, rebuilt once from disk and kept. */
interface RoundView {
  series: StatsPoint[];
  events: TaskEvent[];
  result: RoundResult;
  llmRecords?: LlmRequestRecord[];
  llm?: LlmResult;
}

/** Most prompts taken from a ShareGPT file. */
const MAX_SHAREGPT_PROMPTS = 10_000;

/**
 * What a round runs. An llm task's duration and request count come from its
 * `llm` section: `continuous` (or no requestCount) runs until the duration.
 */
export function runOptional(spec: TaskSpec): ResolvedOptional {
  const optional = resolveOptional(spec);
  const llm = spec.llm;
  if (!llm) return optional;
  return { ...optional, durationS: llm.duration ?? DEFAULTS.llmDurationS, requestCount: llm.continuous ? null : llm.requestCount ?? null };
}

/** The endpoint of an llm task: the service URL plus the API path, unless the URL already names one. */
export function llmUrl(serviceUrl: string, api: LlmSpec['api']): string {
  const url = new URL(serviceUrl);
  if (/\/v1\/(chat\/)?completions\/?$/.test(url.pathname)) return url.toString();
  url.pathname = `${url.pathname.replace(/\/+$/, '')}${api === 'chat' ? '/v1/chat/completions' : '/v1/completions'}`;
  return url.toString();
}

/** The first human turn of each ShareGPT conversation (`conversations: [{from, value}]` or `[{role, content}]`). */
export function sharegptPrompts(text: string, source: string): string[] {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new BenchError('DataSourceFailed', `llm.dataset.path ${source}: not valid JSON: ${(err as Error).message}`, { field: 'llm.dataset.path', resource: source });
  }
  const items = Array.isArray(doc) ? doc : [];
  const prompts: string[] = [];
  for (const item of items as Record<string, unknown>[]) {
    const turns = (item?.conversations ?? item?.conversation ?? item?.messages) as Record<string, unknown>[] | undefined;
    if (!Array.isArray(turns)) continue;
    const human = turns.find((t) => t && (t.from === 'human' || t.from === 'user' || t.role === 'user'));
    const value = human?.value ?? human?.content;
    if (typeof value === 'string' && value.trim()) prompts.push(value);
    if (prompts.length >= MAX_SHAREGPT_PROMPTS) break;
  }
  if (prompts.length === 0) throw new BenchError('DataSourceFailed', `llm.dataset.path ${source}: no conversation with a human turn`, { field: 'llm.dataset.path', resource: source });
  return prompts;
}

const REPORT_ATTEMPTS = 3;
/** How often writes that failed (a full disk) are tried again. */
const DISK_RETRY_MS = 1000;

/** A task whose writes fail: what failed, and the report that waits for the disk. */
interface DiskTrouble {
  error: string;
  roundId: number;
  recordUnsaved: boolean;
  report?: { round: RoundRecord; final?: { status: TaskStatus; message: string } };
}

/**
 * Owns every task: its record on disk, its lifecycle, and the runner of its
 * current round. Emits `second` (taskName, point) and `task` (taskName) for
 * the live streams.
 */
export class TaskManager extends EventEmitter {
  private readonly records = new Map<string, TaskRecord>();
  private readonly runners = new Map<string, RoundRunner>();
  private readonly views = new Map<string, RoundView>();
  private readonly pendingReports = new Map<string, Promise<void>>();
  private readonly diskTrouble = new Map<string, DiskTrouble>();
  private diskRetryTimer?: NodeJS.Timeout;

  constructor(private readonly deps: TaskManagerDeps) {
    super();
    this.setMaxListeners(0);
  }

  /** Loads every task; rounds that were running when the controller died become Terminated, with their data kept and reported. */
  recover(): void {
    for (const record of this.deps.store.loadAll((name, reason) => this.deps.log(`recovery: task folder ${JSON.stringify(name)} skipped: ${reason}`))) {
      this.records.set(record.taskName, record);
      if (isFinalStatus(record.status)) continue;
      if (record.status === 'Deleting') {
        void this.finishDelete(record);
        continue;
      }
      const round = currentRound(record);
      const seconds = round ? this.deps.store.readSeconds(record.taskName, round.roundId) : [];
      const last = seconds[seconds.length - 1];
      const upTo = last ? ` (data recorded up to ${formatTime((last.point.Time + 1) * 1000)} kept)` : '';
      const message = `Terminated: the controller stopped while the task was ${record.status}${upTo}`;
      if (round) {
        round.endMs = last ? (last.point.Time + 1) * 1000 : Date.now();
        round.message = message;
        this.deps.store.appendEvent(record.taskName, round.roundId, newEvent('status', message));
      }
      this.setStatus(record, 'Terminated', message);
      if (round) this.queueReport(record, round);
    }
  }

  // ------------------------------------------------------------ commands

  async create(body: unknown): Promise<TaskRecord> {
    const spec = normalizeTask(assertValidTask(body));
    // fail early, before anything is created, when the service cannot be resolved
    this.deps.services.resolve(spec.service);
    const optional = resolveOptional(spec);
    if (taskMode(optional, spec.llm).agentsFromTask && optional.agentCount > this.deps.maxAgents) {
      throw new BenchError('InvalidField', `optional.agentCount: must be <= ${this.deps.maxAgents} (the controller's --max-agents)`, { field: 'optional.agentCount' });
    }
    const desiredAgent = this.startingAgents(spec);
    this.checkCapacity(undefined, desiredAgent);
    const now = Date.now();
    const record: TaskRecord = {
      taskId: newTaskId(),
      taskName: newTaskName(spec.service.serviceName, (name) => this.records.has(name)),
      region: this.deps.region,
      serviceName: spec.service.serviceName,
      spec,
      status: 'Creating',
      message: 'Benchmark task is creating',
      createMs: now,
      updateMs: now,
      desiredAgent,
      rounds: [],
      agentToken: randomBytes(24).toString('base64url'),
    };
    try {
      this.deps.store.save(record);
    } catch (err) {
      // nothing half-created: no folder, no record
      this.deps.store.remove(record.taskName);
      throw err;
    }
    this.records.set(record.taskName, record);
    void this.startRound(record);
    return record;
  }

  async start(name: string): Promise<TaskRecord> {
    const record = this.mustGet(name);
    if (!isFinalStatus(record.status)) {
      throw new BenchError('TaskConflict', `task ${name} is ${record.status}; only a finished task can be started`, { resource: name });
    }
    const desiredAgent = this.startingAgents(record.spec);
    this.checkCapacity(record, desiredAgent);
    record.desiredAgent = desiredAgent;
    record.agentToken = randomBytes(24).toString('base64url');
    this.setStatus(record, 'Creating', 'Benchmark task is starting');
    void this.startRound(record);
    return record;
  }

  async stop(name: string): Promise<TaskRecord> {
    const record = this.mustGet(name);
    const runner = this.runners.get(name);
    if (!runner || isFinalStatus(record.status)) {
      throw new BenchError('TaskConflict', `task ${name} is ${record.status}, not running`, { resource: name });
    }
    this.setStatus(record, 'Stopping', 'Benchmark task is stopping');
    void runner.stop('stopped by the user');
    return record;
  }

  async update(name: string, body: unknown): Promise<TaskRecord> {
    const record = this.mustGet(name);
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      throw new BenchError('InvalidField', 'the update body must be {"optional": {...}}', { field: '' });
    }
    const { optional, ...rest } = body as Record<string, unknown>;
    const extra = Object.keys(rest);
    if (extra.length) throw new BenchError('InvalidField', `${extra[0]}: only optional.* can be updated`, { field: extra[0] });
    if (typeof optional !== 'object' || optional === null || Array.isArray(optional)) {
      throw new BenchError('InvalidField', 'optional: must be an object of the fields to change', { field: 'optional' });
    }
    const next = applyOptionalUpdate(record.spec, optional as Record<string, unknown>);
    const resolved = runOptional(next);
    if (resolved.agentCount > this.deps.maxAgents) {
      throw new BenchError('InvalidField', `optional.agentCount: must be <= ${this.deps.maxAgents} (the controller's --max-agents)`, { field: 'optional.agentCount' });
    }
    const runner = this.runners.get(name);
    if (record.status === 'Stopping' || record.status === 'Deleting' || record.status === 'Creating') {
      throw new BenchError('TaskConflict', `task ${name} is ${record.status}; try again when it is Running or finished`, { resource: name });
    }
    if (runner && taskMode(resolved, next.llm).agentsFromTask) this.checkAgents(record, resolved.agentCount);
    record.spec = next;
    if (!runner) {
      // a finished task: the next `start` uses the updated config
      this.touch(record);
      return record;
    }
    this.setStatus(record, 'Updating', 'Benchmark task is Updating');
    runner.update(resolved);
    record.desiredAgent = runner.desiredAgents();
    this.settleUpdate(record, runner);
    return record;
  }

  async delete(name: string): Promise<TaskRecord> {
    const record = this.mustGet(name);
    if (record.status === 'Deleting') return record;
    this.setStatus(record, 'Deleting', 'Benchmark task is Deleting');
    void this.finishDelete(record);
    return record;
  }

  // --------------------------------------------------------------- views

  list(): TaskSummary[] {
    return [...this.records.values()].sort((a, b) => a.createMs - b.createMs).map((r) => this.summary(r));
  }

  detail(name: string): TaskDetail {
    const record = this.mustGet(name);
    const runner = this.runners.get(name);
    const round = currentRound(record);
    const view = round && !runner ? this.roundView(record, round) : undefined;
    const series = runner ? runner.series : view?.series ?? [];
    const last = series[series.length - 1];
    const result = runner ? runner.accumulator.result(runner.loadDurationS()) : view?.result;
    const optional = runOptional(record.spec);
    const detail: TaskDetail = {
      ...this.summary(record),
      Config: redactTask(record.spec),
      RoundId: round?.roundId ?? 0,
      StartTime: round ? formatTime(round.startMs) : undefined,
      EndTime: round?.endMs ? formatTime(round.endMs) : undefined,
      ElapsedS: runner ? Math.round(runner.elapsedS()) : round?.endMs && round.startMs ? Math.round((round.endMs - round.startMs) / 1000) : 0,
      DurationS: optional.durationS,
      Target: runner?.mode.describeTarget(),
      Events: runner ? runner.events : view?.events ?? [],
      Capacity: runner?.mode.capacity() ?? round?.capacity,
      ReportUrl: round?.reportUrl,
    };
    const llm = runner ? runner.llmResult() : view?.llm;
    if (llm) {
      detail.LLM = llm;
    }
    if (result && result.TotalRequests > 0) {
      detail.Result = result;
      detail.CurrentQPS = last ? last.Requests : 0;
      detail.TP99 = last ? last.RT.TP99 : result.TP99;
      detail.ErrorRate = last && last.Requests > 0 ? last.Errors / last.Requests : result.ErrorRate;
    }
    return detail;
  }

  stats(name: string, requestId: string): StatsResponse {
    const detail = this.detail(name);
    const runner = this.runners.get(name);
    const record = this.mustGet(name);
    const round = currentRound(record);
    const series = runner ? runner.series : round ? this.roundView(record, round).series : [];
    return {
      RequestId: requestId,
      TaskName: name,
      RoundId: detail.RoundId,
      Status: detail.Status,
      Mode: detail.Mode,
      Series: series,
      Events: detail.Events,
      Result: detail.Result,
      Capacity: detail.Capacity,
    };
  }

  /** The per-request records of the current (or last) round of an llm task. */
  llmRecords(name: string): { roundId: number; records: LlmRequestRecord[] } {
    const record = this.mustGet(name);
    if (!record.spec.llm) throw new BenchError('InvalidField', `task ${name} is not an llm task: it has no per-request records`, { field: 'llm' });
    const runner = this.runners.get(name);
    const round = currentRound(record);
    if (!round) return { roundId: 0, records: [] };
    return { roundId: round.roundId, records: runner ? runner.llmRecords : this.roundView(record, round).llmRecords ?? [] };
  }

  /** Where the report of the last round is; 409 before the round has ended. */
  async report(name: string): Promise<{ roundId: number; reportUrl: string; jsonUrl?: string }> {
    const record = this.mustGet(name);
    const round = currentRound(record);
    if (!round || !isFinalStatus(record.status)) {
      throw new BenchError('ReportNotReady', `task ${name} is ${record.status}; its report is written when the round ends`, { resource: name });
    }
    await this.pendingReports.get(name);
    if (!round.reportUrl) throw new BenchError('ReportNotFound', `task ${name} round ${round.roundId} has no report: ${round.message ?? 'it was not written'}`, { resource: name });
    return { roundId: round.roundId, reportUrl: round.reportUrl, jsonUrl: round.reportJsonUrl };
  }

  /** The agent-token lookup the agent hub uses: a task's token, or the own secret of one of its launched agents. */
  ownerForToken(token: string): AgentOwner | undefined {
    const presented = Buffer.from(token);
    for (const [name, runner] of this.runners) {
      const expected = Buffer.from(this.records.get(name)?.agentToken ?? '');
      // constant-time: the comparison must not tell how much of a guess was right
      if ((expected.length === presented.length && timingSafeEqual(expected, presented)) || runner.holdsAgentSecret(token)) return runner;
    }
    return undefined;
  }

  has(name: string): boolean {
    return this.records.has(name);
  }

  /** Deletes tasks whose retention has passed. */
  sweepRetention(nowMs = Date.now()): void {
    for (const record of this.records.values()) {
      if (!isFinalStatus(record.status) || record.finalMs === undefined) continue;
      const keepS = record.status === 'Stopped' ? this.deps.retentionStoppedS : this.deps.retentionFailedS;
      if (nowMs - record.finalMs >= keepS * 1000) {
        this.deps.log(`retention: deleting ${record.taskName} (${record.status} for more than ${keepS} s)`);
        void this.delete(record.taskName);
      }
    }
  }

  /** Stops every running round and writes its report (graceful shutdown). */
  async shutdown(): Promise<void> {
    const running = [...this.runners.entries()];
    await Promise.all(running.map(([name, runner]) => {
      const record = this.records.get(name);
      if (record && !isFinalStatus(record.status)) this.setStatus(record, 'Stopping', 'Benchmark task is stopping: the controller is shutting down');
      return runner.stop('the controller is shutting down');
    }));
    await Promise.all([...this.pendingReports.values()]);
    for (const name of [...this.diskTrouble.keys()]) this.retryDisk(name);
    for (const [name, trouble] of this.diskTrouble) {
      this.deps.log(`${name}: ${this.deps.store.pendingLines(name)} held lines could not be written before exit (${trouble.error})`);
    }
    if (this.diskRetryTimer) clearInterval(this.diskRetryTimer);
  }

  // ----------------------------------------------------------- capacity

  /** Tasks holding agents, or about to: every one not in a final status, `except` aside. */
  private activeTasks(except?: TaskRecord): TaskRecord[] {
    return [...this.records.values()].filter((r) => r !== except && !isFinalStatus(r.status));
  }

  /** The agents a task starts a round with, as its mode says (auto and scan begin with one and grow within --max-agents-total). */
  private startingAgents(spec: TaskSpec): number {
    return taskMode(runOptional(spec), spec.llm).startingAgents(this.deps.maxAgents);
  }

  private checkCapacity(record: TaskRecord | undefined, agents: number): void {
    const running = this.activeTasks(record).length;
    if (running >= this.deps.maxRunningTasks) {
      throw new BenchError('TooManyTasks', `${running} tasks are running, the most the controller allows (--max-running-tasks ${this.deps.maxRunningTasks}); stop one or wait for one to end`);
    }
    this.checkAgents(record, agents);
  }

  private checkAgents(record: TaskRecord | undefined, agents: number): void {
    const left = this.agentsLeft(record);
    if (agents > left) {
      throw new BenchError('TooManyAgents', `the task needs ${agents} agent${agents === 1 ? '' : 's'} and ${left} of the controller's ${this.deps.maxAgentsTotal} (--max-agents-total) are free`);
    }
  }

  private agentsLeft(record: TaskRecord | undefined): number {
    const used = this.activeTasks(record).reduce((sum, r) => sum + r.desiredAgent, 0);
    return Math.max(0, this.deps.maxAgentsTotal - used);
  }

  /** What a round may run of the agents its mode wants; kept in desiredAgent at once, so two growing rounds cannot both take the last one. */
  private grantAgents(record: TaskRecord, wanted: number): number {
    const granted = Math.min(wanted, this.agentsLeft(record));
    record.desiredAgent = granted;
    return granted;
  }

  // ------------------------------------------------------------- rounds

  private async startRound(record: TaskRecord): Promise<void> {
    const roundId = (currentRound(record)?.roundId ?? FIRST_ROUND_ID - 1) + 1;
    // the report's secret is saved with the round, so a report written again after a restart keeps its name
    const round: RoundRecord = { roundId, startMs: Date.now(), reportSecret: newReportSecret() };
    record.rounds.push(round);
    this.touch(record);
    let request: RequestTemplate;
    let runner: RoundRunner;
    const optional = runOptional(record.spec);
    try {
      const llmSpec = record.spec.llm;
      request = await this.requestTemplate(record);
      const llm = llmSpec ? { spec: llmSpec, work: await this.llmWork(record.spec, llmSpec) } : undefined;
      runner = new RoundRunner({
        llm,
        taskName: record.taskName,
        taskId: record.taskId,
        roundId,
        agentToken: record.agentToken,
        optional,
        request,
        launcher: this.deps.launcher,
        controllerWsUrl: this.deps.controllerWsUrl(),
        connectTimeoutS: this.deps.agentConnectTimeoutS,
        maxAgents: this.deps.maxAgents,
        grantAgents: (wanted) => this.grantAgents(record, wanted),
        hooks: {
          onChange: () => this.onRunnerChange(record),
          onSecond: (stored) => this.onRunnerSecond(record, roundId, stored),
          onLlmRecords: (records) => this.noteWrite(record, roundId, this.deps.store.appendLlmRecords(record.taskName, roundId, records)),
          onEvent: (event) => {
            this.noteWrite(record, roundId, this.deps.store.appendEvent(record.taskName, roundId, event));
            this.emit('task', record.taskName);
          },
          onFinished: (info) => this.onRunnerFinished(record, round, info),
        },
      });
    } catch (err) {
      const message = err instanceof BenchError ? err.message : `could not start: ${(err as Error).message}`;
      round.endMs = Date.now();
      round.message = message;
      this.deps.store.appendEvent(record.taskName, roundId, newEvent('error', message));
      this.setStatus(record, 'CreateFailed', message);
      return;
    }
    if (record.status === 'Deleting') return;
    this.runners.set(record.taskName, runner);
    record.desiredAgent = runner.desiredAgents();
    runner.start();
    this.onRunnerChange(record);
  }

  private async requestTemplate(record: TaskRecord): Promise<RequestTemplate> {
    const spec = record.spec;
    const target = this.deps.services.resolve(spec.service);
    // llm tasks send their own bodies (LlmWork); the data section is read there for the custom dataset
    const bodies = spec.llm ? [] : await loadEntries(spec.data, this.deps.dataLimits, this.deps.dataPolicy);
    const headers: [string, string][] = [];
    for (const line of spec.http?.headers ?? []) {
      const header = parseHeaderLine(line);
      if (header) headers.push([header.name, header.value]);
    }
    if (target.token && !headers.some(([name]) => name.toLowerCase() === 'authorization')) headers.push(['Authorization', target.token]);
    if (spec.llm) {
      return { url: llmUrl(target.url, spec.llm.api), method: 'POST', headers, bodies: [], timeoutMs: spec.http?.timeout ?? DEFAULTS.llmTimeoutMs };
    }
    return {
      url: target.url,
      method: spec.http?.method ?? (bodies.length > 0 ? 'POST' : 'GET'),
      headers,
      bodies: bodies.map((b) => b.toString('base64')),
      timeoutMs: spec.http?.timeout ?? DEFAULTS.timeoutMs,
    };
  }

  /** What the agents of an llm task send: synthetic parameters, ShareGPT prompts or custom bodies. */
  private async llmWork(spec: TaskSpec, llm: LlmSpec): Promise<LlmWork> {
    const dataset = llm.dataset ?? { type: 'synthetic' as const };
    const base = { api: llm.api, model: llm.model, maxTokens: null };
    switch (dataset.type) {
      case 'synthetic': {
        const input = dataset.inputTokens ?? [DEFAULTS.llmInputTokens, DEFAULTS.llmInputTokens];
        const output = dataset.outputTokens ?? [DEFAULTS.llmOutputTokens, DEFAULTS.llmOutputTokens];
        // output lengths are exact only if the model may not stop early
        return { ...base, ignoreEos: llm.ignoreEos ?? true, source: { kind: 'synthetic', inputTokens: input, outputTokens: output, seed: llm.seed ?? DEFAULTS.llmSeed } };
      }
      case 'custom': {
        const entries = await loadEntries(spec.data, this.deps.dataLimits, this.deps.dataPolicy);
        return { ...base, ignoreEos: llm.ignoreEos ?? false, source: { kind: 'bodies', bodies: entries.map((b) => b.toString('utf8')) } };
      }
      case 'sharegpt': {
        const [file] = await loadEntries({ path: dataset.path }, this.deps.dataLimits, this.deps.dataPolicy);
        return { ...base, ignoreEos: llm.ignoreEos ?? false, source: { kind: 'prompts', prompts: sharegptPrompts(file.toString('utf8'), dataset.path) } };
      }
    }
  }

  private onRunnerChange(record: TaskRecord): void {
    const runner = this.runners.get(record.taskName);
    if (!runner) return;
    record.desiredAgent = runner.desiredAgents();
    if (runner.phase === 'running' && (record.status === 'Creating')) {
      const round = currentRound(record);
      if (round) round.runningMs = runner.runningSinceMs;
      this.setStatus(record, 'Running', runner.message);
    } else if (runner.phase === 'starting' && record.status === 'Creating') {
      record.message = runner.message;
      this.touch(record);
    } else {
      this.emit('task', record.taskName);
    }
  }

  private settleUpdate(record: TaskRecord, runner: RoundRunner): void {
    const deadline = Date.now() + this.deps.agentConnectTimeoutS * 1000;
    const check = (): void => {
      if (record.status !== 'Updating' || this.runners.get(record.taskName) !== runner) return;
      if (runner.availableAgents() >= runner.desiredAgents()) {
        this.setStatus(record, 'Running', 'Benchmark task is running');
      } else if (Date.now() > deadline) {
        this.setStatus(record, 'Running', `Benchmark task is running with ${runner.availableAgents()}/${runner.desiredAgents()} agents`);
      } else {
        setTimeout(check, 200).unref();
      }
    };
    check();
  }

  private onRunnerSecond(record: TaskRecord, roundId: number, stored: StoredSecond): void {
    this.noteWrite(record, roundId, this.deps.store.appendSecond(record.taskName, roundId, stored));
    this.emit('second', record.taskName, stored.point);
  }

  // --------------------------------------------------------- full disk

  /**
   * Called after every write of a task. A failed write starts "disk trouble":
   * one event and log line, a note on the task's Message, and a retry every
   * second until every held line and the task record are on disk again.
   */
  private noteWrite(record: TaskRecord, roundId: number, outcome: AppendOutcome): void {
    if (!outcome.written) this.startDiskTrouble(record, roundId, outcome.error ?? 'unknown error', false);
    else if (this.diskTrouble.has(record.taskName)) this.retryDisk(record.taskName);
  }

  /** The task's disk trouble, started now (event, log line, retry timer) unless it already was. */
  private startDiskTrouble(record: TaskRecord, roundId: number, error: string, recordUnsaved: boolean): DiskTrouble {
    const existing = this.diskTrouble.get(record.taskName);
    if (existing) {
      existing.recordUnsaved ||= recordUnsaved;
      return existing;
    }
    const trouble: DiskTrouble = { error, roundId, recordUnsaved };
    this.diskTrouble.set(record.taskName, trouble);
    const message = `cannot write to the data dir (${error}): the seconds, events and status are held in memory and written when it can be written again`;
    this.deps.log(`${record.taskName}: ${message}`);
    this.recordEvent(record, roundId, 'storage', message);
    this.diskRetryTimer ??= setInterval(() => {
      for (const name of [...this.diskTrouble.keys()]) this.retryDisk(name);
    }, DISK_RETRY_MS).unref();
    return trouble;
  }

  /** Writes what waits; when all of it is on disk, says so and writes a report the full disk held back. */
  private retryDisk(taskName: string): void {
    const trouble = this.diskTrouble.get(taskName);
    const record = this.records.get(taskName);
    if (!trouble) return;
    if (!record) {
      this.diskTrouble.delete(taskName);
    } else {
      const flushed = this.deps.store.flush(taskName);
      if (!flushed.written) return;
      if (trouble.recordUnsaved && !this.deps.store.trySave(record).written) return;
      this.diskTrouble.delete(taskName);
      this.deps.log(`${taskName}: the data dir can be written again; every held line is written`);
      this.recordEvent(record, trouble.roundId, 'storage', 'the data dir can be written again: every held second, event and status is written');
      if (trouble.report && !trouble.report.round.reportUrl) this.queueReport(record, trouble.report.round, trouble.report.final);
      this.emit('task', taskName);
    }
    if (this.diskTrouble.size === 0 && this.diskRetryTimer) {
      clearInterval(this.diskRetryTimer);
      this.diskRetryTimer = undefined;
    }
  }

  /** An event of the controller itself (not of a mode), kept with the round's other events. */
  private recordEvent(record: TaskRecord, roundId: number, kind: TaskEvent['Kind'], message: string): void {
    const event = newEvent(kind, message);
    const runner = this.runners.get(record.taskName);
    if (runner) runner.events.push(event);
    else this.views.get(viewKey(record.taskName, roundId))?.events.push(event);
    // its own outcome is not checked: a failure is already being handled, and the line waits like the others
    this.deps.store.appendEvent(record.taskName, roundId, event);
    this.emit('task', record.taskName);
  }

  private onRunnerFinished(record: TaskRecord, round: RoundRecord, info: { reason: string; failed: boolean }): void {
    const runner = this.runners.get(record.taskName);
    this.runners.delete(record.taskName);
    round.endMs = Date.now();
    round.loadEndMs = runner?.stopRequestedMs ?? round.endMs;
    round.message = info.reason;
    round.capacity = runner?.mode.capacity();
    if (runner) {
      this.views.set(viewKey(record.taskName, round.roundId), {
        series: runner.series,
        events: runner.events,
        result: runner.accumulator.result(runner.loadDurationS()),
        ...(record.spec.llm ? { llmRecords: runner.llmRecords, llm: runner.llmResult() } : {}),
      });
    }
    if (record.status === 'Deleting') return;
    const status: TaskStatus = info.failed ? (runner && runner.series.length > 0 ? 'Error' : 'CreateFailed') : 'Stopped';
    const message = info.failed ? info.reason : `Benchmark task is stopped: ${info.reason}`;
    if (info.failed && status === 'CreateFailed') {
      this.setStatus(record, status, message);
      return;
    }
    // the report is written before the status says Stopped, so `bench report` works at once
    this.queueReport(record, round, { status, message });
  }

  /** Writes the round's report, then sets the final status (if given); a report problem is added to the Message. */
  private queueReport(record: TaskRecord, round: RoundRecord, final?: { status: TaskStatus; message: string }): void {
    const job = this.writeReport(record, round, final?.status ?? record.status)
      .catch((err: Error) => {
        const code = errorCode(err);
        const trouble = this.diskTrouble.get(record.taskName) ?? (isDiskFull(code) ? this.startDiskTrouble(record, round.roundId, code, false) : undefined);
        if (trouble) trouble.report = { round, final };
        const warning = `report not written: ${err.message}${trouble ? '; it is written when the data dir can be written again' : ''}`;
        round.message = `${round.message ?? ''}; ${warning}`;
        this.deps.log(`${record.taskName} round ${round.roundId}: ${warning}`);
        return warning;
      })
      .then((warning) => {
        this.pendingReports.delete(record.taskName);
        const base = final?.message ?? record.message;
        const message = warning ? `${base}; ${warning}` : base;
        if (final) this.setStatus(record, final.status, message);
        else {
          record.message = message;
          this.touch(record);
        }
      });
    this.pendingReports.set(record.taskName, job);
  }

  /** Writes the report; resolves to a warning for the task's Message when the upload fell back to the local copy. */
  private async writeReport(record: TaskRecord, round: RoundRecord, status: TaskStatus): Promise<string | undefined> {
    const view = this.roundView(record, round);
    const data: ReportData = {
      TaskName: record.taskName,
      TaskId: record.taskId,
      RoundId: round.roundId,
      ServiceName: record.serviceName,
      Region: record.region,
      Mode: modeName(record.spec),
      Status: status,
      Message: redactText(round.message ?? record.message),
      StartTime: formatTime(round.startMs),
      EndTime: formatTime(round.endMs ?? Date.now()),
      TargetUrl: safeTarget(this.deps.services, record),
      Config: redactTask(record.spec),
      Result: view.result,
      Capacity: round.capacity,
      Series: view.series,
      Events: view.events,
      ...(view.llm ? { LLM: view.llm } : {}),
      GeneratedAt: formatTime(Date.now()),
    };
    // rounds recorded before report names had a secret get theirs now
    round.reportSecret ??= newReportSecret();
    const published = await publishReport(this.deps.reports, this.deps.localReports, data, round.reportSecret, { attempts: REPORT_ATTEMPTS, backoffMs: 500 });
    round.reportUrl = published.reportUrl;
    round.reportJsonUrl = published.jsonUrl;
    round.reportKeys = published.keys;
    if (published.uploadError) {
      round.message = `${round.message ?? ''}; ${published.uploadError}`;
      this.deps.log(`${record.taskName} round ${round.roundId}: ${published.uploadError}`);
      return published.uploadError;
    }
    return undefined;
  }

  private roundView(record: TaskRecord, round: RoundRecord): RoundView {
    const key = viewKey(record.taskName, round.roundId);
    const cached = this.views.get(key);
    if (cached) return cached;
    const seconds = this.deps.store.readSeconds(record.taskName, round.roundId);
    const accumulator = new RoundAccumulator();
    for (const s of seconds) accumulator.addSecond(s.point, s.rt, s.lag);
    const view: RoundView = {
      series: seconds.map((s) => s.point),
      events: this.deps.store.readEvents(record.taskName, round.roundId),
      result: accumulator.result(loadDurationS(round)),
    };
    if (record.spec.llm) {
      view.llmRecords = this.deps.store.readLlmRecords(record.taskName, round.roundId);
      view.llm = computeLlmResult(view.llmRecords, record.spec.llm.slo);
    }
    this.views.set(key, view);
    return view;
  }

  private async finishDelete(record: TaskRecord): Promise<void> {
    const runner = this.runners.get(record.taskName);
    if (runner) await runner.stop('the task is being deleted');
    await this.pendingReports.get(record.taskName);
    for (const round of record.rounds) {
      for (const key of round.reportKeys ?? []) {
        for (const store of new Set([this.deps.reports, this.deps.localReports])) {
          await store.delete(key).catch((err: Error) => this.deps.log(`cannot delete report ${key}: ${err.message}`));
        }
      }
      this.views.delete(viewKey(record.taskName, round.roundId));
    }
    this.deps.store.remove(record.taskName);
    this.records.delete(record.taskName);
    this.emit('task', record.taskName);
  }

  // ------------------------------------------------------------ records

  private mustGet(name: string): TaskRecord {
    const record = this.records.get(name);
    if (!record) throw new BenchError('TaskNotFound', `benchmark task ${name} does not exist`, { resource: name });
    return record;
  }

  private setStatus(record: TaskRecord, status: TaskStatus, message: string): void {
    record.status = status;
    record.message = message;
    record.finalMs = isFinalStatus(status) ? Date.now() : undefined;
    this.touch(record);
  }

  private touch(record: TaskRecord): void {
    record.updateMs = Date.now();
    if (record.status !== 'Deleting' || this.records.has(record.taskName)) {
      const saved = this.deps.store.trySave(record);
      const round = currentRound(record);
      if (!saved.written && round) this.startDiskTrouble(record, round.roundId, saved.error ?? 'unknown error', true);
    }
    this.emit('task', record.taskName);
  }


  /** The task's Message, with what a full disk holds back. */
  private messageOf(record: TaskRecord): string {
    const trouble = this.diskTrouble.get(record.taskName);
    if (!trouble) return redactText(record.message);
    const held = this.deps.store.pendingLines(record.taskName);
    return `${redactText(record.message)} [data dir cannot be written (${trouble.error}): ${held} line${held === 1 ? '' : 's'} of data held in memory until it can]`;
  }

  private summary(record: TaskRecord): TaskSummary {
    const runner = this.runners.get(record.taskName);
    return {
      TaskName: record.taskName,
      TaskId: record.taskId,
      Region: record.region,
      ServiceName: record.serviceName,
      Mode: modeName(record.spec),
      DesiredAgent: runner ? runner.desiredAgents() : record.desiredAgent,
      AvailableAgent: runner ? runner.availableAgents() : 0,
      Status: record.status,
      Message: this.messageOf(record),
      CreateTime: formatTime(record.createMs),
      UpdateTime: formatTime(record.updateMs),
    };
  }
}

/** The mode shown in lists and reports: an llm task shows its test mode. */
function modeName(spec: TaskSpec): string {
  return taskMode(resolveOptional(spec), spec.llm).displayName;
}

function viewKey(taskName: string, roundId: number): string {
  return `${taskName}#${roundId}`;
}

function safeTarget(services: ServiceRegistry, record: TaskRecord): string {
  try {
    return redactUrl(services.resolve(record.spec.service).url);
  } catch {
    return redactUrl(record.spec.service.url ?? record.spec.service.serviceName);
  }
}
