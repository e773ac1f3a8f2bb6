import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import type { AddressInfo } from 'node:net';
import { Controller, createController } from '../../controller/app';
import { openStatsStream, signedFetch } from '../helpers/api';
import { ROOT, tempDir, waitFor } from '../helpers/processes';

const PREFIX = '/api/v2/benchmark-tasks';

/** Every path under `dir`, relative to it, leaving out `skip` (the data dir, which the controller may fill). */
function tree(dir: string, skip: string): string[] {
  const out: string[] = [];
  const walk = (at: string): void => {
    for (const entry of fs.readdirSync(at, { withFileTypes: true })) {
      const full = path.join(at, entry.name);
      if (full === skip) continue;
      out.push(path.relative(dir, full));
      if (entry.isDirectory()) walk(full);
    }
  };
  walk(dir);
  return out.sort();
}

/** An in-process controller on port 0 over `dataDir`, its log kept, with agents from the build. */
async function startInProcess(dataDir: string): Promise<{ controller: Controller; call: (method: string, p: string, body?: string) => ReturnType<typeof signedFetch>; log: string[]; accessId: string; secret: string }> {
  const log: string[] = [];
  const controller = await createController(
    { port: 0, dataDir, agentCommand: [process.execPath, path.join(ROOT, 'dist', 'agent', 'main.js')], retentionCheckS: 3600, allowPrivateData: true },
    { log: (line) => log.push(line) },
  );
  const [[accessId, secret]] = [...controller.credentials.keys.entries()];
  return { controller, log, accessId, secret, call: (method, p, body) => signedFetch(controller.url, accessId, secret, method, p, body) };
}

describe('task names cannot leave the data dir', () => {
  test('a serviceName with separators, dots or spaces is refused naming service.serviceName, and nothing is created outside', async () => {
    const root = tempDir('names');
    const dataDir = path.join(root, 'a', 'b', 'data');
    const { controller, call } = await startInProcess(dataDir);
    try {
      const before = tree(root, dataDir);
      for (const serviceName of ['/../../../x', 'a/b', '..', 'x y']) {
        const res = await call('POST', PREFIX, JSON.stringify({ service: { serviceName, url: 'http://127.0.0.1:9/x' }, optional: { mode: 'manual', duration: 1 } }));
        expect(res.status).toBe(400);
        expect(res.json).toMatchObject({ Code: 'InvalidField', Field: 'service.serviceName' });
      }
      expect(tree(root, dataDir)).toEqual(before);
      expect(fs.readdirSync(path.join(dataDir, 'tasks'))).toEqual([]);
      expect((await call('GET', PREFIX)).json.Tasks).toEqual([]);
    } finally {
      await controller.close();
      fs.rmSync(root, { recursive: true, force: true });
    }
  });

  test('GET and DELETE of ..%2F..%2Fsentinel are 404, even when a task.json on disk claims that name; the folder outside survives', async () => {
    const root = tempDir('names');
    const dataDir = path.join(root, 'data');
    const sentinel = path.join(root, 'sentinel');
    fs.mkdirSync(path.join(sentinel, 'keep'), { recursive: true });
    // a tampered (or older) record whose name walks out of the tasks folder
    const evil = path.join(dataDir, 'tasks', 'benchmark-evil-0000');
    fs.mkdirSync(evil, { recursive: true });
    const now = Date.now();
    fs.writeFileSync(path.join(evil, 'task.json'), JSON.stringify({
      taskId: 'eas-b-x', taskName: '../../sentinel', region: 'cn-local', serviceName: 'evil', spec: { service: { serviceName: 'evil', url: 'http://127.0.0.1:9/x' } },
      status: 'Stopped', message: 'old', createMs: now, updateMs: now, finalMs: now, desiredAgent: 1, rounds: [], agentToken: 't',
    }));
    const { controller, call, log } = await startInProcess(dataDir);
    try {
      for (const name of ['..%2F..%2Fsentinel', '..%2F..%2Fx', 'a%20b', 'benchmark-x%00']) {
        const got = await call('GET', `${PREFIX}/cn-local/${name}`);
        expect(got.status).toBe(404);
        expect(got.json.Code).toBe('TaskNotFound');
        const deleted = await call('DELETE', `${PREFIX}/cn-local/${name}`);
        expect(deleted.status).toBe(404);
      }
      await new Promise((r) => setTimeout(r, 300));
      expect(fs.existsSync(path.join(sentinel, 'keep'))).toBe(true);
      expect(fs.existsSync(evil)).toBe(true);
      expect((await call('GET', PREFIX)).json.Tasks).toEqual([]);
      expect(log.join('\n')).toMatch(/benchmark-evil-0000.*skipped/);
    } finally {
      await controller.close();
      fs.rmSync(root, { recursive: true, force: true });
    }
  });
});

describe('secrets in URLs and headers are masked wherever they are shown', () => {
  const SECRETS = ['SECRET1', 'SECRET2', 'SECRET3', 'SECRET4', 'SECRET5', 'SECRET6'];
  let target: http.Server;
  let port = 0;
  const seen: { url: string; headers: http.IncomingHttpHeaders }[] = [];

  beforeAll(async () => {
    target = http.createServer((req, res) => {
      if (req.url?.startsWith('/missing')) {
        res.statusCode = 404;
        res.end('no');
        return;
      }
      if (req.url?.startsWith('/p')) seen.push({ url: req.url, headers: req.headers });
      res.end(req.url?.startsWith('/data') ? 'hello' : 'ok');
    });
    await new Promise<void>((resolve) => target.listen(0, '127.0.0.1', resolve));
    port = (target.address() as AddressInfo).port;
  });
  afterAll(async () => {
    target.closeAllConnections();
    await new Promise((r) => target.close(r));
  });

  const expectNoSecret = (where: string, text: string): void => {
    for (const secret of SECRETS) {
      if (text.includes(secret)) throw new Error(`${secret} appears in ${where}: ${text.slice(Math.max(0, text.indexOf(secret) - 200), text.indexOf(secret) + 50)}`);
    }
  };

  test('service.url query tokens, secret headers and data.path userinfo: absent from desc, stats, the stream, reports, events, errors and the log; the agent still sends them', async () => {
    const dataDir = tempDir('secrets');
    const { controller, call, log, accessId, secret } = await startInProcess(dataDir);
    try {
      const task = {
        service: { serviceName: 'demo', url: `http://127.0.0.1:${port}/p?token=SECRET1&x=1` },
        http: { headers: ['X-Api-Token:SECRET2', 'Ocp-Apim-Subscription-Key:SECRET3'] },
        data: { path: `http://user:SECRET4@127.0.0.1:${port}/data.txt?api_key=SECRET5` },
        optional: { mode: 'manual', concurrency: 1, duration: 2 },
      };
      const created = await call('POST', PREFIX, JSON.stringify(task));
      expect(created.status).toBe(200);
      const name = String(created.json.TaskName);
      const stream = openStatsStream(controller.url, accessId, secret, name);
      const history = await new Promise<string>((resolve, reject) => {
        stream.once('message', (data: Buffer) => resolve(data.toString()));
        stream.once('error', reject);
      });
      stream.close();
      const detail = await waitFor('Stopped', async () => {
        const d = await call('GET', `${PREFIX}/cn-local/${name}`);
        return d.json.Status === 'Stopped' ? d.json : undefined;
      }, 30000);
      const stats = await call('GET', `${PREFIX}/cn-local/${name}/stats`);
      const reportDir = path.join(dataDir, 'reports', 'summary');
      const reports = fs.readdirSync(reportDir).map((f) => fs.readFileSync(path.join(reportDir, f), 'utf8'));
      expect(reports.length).toBe(2);

      // a data source that fails quotes its URL in the error: masked too
      const failing = await call('POST', PREFIX, JSON.stringify({ ...task, data: { path: `http://user:SECRET6@127.0.0.1:${port}/missing.txt?api_key=SECRET5` } }));
      const failed = await waitFor('CreateFailed', async () => {
        const d = await call('GET', `${PREFIX}/cn-local/${String(failing.json.TaskName)}`);
        return d.json.Status === 'CreateFailed' ? d.json : undefined;
      }, 10000);
      expect(String(failed.Message)).toMatch(/data source http:\/\/\*\*\*\*\*\*@127\.0\.0\.1:\d+\/missing\.txt\?api_key=\*\*\*\*\*\* ?: HTTP 404/);
      const list = await call('GET', PREFIX);

      expect(JSON.stringify(detail.Config)).toContain('token=******&x=1');
      expect(detail.Config).toMatchObject({ http: { headers: ['X-Api-Token:******', 'Ocp-Apim-Subscription-Key:******'] } });
      for (const [where, text] of [
        ['desc', JSON.stringify(detail)], ['stats', JSON.stringify(stats.json)], ['the stream history frame', history], ['the HTML report', reports.find((r) => r.startsWith('<')) ?? ''],
        ['the JSON report', reports.find((r) => r.startsWith('{')) ?? ''], ['the failed task', JSON.stringify(failed)], ['the list', JSON.stringify(list.json)], ['the controller log', log.join('\n')],
      ] as const) expectNoSecret(where, text);
      // what is masked is only what is shown: the service got the real token and headers
      expect(seen.length).toBeGreaterThan(0);
      expect(seen[0].url).toBe('/p?token=SECRET1&x=1');
      expect(seen[0].headers).toMatchObject({ 'x-api-token': 'SECRET2', 'ocp-apim-subscription-key': 'SECRET3' });
    } finally {
      await controller.close();
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
