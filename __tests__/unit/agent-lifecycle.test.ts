import { AgentLifecycle, RoundSettings } from '../../agent/lifecycle';
import type { DoneCallback, LoadContext, LoadDriver, Sender, Workload } from '../../agent/load-driver';
import type { AgentToController, LoadShape } from '../../src/contract';

type ClosedLoad = Extract<LoadShape, { kind: 'closed' }>;
type OpenLoad = Extract<LoadShape, { kind: 'open' }>;
type TestLoad = ClosedLoad | OpenLoad;

/** Holds every request until the test ends it: in flight is exactly what the test has not finished. */
class FakeSender implements Sender {
  onIdle: () => void = () => undefined;
  prepared = false;
  cancelled = 0;
  closed = false;
  private pending: (DoneCallback | null)[] = [];
  private releasePrepare: (() => void) | null = null;

  constructor(holdPrepare: boolean) {
    if (!holdPrepare) this.prepared = true;
  }

  get inFlight(): number {
    return this.pending.length;
  }

  prepare(): Promise<void> {
    if (this.prepared) return Promise.resolve();
    return new Promise((resolve) => {
      this.releasePrepare = () => {
        this.prepared = true;
        resolve();
      };
    });
  }

  finishPrepare(): void {
    this.releasePrepare?.();
  }

  send(_originMs: number, _nowMs: number, done: DoneCallback | null): void {
    this.pending.push(done);
  }

  /** Ends the oldest `count` requests with 200. */
  finish(count: number): void {
    for (const done of this.pending.splice(0, count)) done?.(200);
    if (this.pending.length === 0) this.onIdle();
  }

  cancelAll(): void {
    this.cancelled += this.pending.length;
    this.pending = [];
    this.onIdle();
  }

  async close(): Promise<void> {
    this.closed = true;
    this.cancelAll();
  }
}

/** Sends only when the test says so; closed loads update in place, a change of kind needs a new driver. */
class ManualDriver implements LoadDriver<TestLoad> {
  running = false;
  updates: TestLoad[] = [];

  constructor(private readonly context: LoadContext, readonly load: TestLoad) {}

  start(): void {
    this.running = true;
  }

  update(load: TestLoad): boolean {
    if (load.kind !== this.load.kind) return false;
    this.updates.push(load);
    return true;
  }

  stop(): void {
    this.running = false;
  }

  /** Tries `count` sends now; returns how many the lifecycle accepted. */
  send(count: number): number {
    let accepted = 0;
    for (let i = 0; i < count && this.running; i++) {
      const nowMs = performance.now();
      if (!this.context.trySend(nowMs, nowMs, null)) break;
      accepted++;
    }
    return accepted;
  }
}

class FakeWorkload implements Workload<TestLoad> {
  readonly drivers: ManualDriver[] = [];
  readonly fitted: TestLoad[] = [];

  constructor(readonly sender: FakeSender) {}

  accepts(load: LoadShape): load is TestLoad {
    return load.kind !== 'llm';
  }

  fit(load: TestLoad): void {
    this.fitted.push(load);
  }

  createDriver(load: TestLoad, context: LoadContext): LoadDriver<TestLoad> {
    const driver = new ManualDriver(context, load);
    this.drivers.push(driver);
    return driver;
  }

  get driver(): ManualDriver {
    return this.drivers[this.drivers.length - 1];
  }
}

const CLOSED: ClosedLoad = { kind: 'closed', concurrency: 2, maxQps: null };
const OPEN: OpenLoad = { kind: 'open', qps: 100, maxInFlight: 10 };

function startRound(overrides: Partial<RoundSettings<TestLoad>> = {}, holdPrepare = false) {
  const messages: AgentToController[] = [];
  const logs: string[] = [];
  const sender = new FakeSender(holdPrepare);
  const workload = new FakeWorkload(sender);
  const round = new AgentLifecycle<TestLoad>(
    { load: CLOSED, requestLimit: null, timeoutMs: 5000, waitForStart: false, ...overrides },
    () => workload,
    (message) => messages.push(message),
    (_level, message) => logs.push(message),
  );
  const prepared = round.prepare();
  return { round, sender, workload, messages, logs, prepared };
}

const types = (messages: AgentToController[]): string[] => messages.filter((m) => m.type !== 'stats').map((m) => m.type);
const doneOf = (messages: AgentToController[]) => messages.filter((m) => m.type === 'done');
const flushMicrotasks = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('agent lifecycle', () => {
  test('an assignment without waitForStart reports ready and runs its load at once', async () => {
    const { round, workload, messages, prepared } = startRound();
    expect(round.state).toBe('preparing');
    await prepared;
    expect(types(messages)).toEqual(['ready']);
    expect(round.state).toBe('running');
    expect(workload.drivers).toHaveLength(1);
    expect(workload.driver.running).toBe(true);
    expect(workload.fitted).toEqual([CLOSED]);
    await round.shutdown();
  });

  test('a round that waits for start is ready and sends nothing until start, even when start comes while it prepares', async () => {
    const waiting = startRound({ waitForStart: true });
    await waiting.prepared;
    expect(waiting.round.state).toBe('ready');
    expect(waiting.workload.drivers).toHaveLength(0);
    waiting.round.start();
    expect(waiting.round.state).toBe('running');
    expect(waiting.workload.driver.send(3)).toBe(3);
    await waiting.round.shutdown();

    const early = startRound({ waitForStart: true }, true);
    early.round.start();
    expect(early.round.state).toBe('preparing');
    expect(types(early.messages)).toEqual([]);
    early.sender.finishPrepare();
    await early.prepared;
    expect(types(early.messages)).toEqual(['ready']);
    expect(early.round.state).toBe('running');
    await early.round.shutdown();
  });

  test('a load change applies in place to the running driver, a change of kind replaces it, and a load of another kind is ignored', async () => {
    const { round, workload, prepared } = startRound();
    await prepared;
    const first = workload.driver;
    round.applyLoad({ ...CLOSED, concurrency: 5 });
    expect(workload.drivers).toHaveLength(1);
    expect(first.updates).toEqual([{ ...CLOSED, concurrency: 5 }]);
    round.applyLoad(OPEN);
    expect(workload.drivers).toHaveLength(2);
    expect(first.running).toBe(false);
    expect(workload.driver.running).toBe(true);
    round.applyLoad({ kind: 'llm', testMode: 'concurrency', concurrency: 1, ratePerS: 1, burstiness: 1, seed: 0, maxInFlight: null });
    expect(workload.drivers).toHaveLength(2);
    expect(workload.fitted).toEqual([CLOSED, { ...CLOSED, concurrency: 5 }, OPEN]);
    await round.shutdown();
  });

  test('a load given before start is the one that runs', async () => {
    const { round, workload, prepared } = startRound({ waitForStart: true });
    await prepared;
    round.applyLoad(OPEN, 7);
    expect(workload.drivers).toHaveLength(0);
    round.start();
    expect(workload.driver.load).toEqual(OPEN);
    expect(workload.driver.send(10)).toBe(7);
    await round.shutdown();
  });

  test('at the request limit it stops sending, waits for what is in flight, reports done once, and resumes when the limit is raised', async () => {
    const { round, sender, workload, messages, prepared } = startRound({ requestLimit: 3 });
    await prepared;
    expect(workload.driver.send(10)).toBe(3);
    expect(round.state).toBe('finishing');
    await flushMicrotasks();
    expect(workload.driver.running).toBe(false);
    expect(doneOf(messages)).toHaveLength(0);
    sender.finish(3);
    await flushMicrotasks();
    expect(round.state).toBe('limited');
    expect(doneOf(messages)).toEqual([{ type: 'done', reason: 'limit', totalSent: 3 }]);

    round.applyLoad(CLOSED, 5);
    expect(round.state).toBe('running');
    expect(workload.driver.send(10)).toBe(2);
    sender.finish(2);
    await flushMicrotasks();
    expect(doneOf(messages)).toEqual([
      { type: 'done', reason: 'limit', totalSent: 3 },
      { type: 'done', reason: 'limit', totalSent: 5 },
    ]);
    await round.stop('test over');
    expect(doneOf(messages)).toHaveLength(3);
  });

  test('a limit lowered below what was sent ends the round at once', async () => {
    const { round, sender, workload, messages, prepared } = startRound();
    await prepared;
    workload.driver.send(4);
    round.applyLoad(CLOSED, 2);
    expect(round.state).toBe('finishing');
    sender.finish(4);
    await flushMicrotasks();
    expect(doneOf(messages)).toEqual([{ type: 'done', reason: 'limit', totalSent: 4 }]);
    await round.shutdown();
  });

  test('stop waits for the requests in flight, then reports done with the total sent', async () => {
    const { round, sender, workload, messages, prepared } = startRound();
    await prepared;
    workload.driver.send(2);
    const stopped = round.stop('by test');
    expect(round.state).toBe('stopping');
    expect(workload.driver.running).toBe(false);
    sender.finish(2);
    await stopped;
    expect(round.state).toBe('stopped');
    expect(sender.cancelled).toBe(0);
    expect(sender.closed).toBe(true);
    expect(types(messages)).toEqual(['ready', 'done']);
    expect(doneOf(messages)).toEqual([{ type: 'done', reason: 'stopped', totalSent: 2 }]);
    // a second stop is answered by nothing more
    await round.stop('again');
    expect(doneOf(messages)).toHaveLength(1);
  });

  test('stop cancels what outlives the grace (bounded by the request timeout) and logs how many', async () => {
    const { round, sender, workload, messages, logs, prepared } = startRound({ timeoutMs: 50 });
    await prepared;
    workload.driver.send(3);
    const startedMs = performance.now();
    await round.stop('by test');
    expect(performance.now() - startedMs).toBeGreaterThanOrEqual(45);
    expect(sender.cancelled).toBe(3);
    expect(logs).toContain('cancelled 3 request(s) still in flight at stop');
    expect(doneOf(messages)).toEqual([{ type: 'done', reason: 'stopped', totalSent: 3 }]);
  });

  test('stop while preparing reports done and never reports ready', async () => {
    const { round, sender, messages, prepared } = startRound({}, true);
    await round.stop('early');
    sender.finishPrepare();
    await prepared;
    expect(types(messages)).toEqual(['done']);
    expect(round.state).toBe('stopped');
  });

  test('shutdown ends the round without a word to the controller', async () => {
    const { round, sender, workload, messages, prepared } = startRound({ requestLimit: 1 });
    await prepared;
    workload.driver.send(1);
    await round.shutdown();
    sender.finish(1);
    await flushMicrotasks();
    expect(types(messages)).toEqual(['ready']);
    expect(sender.closed).toBe(true);
    expect(round.state).toBe('stopped');
  });
});
