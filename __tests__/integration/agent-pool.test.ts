import * as fs from 'node:fs';
import * as path from 'node:path';
import type { AddressInfo } from 'node:net';
import { WebSocket, WebSocketServer } from 'ws';
import { AGENT_WS_PATH, AGENTS_API_PATH, CLOSE_UNAUTHORIZED, ListAgentsResponse, PROTOCOL_VERSION, signPoolHello, TaskDetail } from '../../src/contract';
import { createTask, deleteAllTasks, InProcessController, startInProcessController, waitForStatus } from '../helpers/controller';
import { PoolAgentProcess, startPoolAgent, stopAllPoolAgents, writePoolKey } from '../helpers/pool-agents';
import { FixtureProcess, lastJson, runEascmd, startFixture, tempDir, waitFor } from '../helpers/processes';
import { detailView } from '../../controller/api/views';
import { PRE_HELLO_MAX_BYTES } from '../../controller/fleet/hub';

/**
 * `--agent-launcher pool` with real `eascmd-agent --pool-credentials`
 * processes on this host: who may join, how seats are handed out, taken back
 * and handed out again, and what survives a controller restart.
 */

jest.setTimeout(120_000);

describe('the agent pool', () => {
  let controller: InProcessController;
  let fixture: FixtureProcess;
  let dir: string;
  let keyFile: string;
  let configFile: string;
  const agents: PoolAgentProcess[] = [];

  const wsUrl = (): string => `${controller.url.replace(/^http/, 'ws')}${AGENT_WS_PATH}`;
  const join = async (agentId: string): Promise<PoolAgentProcess> => {
    const agent = startPoolAgent({ controllerWsUrl: wsUrl(), keyFile, agentId });
    agents.push(agent);
    await agent.joined();
    return agent;
  };
  const listAgents = async (): Promise<ListAgentsResponse> => (await controller.call('GET', AGENTS_API_PATH)).json as unknown as ListAgentsResponse;
  const detail = (name: string): TaskDetail => detailView(controller.controller.manager, name);
  const writeConfig = (): void => {
    fs.writeFileSync(configFile, `[default]\naccess_id = ${controller.accessId}\naccess_key = ${controller.secret}\nendpoint = ${controller.url}\nregion = cn-local\n`, { mode: 0o600 });
  };
  const task = (optional: Record<string, unknown>): unknown => ({
    service: { serviceName: 'demo', url: `${fixture.url}/api/predict/demo` },
    data: { content: 'aGVsbG8K' },
    optional: { mode: 'manual', concurrency: 2, ...optional },
  });

  beforeAll(async () => {
    dir = tempDir('pool');
    configFile = path.join(dir, 'eascmd.ini');
    fixture = await startFixture(['--latency-ms', '2']);
    controller = await startInProcessController({ agentLauncher: 'pool', poolHeartbeatS: 1, dataDir: path.join(dir, 'controller') });
    keyFile = writePoolKey(dir, controller.accessId, controller.secret);
    writeConfig();
  });
  afterAll(async () => {
    await stopAllPoolAgents();
    await controller?.close();
    await fixture?.stop();
  });

  test('a hello signed with a wrong secret is refused, and so is a replayed one; the agent says why and exits 1', async () => {
    const badKey = writePoolKey(dir, controller.accessId, 'not-the-secret', 'bad-key.json');
    const bad = startPoolAgent({ controllerWsUrl: wsUrl(), keyFile: badKey, agentId: 'intruder' });
    expect(await bad.exited()).toBe(1);
    expect(bad.output()).toContain(`refused by the controller (${CLOSE_UNAUTHORIZED} bad pool signature)`);

    // a good hello said twice: the second socket presents a nonce already spent
    const hello = signPoolHello({ id: controller.accessId, secret: controller.secret }, { agentId: 'replayer', host: 'h', pid: 1, version: PROTOCOL_VERSION });
    const say = (): Promise<{ code: number; reason: string; first: string }> => new Promise((resolve, reject) => {
      const ws = new WebSocket(wsUrl());
      let first = '';
      ws.on('open', () => ws.send(JSON.stringify(hello)));
      ws.on('message', (data) => {
        first ||= data.toString();
        ws.close();
      });
      ws.on('close', (code, reason) => resolve({ code, reason: reason.toString(), first }));
      ws.on('error', reject);
    });
    expect((await say()).first).toBe(JSON.stringify({ type: 'welcome', agentId: 'replayer', heartbeatMs: 1000 }));
    expect(await say()).toMatchObject({ code: CLOSE_UNAUTHORIZED, reason: 'pool hello replayed', first: '' });
    expect((await listAgents()).Agents).toEqual([]);
  });

  test('bench agents escapes the bidi overrides and C1 controls a pool agent put in its id and host; --json keeps the values', async () => {
    const agentId = 'evil\u202egnp.exe';
    const host = 'host\u009b31m\u2066x';
    const hello = signPoolHello({ id: controller.accessId, secret: controller.secret }, { agentId, host, pid: 1, version: PROTOCOL_VERSION });
    const ws = new WebSocket(wsUrl());
    try {
      await new Promise<void>((resolve, reject) => {
        ws.on('open', () => ws.send(JSON.stringify(hello)));
        ws.once('message', () => resolve());
        ws.on('error', reject);
      });
      const table = await runEascmd(['-c', configFile, 'bench', 'agents']);
      expect(table.code).toBe(0);
      expect(table.stdout).toMatch(/\| evil\\u202egnp\.exe \| host\\u009b31m\\u2066x \| 127\.0\.0\.1\s+\| idle\s+\|/);
      expect(table.stdout).not.toMatch(/[\u0080-\u009f\u202a-\u202e\u2066-\u2069]/);
      const json = await runEascmd(['-c', configFile, '--json', 'bench', 'agents']);
      expect(json.stdout).not.toMatch(/[\u0080-\u009f\u202a-\u202e\u2066-\u2069]/);
      expect(lastJson<ListAgentsResponse>(json.stdout).Agents).toEqual([expect.objectContaining({ AgentId: agentId, Host: host })]);
    } finally {
      ws.close();
    }
    await waitFor('the agent gone', async () => ((await listAgents()).Agents.length === 0 ? true : undefined));
  });

  test(`a pool link's frame over ${PRE_HELLO_MAX_BYTES} bytes after its hello closes it (1009) saying what it was, not "before hello"`, async () => {
    const hello = signPoolHello({ id: controller.accessId, secret: controller.secret }, { agentId: 'talker', host: 'h', pid: 1, version: PROTOCOL_VERSION });
    const closed = await new Promise<{ code: number; reason: string; welcomed: boolean }>((resolve, reject) => {
      const ws = new WebSocket(wsUrl());
      let welcomed = false;
      ws.on('open', () => ws.send(JSON.stringify(hello)));
      ws.on('message', () => {
        if (welcomed) return;
        welcomed = true;
        ws.send(JSON.stringify({ type: 'seat-ended', seat: 'x'.repeat(PRE_HELLO_MAX_BYTES + 10) }));
      });
      ws.on('close', (code, reason) => resolve({ code, reason: reason.toString(), welcomed }));
      ws.on('error', reject);
    });
    expect(closed).toEqual({ code: 1009, reason: `a pool link frame of more than ${PRE_HELLO_MAX_BYTES} bytes`, welcomed: true });
  });

  test('a task takes agentCount idle agents; bench agents shows who serves what; a lost agent is replaced from the pool', async () => {
    await fixture.reset();
    for (const id of ['pool-a', 'pool-b', 'pool-c']) await join(id);
    const idle = await runEascmd(['-c', configFile, 'bench', 'agents']);
    expect(idle.code).toBe(0);
    expect(idle.stdout).toMatch(/\|\s+AGENTID\s+\|\s+HOST\s+\|\s+ADDRESS\s+\|\s+STATE\s+\|\s+TASK\s+\|/);
    for (const id of ['pool-a', 'pool-b', 'pool-c']) expect(idle.stdout).toMatch(new RegExp(`\\| ${id}\\s+\\| \\S+\\s+\\| 127\\.0\\.0\\.1\\s+\\| idle\\s+\\|`));

    const name = await createTask(controller, task({ agentCount: 2, duration: 14 }));
    await waitForStatus(controller, name, ['Running']);
    await waitFor('2 agents available', () => detail(name).AvailableAgent === 2 || undefined);
    const busy = (await listAgents()).Agents.filter((a) => a.State === 'busy');
    expect(busy).toHaveLength(2);
    for (const a of busy) expect(a).toMatchObject({ TaskName: name, RoundId: 10001, Address: '127.0.0.1' });
    const json = lastJson<ListAgentsResponse>((await runEascmd(['-c', configFile, '--json', 'bench', 'agents'])).stdout);
    expect(json.Launcher).toBe('pool');
    expect(json.Agents.map((a) => a.State).sort()).toEqual(['busy', 'busy', 'idle']);
    // desc names the host of each agent of the round
    expect(detail(name).Agents?.map((a) => a.Address)).toEqual(['127.0.0.1', '127.0.0.1']);
    const desc = await runEascmd(['-c', configFile, 'bench', 'desc', name]);
    expect(desc.stdout).toMatch(new RegExp(`\\|\\s+Agents \\| ${name}-10001-1 (connected|ready) on \\S+ \\(127\\.0\\.0\\.1\\)`));

    const spare = json.Agents.find((a) => a.State === 'idle')?.AgentId ?? '';
    const victim = agents.find((a) => a.agentId === busy[0].AgentId);
    await waitFor('a second of data', () => (detail(name).Result?.TotalRequests ?? 0) > 0 || undefined);
    victim?.proc.kill('SIGKILL');
    await waitFor('the lost agent reported', () => detail(name).Events.some((e) => /agent \d lost/.test(e.Message)) || undefined);
    await waitFor('the spare agent seated', async () => (await listAgents()).Agents.find((a) => a.AgentId === spare && a.State === 'busy' && a.TaskName === name));
    await waitFor('2 agents available again', () => detail(name).AvailableAgent === 2 || undefined);

    const stopped = await waitForStatus(controller, name, ['Stopped'], 60000);
    // what the killed agent sent after its last frame reached the target but was never reported
    const counted = (await fixture.stats()).requests;
    expect(stopped.Result?.TotalRequests).toBeGreaterThan(0);
    expect(stopped.Result?.TotalRequests).toBeLessThanOrEqual(counted);
    expect(stopped.AvailableAgent).toBe(0);
    // the round is over: its agents wait again
    await waitFor('every agent idle again', async () => (await listAgents()).Agents.every((a) => a.State === 'idle') || undefined);
    await deleteAllTasks(controller);
  });

  test('with fewer idle agents than agentCount the task starts with those, says so, and takes a later joiner; agents it no longer wants go back', async () => {
    const live = (await listAgents()).Agents;
    expect(live).toHaveLength(2);
    const name = await createTask(controller, task({ agentCount: 3, duration: 12 }));
    const running = await waitForStatus(controller, name, ['Running']);
    expect(running.DesiredAgent).toBe(3);
    await waitFor('2 of 3 agents', () => detail(name).AvailableAgent === 2 || undefined);
    expect(detail(name).Message).toBe('Benchmark task is running');
    await join('pool-late');
    await waitFor('the late joiner seated', () => detail(name).AvailableAgent === 3 || undefined);
    expect((await listAgents()).Agents.find((a) => a.AgentId === 'pool-late')).toMatchObject({ State: 'busy', TaskName: name });
    // fewer agents wanted: the retired ones go back to the pool
    await controller.controller.manager.update(name, { optional: { agentCount: 1 } });
    await waitFor('one agent left in the round', () => detail(name).AvailableAgent === 1 || undefined);
    await waitFor('two agents idle again', async () => ((await listAgents()).Agents.filter((a) => a.State === 'idle').length === 2 ? true : undefined));
    await controller.controller.manager.stop(name);
    await waitForStatus(controller, name, ['Stopped']);
    await deleteAllTasks(controller);
  });

  test('a controller restarted while pool agents wait: they dial again and rejoin', async () => {
    const before = (await listAgents()).Agents.map((a) => a.AgentId).sort();
    expect(before).toHaveLength(3);
    const port = controller.controller.port;
    await controller.close();
    controller = await startInProcessController({ agentLauncher: 'pool', poolHeartbeatS: 1, dataDir: path.join(dir, 'controller'), port });
    writeConfig();
    for (const agent of agents.filter((a) => before.includes(a.agentId))) await agent.joined(2, 30000);
    await waitFor('all three back', async () => ((await listAgents()).Agents.length === 3 ? true : undefined));
    expect((await listAgents()).Agents.map((a) => a.AgentId).sort()).toEqual(before);
    for (const agent of agents) expect(agent.proc.exitCode).toBeNull();
  });

  test('an agent that stops answering pings is dropped from the pool, and comes back once it runs again', async () => {
    const frozen = agents.find((a) => a.proc.exitCode === null && a.proc.signalCode === null);
    if (!frozen) throw new Error('no live pool agent left');
    const joins = (frozen.output().match(/joined the pool/g) ?? []).length;
    // stopped, its socket stays open but nothing answers: only the heartbeat can tell
    frozen.proc.kill('SIGSTOP');
    try {
      await waitFor('the frozen agent dropped', async () => ((await listAgents()).Agents.some((a) => a.AgentId === frozen.agentId) ? undefined : true), 15_000);
    } finally {
      frozen.proc.kill('SIGCONT');
    }
    await frozen.joined(joins + 1, 20_000);
    expect((await listAgents()).Agents.find((a) => a.AgentId === frozen.agentId)).toMatchObject({ State: 'idle' });
  });
});

describe('a pool agent whose controller stops pinging', () => {
  test('drops the link after three missed pings and dials again', async () => {
    const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise<void>((resolve) => server.once('listening', () => resolve()));
    const hellos: string[] = [];
    // a controller that welcomes with a 200 ms heartbeat and then never pings
    server.on('connection', (ws) => {
      ws.once('message', (data) => {
        hellos.push(JSON.parse(data.toString()).type as string);
        ws.send(JSON.stringify({ type: 'welcome', agentId: 'silent', heartbeatMs: 200 }));
      });
    });
    const dir = tempDir('pool-silent');
    const { port } = server.address() as AddressInfo;
    const agent = startPoolAgent({ controllerWsUrl: `ws://127.0.0.1:${port}/agents`, keyFile: writePoolKey(dir, 'LTAIx', 'secret'), agentId: 'silent' });
    try {
      await agent.joined(2, 15_000);
      expect(agent.output()).toContain('no ping from the controller in 600 ms');
      expect(hellos.slice(0, 2)).toEqual(['pool-hello', 'pool-hello']);
    } finally {
      await agent.stop('SIGKILL');
      for (const client of server.clients) client.terminate();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});

describe('bench agents under the local launcher', () => {
  test('lists the agents of running rounds, with their seat state and task', async () => {
    const fixture = await startFixture();
    const controller = await startInProcessController();
    try {
      const name = await createTask(controller, {
        service: { serviceName: 'demo', url: `${fixture.url}/api/predict/demo` },
        data: { content: 'aGVsbG8K' },
        optional: { mode: 'manual', agentCount: 2, concurrency: 1, maxQPS: 20, duration: 30 },
      });
      await waitForStatus(controller, name, ['Running']);
      const listed = await waitFor('both agents ready', async () => {
        const res = (await controller.call('GET', AGENTS_API_PATH)).json as unknown as ListAgentsResponse;
        return res.Agents.filter((a) => a.State === 'ready').length === 2 ? res : undefined;
      });
      expect(listed.Launcher).toBe('local');
      expect(listed.Agents.map((a) => [a.AgentId, a.TaskName, a.RoundId, a.Address])).toEqual([
        [`${name}-10001-1`, name, 10001, '127.0.0.1'],
        [`${name}-10001-2`, name, 10001, '127.0.0.1'],
      ]);
      await controller.controller.manager.stop(name);
      await waitForStatus(controller, name, ['Stopped']);
      expect(((await controller.call('GET', AGENTS_API_PATH)).json as unknown as ListAgentsResponse).Agents).toEqual([]);
    } finally {
      await controller.close();
      await fixture.stop();
    }
  });
});
