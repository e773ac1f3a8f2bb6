import { AgentConnection } from '../../controller/fleet/hub';
import { AgentLauncher, AgentLaunchSpec, LaunchedAgent } from '../../controller/fleet/launcher';
import { AgentPool, AgentPoolOptions, MAX_REFUSED_REPLACEMENTS, PoolEvents, REPLACE_DELAY_MS } from '../../controller/fleet/pool';
import { CLOSE_AGENT_CONNECTED, CLOSE_UNAUTHORIZED, ControllerToAgent } from '../../src/contract';
import { FakeClock } from '../helpers/fake-clock';

/**
 * The agent pool of one round with an in-process launcher that starts
 * nothing: the test plays the agents' sockets and processes.
 */

const TASK_TOKEN = 'task-token';

class FakeLauncher implements AgentLauncher {
  readonly started: { spec: AgentLaunchSpec; killed: boolean }[] = [];

  constructor(readonly capacity = Number.POSITIVE_INFINITY) {}

  launch(spec: AgentLaunchSpec): LaunchedAgent {
    const entry = { spec, killed: false };
    this.started.push(entry);
    const kill = (): void => {
      entry.killed = true;
    };
    return { agentId: spec.agentId, pid: 1000 + this.started.length, kill };
  }

  async shutdown(): Promise<void> {}

  /** The process of `agentId` ends on its own. */
  exit(agentId: string, signal: NodeJS.Signals): void {
    this.spec(agentId).onExit(null, signal);
  }

  spec(agentId: string): AgentLaunchSpec {
    const entry = this.started.find((e) => e.spec.agentId === agentId);
    if (!entry) throw new Error(`${agentId} was not launched`);
    return entry.spec;
  }

  killed(agentId: string): boolean {
    return this.started.some((e) => e.spec.agentId === agentId && e.killed);
  }
}

/** One agent's socket, as the hub hands it to the pool after a hello. */
class FakeConnection implements AgentConnection {
  readonly pid = 4242;
  readonly host = 'agent-host';
  readonly address = '127.0.0.1';
  readonly sent: ControllerToAgent[] = [];
  closed?: { code?: number; reason?: string };

  constructor(readonly agentId: string) {}

  send(message: ControllerToAgent): void {
    this.sent.push(message);
  }

  close(code?: number, reason?: string): void {
    this.closed ??= { code, reason };
  }
}

interface Setup {
  pool: AgentPool;
  launcher: FakeLauncher;
  /** What the pool told the round, in order: `added agent-1`, `lost agent-2 (killed by SIGKILL)`, ... */
  heard: string[];
  setWanted(n: number): void;
  /** A socket says hello with `token` as `agentId`. */
  connect(agentId: string, token: string): FakeConnection;
}

/** `takeStats`: what the round answers to a stats frame (false: it refused it); `timing`: the pool's clock and replace delay. */
function setup(wanted: number, capacity?: number, takeStats = true, timing: Pick<AgentPoolOptions, 'clock' | 'replaceDelayMs'> = {}): Setup {
  const launcher = new FakeLauncher(capacity);
  const heard: string[] = [];
  let desired = wanted;
  const events: PoolEvents = {
    added: (seat) => heard.push(`added ${seat.agentId} #${seat.index}`),
    ready: (seat) => heard.push(`ready ${seat.agentId}`),
    stats: (seat) => heard.push(`stats ${seat.agentId}`) > 0 && takeStats,
    done: (seat) => heard.push(`done ${seat.agentId}`),
    log: (seat, _level, message) => heard.push(`log ${seat.agentId} ${message}`),
    retired: (seat, why) => heard.push(`retired ${seat.agentId} (${why})`),
    refused: (seat, reason, closed) => heard.push(`refused ${seat.agentId} (${reason})${closed ? ' closed' : ''}`),
    lost: (seat, why, replaced) => heard.push(`lost ${seat.agentId} (${why})${replaced ? '' : ' not replaced'}`),
    refilled: () => heard.push('refilled'),
    settled: () => heard.push('settled'),
    failed: (message) => heard.push(`failed ${message}`),
  };
  const pool = new AgentPool({ launcher, controllerWsUrl: 'ws://127.0.0.1:1/agents', agentToken: TASK_TOKEN, taskName: 'task', roundId: 1, wanted: () => desired, events, ...timing });
  return {
    pool,
    launcher,
    heard,
    setWanted: (n) => {
      desired = n;
    },
    connect: (agentId, token) => {
      const connection = new FakeConnection(agentId);
      pool.attach(connection, token);
      return connection;
    },
  };
}

/** Connects every launched agent with its own secret. */
function connectLaunched(s: Setup): FakeConnection[] {
  return s.launcher.started.map((e) => s.connect(e.spec.agentId, e.spec.token));
}

describe('AgentPool', () => {
  afterEach(() => jest.useRealTimers());

  test('launches the agents the round wants, each with its own secret, and seats each with that secret', () => {
    const s = setup(2);
    s.pool.reconcile();
    expect(s.launcher.started.map((e) => e.spec.agentId)).toEqual(['task-1-1', 'task-1-2']);
    const [a, b] = s.launcher.started.map((e) => e.spec.token);
    expect(a).not.toEqual(b);
    expect(s.pool.holdsSecret(a)).toBe(true);
    expect(s.pool.holdsSecret(TASK_TOKEN)).toBe(false);
    expect(s.pool.agents().map((i) => i.state)).toEqual(['launching', 'launching']);

    connectLaunched(s);
    expect(s.heard).toEqual(['added task-1-1 #0', 'added task-1-2 #1']);
    expect(s.pool.available()).toBe(2);
    expect(s.pool.agents()).toEqual([
      { id: 'task-1-1', index: 0, host: 'agent-host', address: '127.0.0.1', pid: 4242, state: 'connected' },
      { id: 'task-1-2', index: 1, host: 'agent-host', address: '127.0.0.1', pid: 4242, state: 'connected' },
    ]);
    // reconciling again launches nothing more
    s.pool.reconcile();
    expect(s.launcher.started).toHaveLength(2);
  });

  test('a lost agent is replaced after the replace delay, on its free index', () => {
    jest.useFakeTimers();
    const s = setup(2);
    s.pool.reconcile();
    connectLaunched(s);
    s.launcher.exit('task-1-1', 'SIGKILL');
    expect(s.heard.slice(-1)).toEqual(['lost task-1-1 (killed by SIGKILL)']);
    expect(s.pool.available()).toBe(1);
    jest.advanceTimersByTime(REPLACE_DELAY_MS - 1);
    expect(s.launcher.started).toHaveLength(2);
    jest.advanceTimersByTime(1);
    expect(s.launcher.started.map((e) => e.spec.agentId)).toEqual(['task-1-1', 'task-1-2', 'task-1-3']);
    expect(s.heard.slice(-1)).toEqual(['refilled']);
    s.connect('task-1-3', s.launcher.spec('task-1-3').token);
    expect(s.heard.slice(-1)).toEqual(['added task-1-3 #0']);
  });

  test('on the clock it is given, a lost agent is replaced after the replace delay it is given', () => {
    const clock = new FakeClock();
    const s = setup(1, undefined, true, { clock, replaceDelayMs: 3000 });
    s.pool.reconcile();
    connectLaunched(s);
    const lostSecond = Math.floor(clock.nowMs() / 1000);
    s.launcher.exit('task-1-1', 'SIGKILL');
    clock.advance(2999);
    expect(s.launcher.started).toHaveLength(1);
    clock.advance(1);
    expect(s.launcher.started.map((e) => e.spec.agentId)).toEqual(['task-1-1', 'task-1-2']);
    expect(s.heard.slice(-1)).toEqual(['refilled']);
    // the gap shows in the seconds it lasted, by the same clock
    s.connect('task-1-2', s.launcher.spec('task-1-2').token);
    expect([0, 1, 2, 3].map((i) => s.pool.availableDuring(lostSecond + i))).toEqual([0, 0, 0, 1]);
  });

  test(`an agent refused for breaking the protocol is lost with the reason; after ${MAX_REFUSED_REPLACEMENTS} replacements its seat stays empty`, () => {
    jest.useFakeTimers();
    const s = setup(2);
    s.pool.reconcile();
    let connection: FakeConnection | undefined = connectLaunched(s)[0];
    let refused = 0;
    while (connection) {
      s.pool.onRefused(connection, 'a frame of more than 33554432 bytes', true);
      refused++;
      s.launcher.exit(connection.agentId, 'SIGTERM');
      jest.advanceTimersByTime(REPLACE_DELAY_MS);
      // its replacement, if any, takes seat 0 with its own secret
      const next = s.pool.live().find((seat) => seat.index === 0);
      connection = next ? s.connect(next.agentId, s.launcher.spec(next.agentId).token) : undefined;
    }
    const lost = s.heard.filter((line) => line.startsWith('lost'));
    expect(lost).toHaveLength(MAX_REFUSED_REPLACEMENTS + 1);
    expect(lost[0]).toBe('lost task-1-1 (refused by the controller: a frame of more than 33554432 bytes; killed by SIGTERM)');
    expect(lost.at(-1)).toMatch(/not replaced$/);
    expect(refused).toBe(MAX_REFUSED_REPLACEMENTS + 1);
    // the other agent still serves, and nothing is launched for the empty seat
    expect(s.pool.available()).toBe(1);
    const launched = s.launcher.started.length;
    s.pool.reconcile();
    expect(s.launcher.started).toHaveLength(launched);
  });

  test('a stats frame the round refused counts nowhere, not even in the seat\'s totalSent', () => {
    const frame = { second: 1, requests: 0, sent: 0, statusCodes: {}, bytesIn: 0, bytesOut: 0, dropped: 0, inFlight: 0, rtHistogram: '', lagHistogram: '', totalSent: 2 ** 53 - 1, eventLoopLagMs: 0 };
    for (const taken of [false, true]) {
      const s = setup(1, undefined, taken);
      s.pool.reconcile();
      const [connection] = connectLaunched(s);
      s.pool.onMessage(connection, { type: 'stats', frame });
      expect(s.pool.sentByAll()).toBe(taken ? 2 ** 53 - 1 : 0);
    }
  });

  test('a refused stats frame keeps the socket: the round hears it, the agent is not lost', () => {
    const s = setup(1);
    s.pool.reconcile();
    const [connection] = connectLaunched(s);
    s.pool.onRefused(connection, 'stats: frame.statusCodes add up to 2 but frame.requests is 1', false);
    expect(s.heard.slice(-1)).toEqual(['refused task-1-1 (stats: frame.statusCodes add up to 2 but frame.requests is 1)']);
    expect(connection.closed).toBeUndefined();
    expect(s.pool.available()).toBe(1);
  });

  test('shrinking retires the highest index, which leaves once it said done', () => {
    const s = setup(3);
    s.pool.reconcile();
    const connections = connectLaunched(s);
    s.setWanted(2);
    s.pool.reconcile();
    expect(s.heard.slice(-1)).toEqual(['retired task-1-3 (the mode needs fewer agents)']);
    expect(connections[2].sent).toEqual([{ type: 'stop', reason: 'the mode needs fewer agents' }]);
    expect(s.pool.available()).toBe(2);
    expect(s.pool.live().map((seat) => seat.index)).toEqual([0, 1]);

    s.pool.onMessage(connections[2], { type: 'done', reason: 'stopped', totalSent: 7 });
    expect(s.launcher.killed('task-1-3')).toBe(true);
    expect(connections[2].closed).toEqual({ code: 1000, reason: 'retired' });
    expect(s.pool.sentByGone()).toBe(7);
    expect(s.pool.agents().map((i) => i.id)).toEqual(['task-1-1', 'task-1-2']);
  });

  test('the task token takes a free seat, and only while one is free', () => {
    // a launcher that can start nothing: every seat waits for an agent started by hand
    const s = setup(2, 0);
    s.pool.reconcile();
    expect(s.launcher.started).toHaveLength(0);
    s.connect('remote-a', TASK_TOKEN);
    s.connect('remote-b', TASK_TOKEN);
    expect(s.heard).toEqual(['added remote-a #0', 'added remote-b #1']);
    const third = s.connect('remote-c', TASK_TOKEN);
    expect(third.closed).toEqual({ code: 1000, reason: 'no agent needed' });
    expect(s.pool.available()).toBe(2);
  });

  test('an id already connected is refused with 4409 and the seated agent stays; a launched seat takes only its own secret', () => {
    const s = setup(1);
    s.pool.reconcile();
    const { agentId, token } = s.launcher.spec('task-1-1');
    expect(s.connect(agentId, TASK_TOKEN).closed?.code).toBe(CLOSE_UNAUTHORIZED);
    const seated = s.connect(agentId, token);
    const again = s.connect(agentId, token);
    expect(again.closed?.code).toBe(CLOSE_AGENT_CONNECTED);
    expect(seated.closed).toBeUndefined();
    // the refused socket does not speak for the seat, and its close leaves the seat alone
    s.pool.onMessage(again, { type: 'ready' });
    s.pool.onClose(again);
    expect(s.heard).toEqual([`added ${agentId} #0`]);
    s.pool.onMessage(seated, { type: 'ready' });
    expect(s.pool.readyCount()).toBe(1);
  });

  test('after stop, settled follows the last done, and no seat is offered again', () => {
    const s = setup(2);
    s.pool.reconcile();
    const [a, b] = connectLaunched(s);
    s.pool.stop('user stop');
    expect(a.sent).toEqual([{ type: 'stop', reason: 'user stop' }]);
    s.pool.onMessage(a, { type: 'done', reason: 'stopped', totalSent: 3 });
    expect(s.heard).not.toContain('settled');
    s.pool.onMessage(b, { type: 'done', reason: 'stopped', totalSent: 4 });
    expect(s.heard.slice(-2)).toEqual(['settled', 'done task-1-2']);
    expect(s.pool.sentByAll()).toBe(7);
    expect(s.connect('remote', TASK_TOKEN).closed).toEqual({ code: 1000, reason: 'no agent needed' });
    s.pool.shutdown();
    expect(s.launcher.killed('task-1-1') && s.launcher.killed('task-1-2')).toBe(true);
  });

  test('a second shows the fewest agents it had, even for a gap shorter than a second', () => {
    jest.useFakeTimers({ now: 10_000 });
    const s = setup(2);
    s.pool.reconcile();
    const [a] = connectLaunched(s);
    jest.setSystemTime(11_200);
    s.pool.onClose(a);
    jest.setSystemTime(11_400);
    s.launcher.exit('task-1-1', 'SIGTERM');
    jest.advanceTimersByTime(REPLACE_DELAY_MS);
    s.connect('task-1-3', s.launcher.spec('task-1-3').token);
    jest.setSystemTime(13_000);
    expect(s.pool.availableDuring(10)).toBe(2);
    expect(s.pool.availableDuring(11)).toBe(1);
    expect(s.pool.availableDuring(12)).toBe(2);
  });
});

describe('AgentPool with a launcher whose engine names the agents (a Job\'s pods) and gives them one secret', () => {
  test('an agent takes only the seat bound to its name, with the shared secret; the round is released at shutdown', () => {
    const podOfSeat = new Map<string, string>();
    const released: string[] = [];
    const launcher: AgentLauncher = {
      capacity: Number.POSITIVE_INFINITY,
      launch: (spec) => ({ agentId: spec.agentId, sharedSecret: 'round-secret', answersTo: (name) => podOfSeat.get(spec.agentId) === name, kill: () => undefined }),
      shutdown: () => Promise.resolve(),
      release: (round) => released.push(`${round.taskName}/${round.roundId}`),
    };
    const heard: string[] = [];
    const note = (what: string) => (seat: { agentId: string }) => heard.push(`${what} ${seat.agentId}`);
    const events: PoolEvents = {
      added: note('added'),
      ready: note('ready'),
      stats: (seat) => note('stats')(seat) > 0,
      done: note('done'),
      log: note('log'),
      retired: note('retired'),
      refused: note('refused'),
      lost: note('lost'),
      refilled: () => heard.push('refilled'),
      settled: () => heard.push('settled'),
      failed: (message) => heard.push(`failed ${message}`),
    };
    const pool = new AgentPool({ launcher, controllerWsUrl: 'ws://127.0.0.1:1/agents', agentToken: TASK_TOKEN, taskName: 'task', roundId: 1, wanted: () => 2, events });
    pool.reconcile();
    podOfSeat.set('task-1-1', 'job-abcde');
    expect(pool.holdsSecret('round-secret')).toBe(true);

    // a pod bound to no seat is refused, though it holds the round's secret
    const stranger = new FakeConnection('job-zzzzz');
    pool.attach(stranger, 'round-secret');
    expect(stranger.closed).toEqual({ code: CLOSE_UNAUTHORIZED, reason: 'wrong secret for this agent id' });
    // the bound pod with a wrong secret is refused too
    const forged = new FakeConnection('job-abcde');
    pool.attach(forged, TASK_TOKEN);
    expect(forged.closed).toEqual({ code: CLOSE_UNAUTHORIZED, reason: 'wrong secret for this agent id' });

    const pod = new FakeConnection('job-abcde');
    pool.attach(pod, 'round-secret');
    expect(pod.closed).toBeUndefined();
    pool.onMessage(pod, { type: 'ready' });
    expect(heard).toEqual(['added task-1-1', 'ready task-1-1']);
    expect(pool.agents().map((a) => [a.id, a.state])).toEqual([
      ['task-1-1', 'ready'],
      ['task-1-2', 'launching'],
    ]);
    const twice = new FakeConnection('job-abcde');
    pool.attach(twice, 'round-secret');
    expect(twice.closed).toEqual({ code: CLOSE_AGENT_CONNECTED, reason: 'agent id already connected' });

    pool.shutdown();
    expect(pod.closed).toEqual({ code: 1000, reason: 'round finished' });
    expect(released).toEqual(['task/1']);
  });
});
