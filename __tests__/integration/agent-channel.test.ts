import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import fc from 'fast-check';
import { WebSocket } from 'ws';
import { Controller, createController } from '../../controller/app';
import { AgentLauncher, AgentLaunchSpec, LaunchedAgent, LocalAgentLauncher } from '../../controller/fleet/launcher';
import { PRE_HELLO_MAX_BYTES } from '../../controller/fleet/hub';
import { startTargetService, TargetService } from '../../fixtures/target-service';
import { ControllerClient } from '../../src/api/client';
import { PageServer } from '../../src/statsview/server';
import { BROWSER_WS_PATH } from '../../src/statsview/protocol';
import {
  AGENT_TOKEN_ENV,
  AGENT_WS_PATH,
  AgentToController,
  API_PREFIX,
  CLOSE_AGENT_CONNECTED,
  CLOSE_PROTOCOL,
  CLOSE_UNAUTHORIZED,
  PROTOCOL_VERSION,
  signPoolHello,
  TaskDetail,
} from '../../src/contract';
import { signedFetch, signedHeaders } from '../helpers/api';
import { validAgentMessages } from '../helpers/agent-frames';
import { BIN, tempDir, waitFor } from '../helpers/processes';

/**
 * The agents' websocket and the other websocket upgrades against the real
 * controller, started in this process: whatever arrives on a socket closes
 * that socket at worst, and the controller keeps answering.
 */

const REGION = 'cn-local';

/** Records every launch and starts nothing: the test plays the launched agents, with their secrets. */
class SeatLauncher implements AgentLauncher {
  readonly capacity = Number.POSITIVE_INFINITY;
  private readonly specs: AgentLaunchSpec[] = [];
  private readonly used = new Set<string>();

  launch(spec: AgentLaunchSpec): LaunchedAgent {
    this.specs.push(spec);
    let exited = false;
    return {
      agentId: spec.agentId,
      kill: () => {
        if (exited) return;
        exited = true;
        this.used.add(spec.agentId);
        setImmediate(() => spec.onExit(null, 'SIGTERM'));
      },
    };
  }

  get launched(): number {
    return this.specs.length;
  }

  async shutdown(): Promise<void> {}

  /** A launched seat that no socket of the test has taken yet (of task `taskName` when given). */
  take(taskName?: string): AgentLaunchSpec | undefined {
    const spec = this.specs.find((s) => !this.used.has(s.agentId) && (taskName === undefined || s.taskName === taskName));
    if (spec) this.used.add(spec.agentId);
    return spec;
  }
}

interface Env {
  controller: Controller;
  wsUrl: string;
  logs: string[];
  api(method: string, pathWithQuery: string, body?: string): Promise<{ status: number; json: Record<string, unknown> }>;
  createTask(spec: Record<string, unknown>): Promise<string>;
  detail(name: string): Promise<TaskDetail>;
  agentToken(name: string): string;
  /** The controller still answers: /healthz, the task list, and this task's detail. */
  assertAlive(name?: string): Promise<void>;
  close(): Promise<void>;
}

async function startEnv(launcher: AgentLauncher, agentConnectTimeoutS: number): Promise<Env> {
  const dataDir = tempDir('agent-channel');
  const logs: string[] = [];
  const controller = await createController(
    { host: '127.0.0.1', port: 0, dataDir, agentCommand: [process.execPath, BIN.agent], agentConnectTimeoutS },
    { launcher, log: (line) => logs.push(line) },
  );
  const [accessId, secret] = [...controller.credentials.keys][0];
  const api: Env['api'] = (method, pathWithQuery, body) => signedFetch(controller.url, accessId, secret, method, pathWithQuery, body);
  return {
    controller,
    wsUrl: `${controller.url.replace(/^http/, 'ws')}${AGENT_WS_PATH}`,
    logs,
    api,
    async createTask(spec) {
      const res = await api('POST', API_PREFIX, JSON.stringify(spec));
      expect(res.status).toBe(200);
      return res.json.TaskName as string;
    },
    async detail(name) {
      return (await api('GET', `${API_PREFIX}/${REGION}/${name}`)).json as unknown as TaskDetail;
    },
    agentToken: (name) => (JSON.parse(fs.readFileSync(path.join(dataDir, 'tasks', name, 'task.json'), 'utf8')) as { agentToken: string }).agentToken,
    async assertAlive(name) {
      expect((await fetch(`${controller.url}/healthz`)).status).toBe(200);
      expect((await api('GET', API_PREFIX)).status).toBe(200);
      if (name) expect((await api('GET', `${API_PREFIX}/${REGION}/${name}`)).status).toBe(200);
    },
    async close() {
      await controller.close();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** A client socket on the agents' endpoint: what it received, and how it closed. */
class Probe {
  readonly messages: { type: string }[] = [];
  /** The agent id its hello gave. */
  agentId = '';
  readonly closed: Promise<{ code: number; reason: string }>;
  readonly opened: Promise<void>;
  private readonly ws: WebSocket;

  constructor(url: string) {
    this.ws = new WebSocket(url);
    this.ws.on('error', () => undefined);
    this.ws.on('message', (data) => this.messages.push(JSON.parse(data.toString()) as { type: string }));
    this.opened = new Promise((resolve, reject) => {
      this.ws.once('open', () => resolve());
      this.ws.once('close', () => reject(new Error('closed before open')));
    });
    this.closed = new Promise((resolve) => this.ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  }

  static async open(url: string): Promise<Probe> {
    const probe = new Probe(url);
    await probe.opened;
    return probe;
  }

  send(data: string | Uint8Array, binary = typeof data !== 'string'): void {
    if (this.ws.readyState === WebSocket.OPEN) this.ws.send(data, { binary });
  }

  hello(agentId: string, token: string): void {
    this.send(JSON.stringify({ type: 'hello', agentId, token, pid: process.pid, host: 'test', version: PROTOCOL_VERSION }));
  }

  /** Resolves once a message of `type` came (the hello was taken: `assign`). */
  async received(type: string, timeoutMs = 5000): Promise<void> {
    await waitFor(`a ${type} message`, () => (this.messages.some((m) => m.type === type) ? true : undefined), timeoutMs, 20);
  }

  /** Its close, or a close from our side after `timeoutMs` when the controller keeps it open. */
  async end(timeoutMs = 3000): Promise<{ code: number; reason: string; byUs: boolean }> {
    let byUs = false;
    const timer = setTimeout(() => {
      byUs = true;
      this.ws.close(1000, 'test done');
      setTimeout(() => this.ws.terminate(), 1000).unref();
    }, timeoutMs);
    const result = await this.closed;
    clearTimeout(timer);
    return { ...result, byUs };
  }
}

/** The status a websocket upgrade request gets (101 when it is taken). */
function upgradeStatus(baseUrl: string, pathWithQuery: string, headers: Record<string, string> = {}): Promise<number> {
  const url = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const req = http.request({
      host: url.hostname,
      port: url.port,
      path: pathWithQuery,
      headers: { Connection: 'Upgrade', Upgrade: 'websocket', 'Sec-WebSocket-Version': '13', 'Sec-WebSocket-Key': randomBytes(16).toString('base64'), ...headers },
    });
    req.on('upgrade', (res, socket) => {
      socket.destroy();
      resolve(res.statusCode ?? 0);
    });
    req.on('response', (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end();
  });
}

/** The seed of the random frames: a failure replays with it (FRAMES_SEED=...). */
const FRAMES_SEED = Number(process.env.FRAMES_SEED ?? 20261207);

const seatTask = (fixture: TargetService, agentCount: number): Record<string, unknown> => ({
  service: { serviceName: 'demo', url: `${fixture.url}/x` },
  optional: { mode: 'manual', agentCount, concurrency: 1, duration: 600 },
});

describe('the agents websocket with the test playing the agents', () => {
  let fixture: TargetService;
  let env: Env;
  let seats: SeatLauncher;
  let name: string;
  let taskToken: string;

  beforeAll(async () => {
    fixture = await startTargetService();
    seats = new SeatLauncher();
    // a long connect timeout: the round waits for its agents for the whole test
    env = await startEnv(seats, 600);
    name = await env.createTask(seatTask(fixture, 16));
    // the round waits in Creating for its agents, which the tests play
    await waitFor('the seats launched', () => (seats.launched >= 16 ? true : undefined));
    taskToken = env.agentToken(name);
  });
  afterAll(async () => {
    await env?.api('PUT', `${API_PREFIX}/${REGION}/${name}/stop`);
    await env?.close();
    await fixture?.close();
  });

  /** A socket seated in a launched slot: hello with the slot's secret, assignment received. */
  async function seated(): Promise<Probe> {
    const spec = await waitFor('a free seat', () => seats.take(), 10000, 50);
    const probe = await Probe.open(env.wsUrl);
    probe.hello(spec.agentId, spec.token);
    probe.agentId = spec.agentId;
    await probe.received('assign');
    return probe;
  }

  /** Resolves with the task's event that contains `text`. */
  async function eventSaying(text: string): Promise<string> {
    return waitFor(`an event saying ${text}`, async () => (await env.detail(name)).Events?.map((e) => e.Message).find((m) => m.includes(text)), 5000, 50);
  }

  test.each([
    ['null', 'null', CLOSE_PROTOCOL],
    ['a hello without token', JSON.stringify({ type: 'hello', agentId: 'x', pid: 1, host: 'h', version: PROTOCOL_VERSION }), CLOSE_PROTOCOL],
    ['a stats frame before hello', JSON.stringify({ type: 'stats' }), CLOSE_PROTOCOL],
    ['an array', '[1,2,3]', CLOSE_PROTOCOL],
    ['an object whose type has its own toString', '{"type":{"toString":1}}', CLOSE_PROTOCOL],
    ['a hello with an unknown token', JSON.stringify({ type: 'hello', agentId: 'x', token: 'nope', pid: 1, host: 'h', version: PROTOCOL_VERSION }), CLOSE_UNAUTHORIZED],
    ['a malformed pool hello', JSON.stringify({ type: 'pool-hello', agentId: 'x' }), CLOSE_PROTOCOL],
    ['a pool hello to a controller that keeps no pool', JSON.stringify(signPoolHello({ id: 'k', secret: 's' }, { agentId: 'x', host: 'h', pid: 1, version: PROTOCOL_VERSION })), CLOSE_UNAUTHORIZED],
  ])('before hello, %s closes that socket (%s) and the controller answers', async (_what, frame, code) => {
    const probe = await Probe.open(env.wsUrl);
    probe.send(frame);
    expect((await probe.end()).code).toBe(code);
    await env.assertAlive(name);
  });

  test('a binary frame, before or after hello, closes that socket with 4400', async () => {
    const before = await Probe.open(env.wsUrl);
    before.send(new Uint8Array([0x7b, 0x7d]));
    expect(await before.end()).toMatchObject({ code: CLOSE_PROTOCOL, reason: 'binary frame' });
    const after = await seated();
    after.send(Buffer.from(JSON.stringify({ type: 'ready' })));
    expect(await after.end()).toMatchObject({ code: CLOSE_PROTOCOL, reason: 'binary frame' });
    await env.assertAlive(name);
  });

  test('after hello, a stats frame that fails its checks is refused with an event naming the agent and the field, and the socket stays; other malformed frames close it (4400) with an event', async () => {
    const probe = await seated();
    const [, ready, stats, , log] = validAgentMessages({ agentId: 'unused', token: 'unused' });
    for (const message of [ready, stats, log]) probe.send(JSON.stringify(message));
    probe.send(JSON.stringify({ type: 'stats' }));
    probe.send('{"type":"stats","frame":{"second":1}}');
    probe.send(JSON.stringify({ type: 'log', level: 'info', message: 'still here' }));
    expect(await probe.end(1500)).toMatchObject({ byUs: true });
    await eventSaying(`(${probe.agentId}): frame refused (its second is lost, the agent's others count): stats: frame must be an object`);
    await eventSaying(`(${probe.agentId}): frame refused (its second is lost, the agent's others count): stats: frame.requests must be a count`);
    for (const [frame, reason] of [
      ['null', 'not an object'],
      [JSON.stringify({ type: 'hello', agentId: 'a', token: taskToken, pid: 1, host: 'h', version: 1 }), 'hello already said'],
    ]) {
      const again = await seated();
      again.send(frame);
      expect(await again.end()).toMatchObject({ code: CLOSE_PROTOCOL, reason });
      await eventSaying(`(${again.agentId}): refused: ${reason}; socket closed`);
    }
    await env.assertAlive(name);
  });

  test(`before hello at most ${PRE_HELLO_MAX_BYTES} bytes are taken; after hello a frame of megabytes is`, async () => {
    const probe = await Probe.open(env.wsUrl);
    probe.send(JSON.stringify({ type: 'log', level: 'info', message: 'x'.repeat(100 * 1024) }));
    expect(await probe.end()).toMatchObject({ code: 1009, reason: `more than ${PRE_HELLO_MAX_BYTES} bytes before hello`, byUs: false });
    await env.assertAlive(name);

    const agent = await seated();
    const [, , stats] = validAgentMessages({ agentId: 'unused', token: 'unused' }) as Extract<AgentToController, { type: 'stats' }>[];
    const itlMs = Array.from({ length: 1000 }, (_, i) => 10 + i / 1000);
    const records = Array.from({ length: 400 }, (_, seq) => ({ ...stats.frame.llmRecords?.[0], seq, itlMs }));
    const big = JSON.stringify({ type: 'stats', frame: { ...stats.frame, llmRecords: records } });
    expect(big.length).toBeGreaterThan(2 * 1024 * 1024);
    agent.send(big);
    agent.send(JSON.stringify({ type: 'log', level: 'info', message: 'still here' }));
    expect(await agent.end(1500)).toMatchObject({ byUs: true });
    await env.assertAlive(name);
  });

  test('an agent id that is connected cannot be taken: 4409, and the seated socket keeps its seat', async () => {
    const spec = await waitFor('a free seat', () => seats.take(), 10000, 50);
    const holder = await Probe.open(env.wsUrl);
    holder.hello(spec.agentId, spec.token);
    await holder.received('assign');
    for (const token of [spec.token, taskToken]) {
      const thief = await Probe.open(env.wsUrl);
      thief.hello(spec.agentId, token);
      expect(await thief.end()).toMatchObject({ code: CLOSE_AGENT_CONNECTED, reason: 'agent id already connected' });
      expect(thief.messages).toEqual([]);
    }
    // still seated: its frames are taken and its socket stays open until it leaves
    holder.send(JSON.stringify({ type: 'ready' }));
    expect(await holder.end(500)).toMatchObject({ byUs: true });
  });

  test('a launched slot answers only its own secret; a slot secret takes no free seat', async () => {
    const spec = await waitFor('a free seat', () => seats.take(), 10000, 50);
    const withTaskToken = await Probe.open(env.wsUrl);
    withTaskToken.hello(spec.agentId, taskToken);
    expect(await withTaskToken.end()).toMatchObject({ code: CLOSE_UNAUTHORIZED });
    const elsewhere = await Probe.open(env.wsUrl);
    elsewhere.hello('hand-started-1', spec.token);
    expect(await elsewhere.end()).toMatchObject({ code: CLOSE_UNAUTHORIZED });
    await env.assertAlive(name);
  });

  test('upgrades: a bad percent escape in the stream path is a 404; another site Origin is a 403 on every websocket', async () => {
    const base = env.controller.url;
    const [accessId, secret] = [...env.controller.credentials.keys][0];
    // signed, so the upgrade gets as far as decoding the task name
    const signedFor = (pathWithQuery: string): Record<string, string> => signedHeaders(accessId, secret, 'GET', pathWithQuery);
    for (const bad of [`${API_PREFIX}/${REGION}/%E0%A4%A/stats/stream`, `${API_PREFIX}/${REGION}/%/stats/stream`]) {
      expect(await upgradeStatus(base, bad, signedFor(bad))).toBe(404);
      expect(await upgradeStatus(base, bad)).toBe(404);
      await env.assertAlive(name);
    }

    const host = new URL(base).host;
    expect(await upgradeStatus(base, AGENT_WS_PATH, { Origin: 'http://evil.example' })).toBe(403);
    expect(await upgradeStatus(base, AGENT_WS_PATH, { Origin: 'null' })).toBe(403);
    expect(await upgradeStatus(base, AGENT_WS_PATH, { Origin: `http://${host}` })).toBe(101);
    expect(await upgradeStatus(base, AGENT_WS_PATH)).toBe(101);

    const stream = () => new ControllerClient({ endpoint: base, accessId, accessKey: secret }).statsStreamRequest(REGION, name);
    const pathOf = (url: string): string => new URL(url).pathname;
    const signed = stream();
    expect(await upgradeStatus(base, pathOf(signed.url), { ...signed.headers, Origin: 'http://evil.example' })).toBe(403);
    const own = stream();
    expect(await upgradeStatus(base, pathOf(own.url), { ...own.headers, Origin: `http://${host}` })).toBe(101);
    const plain = stream();
    expect(await upgradeStatus(base, pathOf(plain.url), plain.headers)).toBe(101);
    await env.assertAlive(name);
  });

  describe('under random frames', () => {
    const TOKEN = '__TOKEN__';
    const AGENT = '__AGENT__';
    const valid = validAgentMessages({ agentId: AGENT, token: TOKEN });

    /** Every path into a message, so a mutation can land anywhere in it. */
    const pathsOf = (value: unknown, prefix: (string | number)[] = []): (string | number)[][] => {
      if (typeof value !== 'object' || value === null) return [prefix];
      const keys: (string | number)[] = Array.isArray(value) ? value.map((_, i) => i) : Object.keys(value);
      return [prefix, ...keys.flatMap((k) => pathsOf((value as Record<string | number, unknown>)[k], [...prefix, k]))];
    };
    const mutate = (message: AgentToController, at: (string | number)[], value: unknown, remove: boolean): unknown => {
      if (at.length === 0) return value;
      const copy = JSON.parse(JSON.stringify(message)) as Record<string | number, unknown>;
      let target = copy;
      for (const key of at.slice(0, -1)) target = target[key] as Record<string | number, unknown>;
      const last = at[at.length - 1];
      if (remove) delete target[last];
      else target[last] = value;
      return copy;
    };

    type Frame = { text: string } | { bytes: Uint8Array; binary: boolean };
    const frame: fc.Arbitrary<Frame> = fc.oneof(
      { weight: 3, arbitrary: fc.jsonValue({ maxDepth: 4 }).map((v) => ({ text: JSON.stringify(v) ?? 'null' })) },
      { weight: 1, arbitrary: fc.string({ maxLength: 200 }).map((text) => ({ text })) },
      { weight: 1, arbitrary: fc.tuple(fc.uint8Array({ maxLength: 300 }), fc.boolean()).map(([bytes, binary]) => ({ bytes, binary })) },
      { weight: 2, arbitrary: fc.constantFrom(...valid).map((m) => ({ text: JSON.stringify(m) })) },
      {
        weight: 6,
        arbitrary: fc
          .tuple(fc.constantFrom(...valid), fc.nat(), fc.oneof(fc.jsonValue({ maxDepth: 2 }), fc.double(), fc.integer(), fc.constant(-1), fc.constant(1e300), fc.string()), fc.boolean())
          .map(([message, pick, value, remove]) => {
            const paths = pathsOf(message);
            return { text: JSON.stringify(mutate(message, paths[pick % paths.length], value, remove)) ?? 'null' };
          }),
      },
    );
    const batch = fc.record({
      before: fc.array(fc.array(frame, { minLength: 1, maxLength: 30 }), { minLength: 1, maxLength: 3 }),
      after: fc.array(fc.array(frame, { minLength: 1, maxLength: 30 }), { minLength: 1, maxLength: 3 }),
    });

    test('thousands of random and mutated frames, before and after hello, never stop the controller', async () => {
      let thrown = 0;
      // a round leaves a refused agent's seat empty once MAX_REFUSED_REPLACEMENTS were replaced: a fresh task's round has fresh seats
      let fuzzTask = name;
      const freeSeat = async (): Promise<AgentLaunchSpec> => {
        const spec = seats.take(fuzzTask) ?? (await waitFor('a free seat', () => seats.take(fuzzTask), 1500, 50).catch(() => undefined));
        if (spec) return spec;
        if (fuzzTask !== name) await env.api('PUT', `${API_PREFIX}/${REGION}/${fuzzTask}/stop`);
        fuzzTask = await env.createTask(seatTask(fixture, 16));
        return waitFor('a free seat of a fresh task', () => seats.take(fuzzTask), 10000, 50);
      };
      const send = (probe: Probe, frames: Frame[], spec?: AgentLaunchSpec): void => {
        const token = spec?.token ?? taskToken;
        for (const f of frames) {
          if ('text' in f) probe.send(f.text.split(TOKEN).join(token).split(AGENT).join(spec?.agentId ?? `fuzz-${thrown}`));
          else probe.send(f.bytes, f.binary);
          thrown++;
        }
      };
      await fc.assert(
        fc.asyncProperty(batch, async ({ before, after }) => {
          const probes: Promise<unknown>[] = [];
          for (const frames of before) {
            const probe = await Probe.open(env.wsUrl);
            send(probe, frames);
            probes.push(probe.end(300));
          }
          for (const frames of after) {
            const spec = await freeSeat();
            const probe = await Probe.open(env.wsUrl);
            probe.hello(spec.agentId, spec.token);
            await probe.received('assign');
            send(probe, frames, spec);
            probes.push(probe.end(300));
          }
          await Promise.all(probes);
          await env.assertAlive(name);
        }),
        // a fixed seed, so CI replays the same frames (FRAMES_SEED=... explores others); a run that hangs fails with its seed and inputs
        { numRuns: 100, seed: FRAMES_SEED, timeout: 30_000, endOnFailure: true },
      );
      expect(thrown).toBeGreaterThan(2000);
      // nothing the frames said made the round throw either (the hub would have closed with 1011 and logged it)
      expect(env.logs.filter((line) => line.includes('socket closed'))).toEqual([]);
    }, 180_000);
  });
});

describe('a locally launched agent', () => {
  let fixture: TargetService;
  let env: Env;
  const launched: { spec: AgentLaunchSpec; agent: LaunchedAgent }[] = [];

  beforeAll(async () => {
    fixture = await startTargetService();
    const local = new LocalAgentLauncher([process.execPath, BIN.agent]);
    env = await startEnv(
      {
        capacity: local.capacity,
        launch: (spec) => {
          const agent = local.launch(spec);
          launched.push({ spec, agent });
          return agent;
        },
        shutdown: () => local.shutdown(),
      },
      30,
    );
  });
  afterAll(async () => {
    await env?.close();
    await fixture?.close();
  });

  test('gets its own secret by environment, none on its command line; a second hello with its id is refused (4409) and it keeps its seat', async () => {
    const name = await env.createTask(seatTask(fixture, 1));
    await waitFor('the agent connected', async () => ((await env.detail(name)).AvailableAgent === 1 ? true : undefined));
    const [{ spec, agent }] = launched;
    const taskToken = env.agentToken(name);
    expect(spec.token).not.toBe(taskToken);
    const cmdline = fs.readFileSync(`/proc/${agent.pid}/cmdline`, 'utf8').split('\0');
    expect(cmdline).toContain(spec.agentId);
    for (const secret of [spec.token, taskToken]) expect(cmdline.filter((arg) => arg.includes(secret))).toEqual([]);
    expect(cmdline).not.toContain('--token');
    expect(fs.readFileSync(`/proc/${agent.pid}/environ`, 'utf8').split('\0')).toContain(`${AGENT_TOKEN_ENV}=${spec.token}`);

    const wsUrl = env.wsUrl;
    for (const token of [taskToken, spec.token]) {
      const thief = await Probe.open(wsUrl);
      thief.hello(spec.agentId, token);
      expect(await thief.end()).toMatchObject({ code: CLOSE_AGENT_CONNECTED, byUs: false });
      expect(thief.messages).toEqual([]);
    }
    const sentBefore = (fixture.stats()).requests;
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const detail = await env.detail(name);
    expect(detail.AvailableAgent).toBe(1);
    expect(detail.Events.filter((e) => e.Kind === 'agent-lost')).toEqual([]);
    expect(launched).toHaveLength(1);
    expect(() => process.kill(agent.pid ?? 0, 0)).not.toThrow();
    expect(fixture.stats().requests).toBeGreaterThan(sentBefore);
    expect((await env.api('PUT', `${API_PREFIX}/${REGION}/${name}/stop`)).status).toBe(200);
    await waitFor('stopped', async () => ((await env.detail(name)).Status === 'Stopped' ? true : undefined));
  }, 60_000);
});

describe('the statsview page server', () => {
  test('takes the page websocket from its own page or a client without Origin, and answers 403 to any other site', async () => {
    const server = new PageServer({ greeting: () => [{ Type: 'link', State: 'connected' }] });
    const pageUrl = await server.listen();
    try {
      const { origin, host } = new URL(pageUrl);
      expect(await upgradeStatus(origin, BROWSER_WS_PATH, { Origin: 'http://evil.example' })).toBe(403);
      expect(await upgradeStatus(origin, BROWSER_WS_PATH, { Origin: `http://evil.example:${new URL(pageUrl).port}` })).toBe(403);
      expect(await upgradeStatus(origin, BROWSER_WS_PATH, { Origin: origin })).toBe(101);
      expect(await upgradeStatus(origin, BROWSER_WS_PATH, {})).toBe(101);
      // the page itself gets its greeting
      const ws = new WebSocket(`ws://${host}${BROWSER_WS_PATH}`, { origin });
      const first = await new Promise<string>((resolve, reject) => {
        ws.once('message', (data) => resolve(data.toString()));
        ws.once('error', reject);
      });
      expect(JSON.parse(first)).toEqual({ Type: 'link', State: 'connected' });
      ws.terminate();
    } finally {
      await server.close();
    }
  });
});
