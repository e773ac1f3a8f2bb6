import * as http from 'node:http';
import * as net from 'node:net';
import { WebSocket } from 'ws';
import { startTargetService, TargetService } from '../../fixtures/target-service';
import { detailView } from '../../controller/api/views';
import { ControllerClient } from '../../src/api/client';
import { ApiError } from '../../src/api/errors';
import { BenchError, DATE_HEADER, NONCE_HEADER, parseAuthorization, signRequest, signaturesEqual } from '../../src/contract';
import { createTask, idleLauncher, recordRequests, useInProcessController, waitForStatus } from '../helpers/controller';

/** The API client against the real controller built in-process (real agents from dist/ where a task must run). */
describe('cli ControllerClient', () => {
  const live = useInProcessController();
  const idle = useInProcessController({}, { launcher: idleLauncher });
  let target: TargetService;
  let client: ControllerClient;

  beforeAll(async () => {
    target = await startTargetService();
  });
  afterAll(async () => {
    await target.close();
  });
  beforeEach(() => {
    client = new ControllerClient({ endpoint: live().url, accessId: live().accessId, accessKey: live().secret });
  });

  test('signedHeaders produce what the contract verifies: METHOD, path?query, x-eas-date, x-eas-nonce, sha256(body)', () => {
    const fixed = new Date('2025-01-02T03:04:05Z');
    const c = new ControllerClient({ endpoint: 'http://h:1', accessId: 'id1', accessKey: 'sec1', now: () => fixed });
    const headers = c.signedHeaders('PUT', '/api/v2/benchmark-tasks/cn-local/t?x=1', '{"a":1}');
    expect(headers[DATE_HEADER]).toBe('Thu, 02 Jan 2025 03:04:05 GMT');
    const auth = parseAuthorization(headers.Authorization);
    expect(auth?.accessId).toBe('id1');
    expect(headers[NONCE_HEADER]).toMatch(/^[0-9a-f]{32}$/);
    const expected = signRequest('sec1', 'PUT', '/api/v2/benchmark-tasks/cn-local/t?x=1', headers[DATE_HEADER], headers[NONCE_HEADER], '{"a":1}');
    expect(signaturesEqual(auth?.signature ?? '', expected)).toBe(true);
    // Any change to the body or the nonce changes the signature.
    const other = signRequest('sec1', 'PUT', '/api/v2/benchmark-tasks/cn-local/t?x=1', headers[DATE_HEADER], headers[NONCE_HEADER], '{"a":2}');
    expect(signaturesEqual(auth?.signature ?? '', other)).toBe(false);
    const again = c.signedHeaders('PUT', '/api/v2/benchmark-tasks/cn-local/t?x=1', '{"a":1}');
    expect(again[NONCE_HEADER]).not.toBe(headers[NONCE_HEADER]);
  });

  test('every route is signed over the exact bytes sent and decodes PascalCase answers', async () => {
    const recorder = recordRequests(live().controller.port);
    try {
      // a non-ASCII header value: the body is signed as the UTF-8 bytes sent, not as a JS string
      const created = await client.createTask({
        service: { serviceName: 'demo', url: target.url },
        http: { headers: ['X-Note: démo'] },
        optional: { mode: 'manual', agentCount: 1, concurrency: 1, maxQPS: 20, duration: 60 },
      });
      const name = created.TaskName;
      expect(created).toMatchObject({ Region: 'cn-local', Status: 'Creating', Message: 'Benchmark task is creating' });
      expect(created.TaskId).toMatch(/^eas-b-[a-z0-9]{18}$/);
      expect((await client.getTask('cn-local', name)).Config.http?.headers).toEqual(['X-Note: démo']);
      expect((await client.listTasks()).Tasks.map((t) => t.TaskName)).toEqual([name]);
      await waitForStatus(live(), name, ['Running']);
      const updated = await client.updateTask('cn-local', name, { concurrency: 4 });
      // an update the running agents can take at once is already Running again
      expect(updated).toMatchObject({ TaskName: name, DesiredAgent: 1, AvailableAgent: 1 });
      expect(['Updating', 'Running']).toContain(updated.Status);
      expect(detailView(live().controller.manager, name).Config.optional).toMatchObject({ concurrency: 4 });
      expect((await client.stopTask('cn-local', name)).Status).toBe('Stopping');
      await waitForStatus(live(), name, ['Stopped']);
      expect((await client.getReport('cn-local', name)).ReportUrl).toMatch(new RegExp(`/reports/summary/${name}-10001-[0-9a-f]{32}\\.html$`));
      expect((await client.startTask('cn-local', name)).Status).toBe('Creating');
      expect((await client.deleteTask('cn-local', name)).Status).toBe('Deleting');
      const task = `/api/v2/benchmark-tasks/cn-local/${name}`;
      expect(recorder.requests.map((r) => `${r.method} ${r.path}`)).toEqual([
        'POST /api/v2/benchmark-tasks',
        `GET ${task}`,
        'GET /api/v2/benchmark-tasks',
        `PUT ${task}`,
        `PUT ${task}/stop`,
        `GET ${task}/report`,
        `PUT ${task}/start`,
        `DELETE ${task}`,
      ]);
    } finally {
      recorder.stop();
    }
  });

  test('a wrong secret is refused by the signature check (401 -> Unauthorized)', async () => {
    const bad = new ControllerClient({ endpoint: live().url, accessId: live().accessId, accessKey: 'wrong' });
    await expect(bad.listTasks()).rejects.toMatchObject({ code: 'Unauthorized', responseStatus: 401 });
  });

  test('error answers become ApiError with the controller code, message, field and RequestId', async () => {
    const err = await client.getTask('cn-local', 'benchmark-missing-0000').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err).toMatchObject({ code: 'TaskNotFound', responseStatus: 404 });
    expect((err as ApiError).message).toMatch(/benchmark-missing-0000/);
    expect((err as ApiError).requestId).toMatch(/^[0-9A-F]{8}-/);
    const invalid = await client.createTask({ service: { serviceName: 'demo', url: target.url }, optional: { duration: 5000 } }).catch((e: unknown) => e);
    expect(invalid).toMatchObject({ code: 'InvalidField', field: 'optional.duration', responseStatus: 400 });
  });

  test('an error code this client does not know keeps its name in the message (a newer controller)', async () => {
    const server = http.createServer((_req, res) => {
      res.writeHead(418, { 'content-type': 'application/json' }).end(JSON.stringify({ RequestId: 'AAAA-2', Code: 'Teapot', Message: 'short and stout' }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const newer = new ControllerClient({ endpoint: `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`, accessId: 'a', accessKey: 'b' });
    try {
      await expect(newer.getTask('cn-local', 'odd')).rejects.toMatchObject({ code: 'InternalError', message: 'Teapot: short and stout', requestId: 'AAAA-2' });
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  test('task names and regions are path-encoded, and the encoded path is what gets signed', async () => {
    const recorder = recordRequests(live().controller.port);
    try {
      // the signature over the encoded path passes (not 401); the name is then unknown (404)
      await expect(client.getTask('cn local', 'a b')).rejects.toMatchObject({ code: 'TaskNotFound', responseStatus: 404 });
      expect(recorder.requests).toEqual([{ method: 'GET', path: '/api/v2/benchmark-tasks/cn%20local/a%20b' }]);
    } finally {
      recorder.stop();
    }
  });

  test('connection refused is ControllerUnreachable naming the endpoint', async () => {
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as net.AddressInfo).port;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    const dead = new ControllerClient({ endpoint: `http://127.0.0.1:${port}`, accessId: 'a', accessKey: 'b' });
    const err = await dead.listTasks().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BenchError);
    expect(err).toMatchObject({ code: 'ControllerUnreachable', message: `cannot reach the controller at http://127.0.0.1:${port}: connection refused` });
    expect(await dead.health(200)).toBe(false);
  });

  test('health() needs no credentials; statsStreamUrl/statsStreamRequest are signed for the websocket', async () => {
    const anonymous = new ControllerClient({ endpoint: idle().url, accessId: '-', accessKey: '-' });
    expect(await anonymous.health()).toBe(true);
    const name = await createTask(idle(), { service: { serviceName: 'demo', url: target.url }, optional: { mode: 'manual', duration: 60 } });
    const signed = new ControllerClient({ endpoint: idle().url, accessId: idle().accessId, accessKey: idle().secret });
    const url = signed.statsStreamUrl('cn-local', name);
    expect(url).toBe(`${idle().url.replace('http:', 'ws:')}/api/v2/benchmark-tasks/cn-local/${name}/stats/stream`);
    const req = signed.statsStreamRequest('cn-local', name);
    const auth = parseAuthorization(req.headers.Authorization);
    const expected = signRequest(idle().secret, 'GET', `/api/v2/benchmark-tasks/cn-local/${name}/stats/stream`, req.headers[DATE_HEADER], req.headers[NONCE_HEADER], '');
    expect(signaturesEqual(auth?.signature ?? '', expected)).toBe(true);
    // and the controller takes it: the stream opens and sends the task's history first
    const socket = new WebSocket(req.url, { headers: req.headers });
    try {
      const first = await new Promise<string>((resolve, reject) => {
        socket.once('message', (data: Buffer) => resolve(data.toString('utf8')));
        socket.once('error', reject);
        socket.once('unexpected-response', (_r, res) => reject(new Error(`refused: ${res.statusCode}`)));
      });
      expect(JSON.parse(first)).toMatchObject({ Type: 'history', Task: { TaskName: name } });
    } finally {
      socket.close();
    }
    expect(new ControllerClient({ endpoint: 'https://gw.example.com/eas/', accessId: 'a', accessKey: 'b' }).statsStreamUrl('r', 'n')).toBe(
      'wss://gw.example.com/eas/api/v2/benchmark-tasks/r/n/stats/stream',
    );
  });

  test('a non-JSON error page (a proxy) becomes a clear error, not a crash', async () => {
    const server = net.createServer((socket) => {
      socket.on('data', () => socket.end('HTTP/1.1 502 Bad Gateway\r\nContent-Type: text/html\r\nConnection: close\r\n\r\n<html>bad gateway</html>'));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as net.AddressInfo).port;
    const c = new ControllerClient({ endpoint: `http://127.0.0.1:${port}`, accessId: 'a', accessKey: 'b' });
    await expect(c.listTasks()).rejects.toMatchObject({ code: 'InternalError', message: 'HTTP 502 from the controller: <html>bad gateway</html>' });
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
});
