import * as net from 'node:net';
import { ControllerClient } from '../../src/api/client';
import { ApiError } from '../../src/api/errors';
import { BenchError, DATE_HEADER, NONCE_HEADER, parseAuthorization, signRequest, signaturesEqual } from '../../src/contract';
import { STUB_ID, STUB_SECRET, requestId, useStubController } from './cli-stub-controller';

describe('cli ControllerClient', () => {
  const stub = useStubController();
  let client: ControllerClient;

  beforeEach(() => {
    client = new ControllerClient({ endpoint: stub().url, accessId: STUB_ID, accessKey: STUB_SECRET });
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
    stub().on('POST /api/v2/benchmark-tasks', (req) => ({
      body: { RequestId: requestId(), TaskId: 'eas-b-x', TaskName: 'benchmark-demo-1a2b', Region: 'cn-local', Status: 'Creating', Message: JSON.parse(req.body).service.serviceName },
    }));
    stub().on('GET /api/v2/benchmark-tasks', { body: { RequestId: 'R1', Tasks: [] } });
    stub().on('PUT /api/v2/benchmark-tasks/cn-local/benchmark-demo-1a2b', (req) => ({
      body: { RequestId: 'R2', TaskName: 'benchmark-demo-1a2b', DesiredAgent: 2, AvailableAgent: 1, Status: 'Updating', Message: req.body },
    }));
    stub().on('PUT /api/v2/benchmark-tasks/cn-local/benchmark-demo-1a2b/stop', { body: { RequestId: 'R3', TaskName: 'benchmark-demo-1a2b', Status: 'Stopping', Message: '' } });
    stub().on('PUT /api/v2/benchmark-tasks/cn-local/benchmark-demo-1a2b/start', { body: { RequestId: 'R4', TaskName: 'benchmark-demo-1a2b', Status: 'Creating', Message: '' } });
    stub().on('DELETE /api/v2/benchmark-tasks/cn-local/benchmark-demo-1a2b', { body: { RequestId: 'R5', TaskName: 'benchmark-demo-1a2b', Status: 'Deleting', Message: '' } });
    stub().on('GET /api/v2/benchmark-tasks/cn-local/benchmark-demo-1a2b/report', { body: { RequestId: 'R6', TaskName: 'benchmark-demo-1a2b', RoundId: 10001, ReportUrl: 'http://r/x.html' } });

    const created = await client.createTask({ service: { serviceName: 'démo' }, data: { content: 'aGVsbG8K' } });
    expect(created).toMatchObject({ TaskName: 'benchmark-demo-1a2b', Status: 'Creating', Message: 'démo' });
    expect(stub().requests[0].headers['content-type']).toBe('application/json');
    expect((await client.listTasks()).RequestId).toBe('R1');
    const updated = await client.updateTask('cn-local', 'benchmark-demo-1a2b', { concurrency: 4 });
    expect(JSON.parse(updated.Message)).toEqual({ optional: { concurrency: 4 } });
    expect((await client.stopTask('cn-local', 'benchmark-demo-1a2b')).Status).toBe('Stopping');
    expect((await client.startTask('cn-local', 'benchmark-demo-1a2b')).Status).toBe('Creating');
    expect((await client.deleteTask('cn-local', 'benchmark-demo-1a2b')).Status).toBe('Deleting');
    expect((await client.getReport('cn-local', 'benchmark-demo-1a2b')).ReportUrl).toBe('http://r/x.html');
    expect(stub().requests.map((r) => `${r.method} ${r.path}`)).toEqual([
      'POST /api/v2/benchmark-tasks',
      'GET /api/v2/benchmark-tasks',
      'PUT /api/v2/benchmark-tasks/cn-local/benchmark-demo-1a2b',
      'PUT /api/v2/benchmark-tasks/cn-local/benchmark-demo-1a2b/stop',
      'PUT /api/v2/benchmark-tasks/cn-local/benchmark-demo-1a2b/start',
      'DELETE /api/v2/benchmark-tasks/cn-local/benchmark-demo-1a2b',
      'GET /api/v2/benchmark-tasks/cn-local/benchmark-demo-1a2b/report',
    ]);
  });

  test('a wrong secret is refused by the signature check (401 -> Unauthorized)', async () => {
    const bad = new ControllerClient({ endpoint: stub().url, accessId: STUB_ID, accessKey: 'wrong' });
    await expect(bad.listTasks()).rejects.toMatchObject({ code: 'Unauthorized', responseStatus: 401 });
  });

  test('error answers become ApiError with the controller code, message, field and RequestId', async () => {
    stub().on('GET /api/v2/benchmark-tasks/cn-local/missing', {
      status: 404,
      body: { RequestId: 'AAAA-1', Code: 'TaskNotFound', Message: 'benchmark task missing not found' },
    });
    stub().on('GET /api/v2/benchmark-tasks/cn-local/odd', { status: 418, body: { RequestId: 'AAAA-2', Code: 'Teapot', Message: 'short and stout' } });
    const err = await client.getTask('cn-local', 'missing').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err).toMatchObject({ code: 'TaskNotFound', message: 'benchmark task missing not found', requestId: 'AAAA-1', responseStatus: 404 });
    // An unknown code keeps its name in the message.
    await expect(client.getTask('cn-local', 'odd')).rejects.toMatchObject({ code: 'InternalError', message: 'Teapot: short and stout' });
  });

  test('task names and regions are path-encoded, and the encoded path is what gets signed', async () => {
    stub().on('GET /api/v2/benchmark-tasks/cn local/a b', { body: { RequestId: 'R', TaskName: 'a b' } });
    await expect(client.getTask('cn local', 'a b')).resolves.toMatchObject({ TaskName: 'a b' });
    expect(stub().requests[0].path).toBe('/api/v2/benchmark-tasks/cn%20local/a%20b');
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
    const anonymous = new ControllerClient({ endpoint: stub().url, accessId: '-', accessKey: '-' });
    expect(await anonymous.health()).toBe(true);
    const url = client.statsStreamUrl('cn-local', 'benchmark-demo-1a2b');
    expect(url).toBe(`${stub().url.replace('http:', 'ws:')}/api/v2/benchmark-tasks/cn-local/benchmark-demo-1a2b/stats/stream`);
    const req = client.statsStreamRequest('cn-local', 'benchmark-demo-1a2b');
    const auth = parseAuthorization(req.headers.Authorization);
    const expected = signRequest(STUB_SECRET, 'GET', '/api/v2/benchmark-tasks/cn-local/benchmark-demo-1a2b/stats/stream', req.headers[DATE_HEADER], req.headers[NONCE_HEADER], '');
    expect(signaturesEqual(auth?.signature ?? '', expected)).toBe(true);
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
