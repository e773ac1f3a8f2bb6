import * as fs from 'node:fs';
import * as path from 'node:path';
import WebSocket from 'ws';
import { AGENT_WS_PATH, PROTOCOL_VERSION } from '../../src/contract';
import { BIN, ControllerProcess, killAllStarted, runEascmd, startProcess, tempDir, waitFor, writeTask } from '../helpers/processes';
import { createTask, detail, withFixtureAndController } from '../helpers/reliability';
import { listeningAddresses } from '../helpers/sockets';

afterAll(() => killAllStarted());

/** What the agents' endpoint answers a hello with this token: the close code, and any message before it. */
function agentHello(controller: ControllerProcess, token: string): Promise<{ code: number; reason: string; messages: string[] }> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(`${controller.url.replace(/^http/, 'ws')}${AGENT_WS_PATH}`);
    const messages: string[] = [];
    const timer = setTimeout(() => socket.terminate(), 5000);
    socket.on('open', () => socket.send(JSON.stringify({ type: 'hello', agentId: 'probe', token, pid: process.pid, host: 'test', version: PROTOCOL_VERSION })));
    socket.on('message', (data) => messages.push(JSON.parse(data.toString()).type as string));
    socket.on('close', (code, reason) => {
      clearTimeout(timer);
      resolve({ code, reason: reason.toString(), messages });
    });
    socket.on('error', reject);
  });
}

const agentToken = (dataDir: string, name: string): string => (JSON.parse(fs.readFileSync(path.join(dataDir, 'tasks', name, 'task.json'), 'utf8')) as { agentToken: string }).agentToken;

describe('security', () => {
  test("the agents' endpoint takes only the running task's current agent token, renewed at every start", () =>
    withFixtureAndController(1, async (fixture, controller) => {
      const name = await createTask(controller, { service: { serviceName: 'demo', url: `${fixture.url}/x` }, optional: { mode: 'manual', concurrency: 1, duration: 60 } });
      const first = agentToken(controller.dataDir, name);
      expect(await agentHello(controller, 'not-a-token')).toMatchObject({ code: 4401, reason: 'unknown token', messages: [] });
      expect(await agentHello(controller, `${first}x`)).toMatchObject({ code: 4401, messages: [] });
      // the right token passes: the task has its agent already, so the seat is refused politely, not as unauthorized
      expect(await agentHello(controller, first)).toMatchObject({ code: 1000, reason: 'no agent needed' });
      await runEascmd(['-c', controller.configFile, 'bench', 'stop', name]);
      await waitFor('Stopped', async () => (await detail(controller, name)).Status === 'Stopped');
      expect(await agentHello(controller, first)).toMatchObject({ code: 4401 });
      await runEascmd(['-c', controller.configFile, 'bench', 'start', name]);
      await waitFor('Running', async () => (await detail(controller, name)).Status === 'Running');
      const second = agentToken(controller.dataDir, name);
      expect(second).not.toBe(first);
      expect(await agentHello(controller, first)).toMatchObject({ code: 4401 });
      expect(await agentHello(controller, second)).toMatchObject({ code: 1000, reason: 'no agent needed' });
    }));

  test('by default the controller (API and agent endpoint) and the statsview page listen on 127.0.0.1 only', () =>
    withFixtureAndController(1, async (fixture, controller) => {
      expect(listeningAddresses(Number(new URL(controller.url).port))).toEqual(['127.0.0.1']);
      const name = await createTask(controller, { service: { serviceName: 'demo', url: `${fixture.url}/x` }, optional: { mode: 'manual', concurrency: 1, duration: 6 } });
      const view = await startProcess(BIN.eascmd, ['-c', controller.configFile, 'bench', 'visualize', name], /Click the link (http:\/\/[^\s]+) to observe/, { NO_COLOR: '1' });
      try {
        expect(listeningAddresses(Number(new URL(view.match[1]).port))).toEqual(['127.0.0.1']);
      } finally {
        await view.stop('SIGINT');
      }
    }));

  test('secrets never appear in desc, reports or the controller log; config files are 0600', () =>
    withFixtureAndController(1, async (fixture, controller) => {
      const dir = tempDir('secrets');
      const token = 'tok-SECRET-1234567890';
      const apiKey = 'key-SECRET-0987654321';
      const created = await runEascmd(['-c', controller.configFile, 'bench', 'create', writeTask(dir, { service: { serviceName: 'demo', url: `${fixture.url}/x`, requestToken: token }, http: { headers: [`X-Api-Key:${apiKey}`] }, optional: { mode: 'manual', concurrency: 1, duration: 2 } }), '--wait']);
      const name = /Task \[(\S+)\]/.exec(created.stdout)?.[1] ?? '';
      const desc = await runEascmd(['-c', controller.configFile, 'bench', 'desc', name]);
      const json = await runEascmd(['-c', controller.configFile, 'bench', 'desc', name, '--json']);
      const reportDir = path.join(controller.dataDir, 'reports', 'summary');
      const reports = fs.readdirSync(reportDir).map((f) => fs.readFileSync(path.join(reportDir, f), 'utf8')).join('\n');
      for (const text of [created.stdout, desc.stdout, json.stdout, reports, controller.output()]) {
        expect(text).not.toContain(token);
        expect(text).not.toContain(apiKey);
      }
      expect(controller.output()).not.toContain(controller.secret);
      expect(fs.statSync(path.join(controller.dataDir, 'credentials.json')).mode & 0o777).toBe(0o600);
      const cfg = path.join(dir, 'written.ini');
      const res = await runEascmd(['-c', cfg, 'config', '-i', 'AK', '-k', 'SK', '-e', 'http://127.0.0.1:1']);
      expect(res.code).toBe(0);
      expect(fs.statSync(cfg).mode & 0o777).toBe(0o600);
    }));
});
