import type { AgentConnection } from '../../controller/fleet/hub';
import type { AgentLauncher, AgentLaunchSpec } from '../../controller/fleet/launcher';
import type { StoredSecond } from '../../controller/metrics/aggregate';
import { RoundEndInfo, RoundRunner } from '../../controller/tasks/round-runner';
import type { RoundTiming } from '../../controller/tasks/round-timing';
import {
  AgentStatsFrame,
  AgentToController,
  ControllerToAgent,
  DEFAULTS,
  LlmWork,
  LoadShape,
  resolveOptional,
  TaskEvent,
  TaskSpec,
  taskThresholds,
} from '../../src/contract';
import { createLatencyHistogram, encodeHistogram } from '../../src/measure/histogram';
import { FakeClock } from './fake-clock';

/**
 * A RoundRunner in-process and in fake time: a launcher that starts nothing
 * and agents the test plays (SimAgent: its socket as the pool sees it, the
 * messages it was sent, the frames it sends). Minutes of a round run in
 * milliseconds; nothing here reads the real clock.
 */

/** 2023-11-14T22:13:20Z, a whole second: the round's ticks fall on whole seconds. */
export const START_MS = 1_700_000_000_000;

/** One second of an agent as the test wants it: how many responses, how many failed, how slow. */
export interface SecondFigures {
  requests: number;
  errors?: number;
  latencyMs?: number;
  /** The responses' times as an encoded histogram of `requests` samples, in place of `latencyMs`. */
  rt?: string;
  /** Sent in the second (defaults to `requests`): below the load's share, the agent could not send it. */
  sent?: number;
  llmRecords?: AgentStatsFrame['llmRecords'];
  llm?: AgentStatsFrame['llm'];
}

/** A real encoded histogram of `count` samples of `ms` each, as an agent sends it. */
export function rtHistogram(count: number, ms: number): string {
  if (count === 0) return '';
  const h = createLatencyHistogram();
  h.recordValueWithCount(Math.max(1, Math.round(ms * 1000)), count);
  return encodeHistogram(h);
}

/** One agent, as the test plays it: connects with its own secret, says ready, sends frames and `done`, exits. */
export class SimAgent implements AgentConnection {
  readonly pid = 4242;
  readonly host = 'sim-host';
  readonly address = '127.0.0.1';
  readonly sent: ControllerToAgent[] = [];
  totalSent = 0;
  closed = false;
  exited = false;
  /** Said `done` (its limit reached, or told to stop). */
  isDone = false;
  /** Told to stop, it answers `done` this long after (null: it never does). */
  doneAfterStopMs: number | null = 10;

  constructor(
    private readonly harness: RoundHarness,
    readonly spec: AgentLaunchSpec,
  ) {}

  get agentId(): string {
    return this.spec.agentId;
  }

  /** Its current load and request limit: the assignment's, then each `load` message's. */
  get load(): LoadShape | undefined {
    for (let i = this.sent.length - 1; i >= 0; i--) {
      const m = this.sent[i];
      if (m.type === 'load') return m.load;
      if (m.type === 'assign') return m.assignment.load;
    }
    return undefined;
  }

  get requestLimit(): number | null | undefined {
    for (let i = this.sent.length - 1; i >= 0; i--) {
      const m = this.sent[i];
      if (m.type === 'load') return m.requestLimit;
      if (m.type === 'assign') return m.assignment.requestLimit;
    }
    return undefined;
  }

  received(type: ControllerToAgent['type']): boolean {
    return this.sent.some((m) => m.type === type);
  }

  send(message: ControllerToAgent): void {
    this.sent.push(message);
    if (message.type === 'stop' && this.doneAfterStopMs !== null && !this.isDone) {
      // a real agent answers after the message's transit, never inside the controller's own call
      this.harness.clock.setTimeout(() => this.done('stopped'), this.doneAfterStopMs);
    }
  }

  close(): void {
    this.closed = true;
  }

  /** Says hello with its own secret and `ready`. */
  connect(ready = true): this {
    this.harness.runner.agentOwner.attach(this, this.spec.token);
    if (ready) this.message({ type: 'ready' });
    return this;
  }

  message(message: AgentToController): void {
    this.harness.runner.agentOwner.onMessage(this, message);
  }

  /** A stats frame for `second`, its figures consistent with each other. */
  frame(second: number, figures: SecondFigures): void {
    const { requests, errors = 0, latencyMs = 10 } = figures;
    const sent = figures.sent ?? requests;
    this.totalSent += sent;
    const statusCodes: Record<string, number> = {};
    if (requests - errors > 0) statusCodes['200'] = requests - errors;
    if (errors > 0) statusCodes['500'] = errors;
    this.message({
      type: 'stats',
      frame: {
        second, requests, sent, statusCodes, bytesIn: requests * 100, bytesOut: sent * 100, dropped: 0, inFlight: 0,
        rtHistogram: figures.rt ?? rtHistogram(requests, latencyMs), lagHistogram: '', totalSent: this.totalSent, eventLoopLagMs: 1,
        ...(figures.llmRecords ? { llmRecords: figures.llmRecords } : {}),
        ...(figures.llm ? { llm: figures.llm } : {}),
      },
    });
  }

  done(reason: 'limit' | 'stopped' = 'stopped'): void {
    if (this.isDone || this.closed) return;
    this.isDone = true;
    this.message({ type: 'done', reason, totalSent: this.totalSent });
  }

  /** Its process ends on its own (a crash): the socket closes, then the process is gone. */
  crash(signal: NodeJS.Signals = 'SIGKILL'): void {
    this.harness.runner.agentOwner.onClose(this);
    this.exited = true;
    this.spec.onExit(null, signal);
  }
}

export interface HarnessOptions {
  timing?: Partial<RoundTiming>;
  maxAgents?: number;
  maxAgentQps?: number;
  connectTimeoutS?: number;
  /** An llm task: what its agents send (a minimal synthetic work when absent). */
  llmWork?: LlmWork;
}

function syntheticWork(api: LlmWork['api'], model: string): LlmWork {
  return { api, model, ignoreEos: false, maxTokens: null, source: { kind: 'synthetic', inputTokens: [10, 10], outputTokens: [10, 10], seed: 1 } };
}

/** The round's llm part as prepareRound gives it: a trace's records are its requestCount. */
function llmOf(spec: NonNullable<TaskSpec['llm']>, work: LlmWork | undefined): { spec: NonNullable<TaskSpec['llm']>; work: LlmWork; requestCount?: number } {
  const given = work ?? syntheticWork(spec.api, spec.model);
  return { spec, work: given, ...(given.source.kind === 'trace' ? { requestCount: given.source.records.length } : {}) };
}

/** The round, its fake clock and launcher, and what its hooks heard. */
export class RoundHarness implements AgentLauncher {
  readonly clock = new FakeClock(START_MS);
  readonly runner: RoundRunner;
  readonly agents: SimAgent[] = [];
  readonly seconds: StoredSecond[] = [];
  readonly events: TaskEvent[] = [];
  readonly capacity = Number.POSITIVE_INFINITY;
  finished?: RoundEndInfo & { atMs: number };

  constructor(task: TaskSpec, options: HarnessOptions = {}) {
    this.runner = new RoundRunner({
      taskName: 'task',
      taskId: 'task-id',
      roundId: 1,
      agentToken: 'task-token',
      optional: resolveOptional(task),
      request: { url: task.service.url ?? 'http://127.0.0.1:9/', method: 'GET', headers: [], bodies: [], timeoutMs: DEFAULTS.timeoutMs },
      launcher: this,
      controllerWsUrl: 'ws://127.0.0.1:1/agents',
      connectTimeoutS: options.connectTimeoutS ?? 30,
      maxAgents: options.maxAgents ?? 8,
      maxAgentQps: options.maxAgentQps ?? 10_000,
      hooks: {
        onChange: () => undefined,
        onSecond: (stored) => this.seconds.push(stored),
        onEvent: (event) => this.events.push(event),
        onFinished: (info) => {
          this.finished = { ...info, atMs: this.clock.nowMs() };
        },
      },
      ...(task.llm ? { llm: llmOf(task.llm, options.llmWork) } : {}),
      thresholds: taskThresholds(task),
      clock: this.clock,
      timing: options.timing,
    });
  }

  launch(spec: AgentLaunchSpec): { agentId: string; pid: number; kill: () => void } {
    const agent = new SimAgent(this, spec);
    this.agents.push(agent);
    return { agentId: spec.agentId, pid: 1000 + this.agents.length, kill: () => undefined };
  }

  async shutdown(): Promise<void> {}

  /** Starts the round and connects every agent it launched (ready at once): the round runs. */
  start(): this {
    this.runner.start();
    this.connectNew();
    return this;
  }

  /** Connects (and readies) the agents launched and not yet connected. */
  connectNew(): SimAgent[] {
    const fresh = this.agents.filter((a) => !a.received('assign') && !a.exited);
    for (const agent of fresh) agent.connect();
    return fresh;
  }

  /** Agents seated and still sending (connected, not done, not crashed). */
  working(): SimAgent[] {
    return this.agents.filter((a) => a.received('assign') && !a.isDone && !a.exited && !a.closed);
  }

  /** The Unix second the clock is in. */
  nowS(): number {
    return Math.floor(this.clock.nowMs() / 1000);
  }

  /**
   * Runs `seconds` whole seconds: in each, every working agent sends the
   * frame `figures` gives it (none when it gives null) once the second is
   * over, 100 ms past its end, as agents do; then the clock moves on.
   */
  run(seconds: number, figures: (agent: SimAgent, second: number) => SecondFigures | null): void {
    for (let i = 0; i < seconds && !this.finished; i++) {
      const second = this.nowS();
      this.clock.advanceTo((second + 1) * 1000 + 100);
      for (const agent of this.working()) {
        const f = figures(agent, second);
        if (f) agent.frame(second, f);
        // an agent whose request limit is reached ends by itself
        const limit = agent.requestLimit;
        if (limit !== null && limit !== undefined && agent.totalSent >= limit) agent.done('limit');
      }
    }
  }

  /** Moves the clock until the round has finished (at most `maxMs`). */
  runToEnd(maxMs = 60_000): void {
    const limit = this.clock.nowMs() + maxMs;
    while (!this.finished && this.clock.nowMs() < limit) this.clock.advance(50);
  }

  /** The stored seconds' points. */
  points(): StoredSecond['point'][] {
    return this.seconds.map((s) => s.point);
  }

  eventLines(kind?: TaskEvent['Kind']): string[] {
    return this.events.filter((e) => kind === undefined || e.Kind === kind).map((e) => e.Message);
  }
}

/** What an open-loop agent sends in a second at its share of the rate; a closed-loop one, `closedPerS` a worker. */
export function shareOf(agent: SimAgent, closedPerS = 10): number {
  const load = agent.load;
  if (!load) return 0;
  if (load.kind === 'open') return Math.round(load.qps);
  if (load.kind === 'closed') return load.concurrency * closedPerS;
  return load.concurrency;
}
