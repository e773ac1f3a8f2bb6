import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import * as net from 'node:net';
import { WebSocket } from 'ws';
import { Controller, createController } from '../../controller/app';
import { idleLauncher } from '../helpers/controller';
import { ControllerOptions } from '../../controller/config';
import { newNonce } from '../../src/contract';
import { signedFetch, signedHeaders } from '../helpers/api';
import { tempDir, waitFor } from '../helpers/processes';

const TASKS = '/api/v2/benchmark-tasks';

interface Gate {
  controller: Controller;
  accessId: string;
  secret: string;
  call(method: string, pathWithQuery: string, body?: string | Buffer): Promise<{ status: number; json: Record<string, unknown> }>;
}

const open: Controller[] = [];

async function startGate(options: Partial<ControllerOptions> = {}): Promise<Gate> {
  const dataDir = tempDir('gate');
  const controller = await createController({ port: 0, dataDir, ...options }, { launcher: idleLauncher, log: () => undefined });
  open.push(controller);
  const [accessId, secret] = [...controller.credentials.keys.entries()][0];
  return { controller, accessId, secret, call: (method, p, body) => signedFetch(controller.url, accessId, secret, method, p, body) };
}

afterAll(async () => {
  await Promise.all(open.map((c) => c.close()));
});

function manualTask(agentCount: number): string {
  return JSON.stringify({ service: { serviceName: 'demo', url: 'http://127.0.0.1:1/x' }, optional: { mode: 'manual', agentCount, concurrency: 1, duration: 60 } });
}

interface RawOutcome {
  /** What the server answered, if anything, before the socket closed. */
  response: string;
  /** Body bytes the client managed to hand to its socket before the answer or the close. */
  bodyBytesWritten: number;
}

/**
 * Sends `head` then up to `bodyBytes` of body as fast as the socket takes it,
 * and stops as soon as the server answers or closes: how much of the body the
 * server let in before refusing it.
 */
function sendLargeBody(port: number, head: string, bodyBytes: number): Promise<RawOutcome> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    const chunk = Buffer.alloc(64 * 1024, 0x61);
    let written = 0;
    let response = '';
    let settled = false;
    const finish = (): void => {
      if (settled) return;
      settled = true;
      socket.destroy();
      resolve({ response, bodyBytesWritten: written });
    };
    const pump = (): void => {
      while (!settled && written < bodyBytes) {
        const n = Math.min(chunk.length, bodyBytes - written);
        written += n;
        if (!socket.write(n === chunk.length ? chunk : chunk.subarray(0, n))) {
          socket.once('drain', pump);
          return;
        }
      }
    };
    socket.on('data', (data) => {
      response += data.toString('latin1');
      if (response.includes('\r\n\r\n')) setTimeout(finish, 50);
    });
    socket.on('error', finish);
    socket.on('close', finish);
    socket.on('connect', () => {
      socket.write(head);
      pump();
    });
  });
}

function requestHead(method: string, pathWithQuery: string, headers: Record<string, string | number>): string {
  return `${method} ${pathWithQuery} HTTP/1.1\r\nHost: 127.0.0.1\r\n${Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n`;
}

describe('the API gate checks auth headers before reading a body', () => {
  let gate: Gate;
  beforeAll(async () => {
    gate = await startGate({ maxBodyBytes: 1024 * 1024 });
  });

  test('an unsigned 50 MB POST is answered 401 and closed long before its body is sent', async () => {
    const size = 50 * 1024 * 1024;
    const outcome = await sendLargeBody(gate.controller.port, requestHead('POST', TASKS, { 'content-type': 'application/json', 'content-length': size }), size);
    expect(outcome.response).toMatch(/^HTTP\/1\.1 401 /);
    expect(outcome.response).toContain('"Message":"missing or invalid credentials"');
    // what loopback socket buffers hold, not what the server read
    expect(outcome.bodyBytesWritten).toBeLessThan(size / 4);
  });

  test('a body signed with an unknown key is refused the same way', async () => {
    const size = 50 * 1024 * 1024;
    const headers = signedHeaders('LTAI-nobody', 'whatever', 'POST', TASKS, Buffer.alloc(0));
    const outcome = await sendLargeBody(gate.controller.port, requestHead('POST', TASKS, { ...headers, 'content-length': size }), size);
    expect(outcome.response).toMatch(/^HTTP\/1\.1 401 /);
    expect(outcome.bodyBytesWritten).toBeLessThan(size / 4);
  });

  test('a signed body over --max-body-bytes gets 413, declared or streamed', async () => {
    const body = Buffer.alloc(2 * 1024 * 1024, 0x20);
    const declared = await sendLargeBody(gate.controller.port, requestHead('POST', TASKS, { ...signedHeaders(gate.accessId, gate.secret, 'POST', TASKS, body), 'content-length': body.length }), body.length);
    expect(declared.response).toMatch(/^HTTP\/1\.1 413 /);
    expect(declared.response).toContain('"Code":"PayloadTooLarge"');
    // chunked: no length to judge by, so it is cut while it streams in
    const chunked = await new Promise<RawOutcome>((resolve) => {
      const socket = net.connect(gate.controller.port, '127.0.0.1', () => {
        socket.write(requestHead('POST', TASKS, { ...signedHeaders(gate.accessId, gate.secret, 'POST', TASKS, body), 'transfer-encoding': 'chunked' }));
        socket.write(`${body.length.toString(16)}\r\n`);
        socket.write(body);
        socket.write('\r\n0\r\n\r\n');
      });
      let response = '';
      socket.on('data', (d) => (response += d.toString('latin1')));
      socket.on('error', () => undefined);
      socket.on('close', () => resolve({ response, bodyBytesWritten: body.length }));
    });
    expect(chunked.response).toMatch(/^HTTP\/1\.1 413 /);
  });

  test('bodies held before their signature is checked have a budget together: past it, 429', async () => {
    const small = await startGate({ maxBodyBytes: 1024 * 1024, maxPendingBodyBytes: 1536 * 1024 });
    const body = Buffer.alloc(1024 * 1024, 0x20);
    const part = 900 * 1024;
    // one request's body is held, not finished, while a second arrives
    const first = net.connect(small.controller.port, '127.0.0.1');
    let firstAnswer = '';
    first.on('data', (d) => (firstAnswer += d.toString('latin1')));
    first.write(requestHead('POST', TASKS, { ...signedHeaders(small.accessId, small.secret, 'POST', TASKS, body), 'content-length': body.length }));
    first.write(body.subarray(0, part));
    await new Promise((r) => setTimeout(r, 300));
    const second = await sendLargeBody(small.controller.port, requestHead('POST', TASKS, { ...signedHeaders(small.accessId, small.secret, 'POST', TASKS, body), 'content-length': body.length }), body.length);
    expect(second.response).toMatch(/^HTTP\/1\.1 429 /);
    expect(second.response).toContain('"Code":"TooManyRequests"');
    // the first is unharmed: its body is checked and reaches the route (not JSON: 400)
    first.write(body.subarray(part));
    await new Promise<void>((resolve) => first.on('data', () => firstAnswer.includes('\r\n\r\n') && resolve()));
    first.destroy();
    expect(firstAnswer).toMatch(/^HTTP\/1\.1 400 /);
    expect(firstAnswer).toContain('"Code":"InvalidJson"');
  });

  test('a signed body within the limit reaches the routes as before', async () => {
    const res = await gate.call('POST', TASKS, `{"service": ${' '.repeat(512 * 1024)}`);
    expect(res.status).toBe(400);
    expect(res.json.Code).toBe('InvalidJson');
  });
});

describe('replay', () => {
  let gate: Gate;
  beforeAll(async () => {
    gate = await startGate();
  });

  const get = (headers: Record<string, string>): Promise<number> => fetch(`${gate.controller.url}${TASKS}`, { headers }).then(async (r) => {
    await r.arrayBuffer();
    return r.status;
  });

  test('the same signed request sent twice: the second is 401, and no second task is created', async () => {
    const body = manualTask(1);
    const headers = { ...signedHeaders(gate.accessId, gate.secret, 'POST', TASKS, body), 'content-type': 'application/json' };
    const first = await fetch(`${gate.controller.url}${TASKS}`, { method: 'POST', headers, body });
    expect(first.status).toBe(200);
    const second = await fetch(`${gate.controller.url}${TASKS}`, { method: 'POST', headers, body });
    expect(second.status).toBe(401);
    expect(await second.json()).toMatchObject({ Code: 'Unauthorized', Message: 'missing or invalid credentials' });
    expect(((await gate.call('GET', TASKS)).json.Tasks as unknown[]).length).toBe(1);
  });

  test('a request without a nonce, or with a malformed one, is 401', async () => {
    const { 'x-eas-nonce': _nonce, ...withoutNonce } = signedHeaders(gate.accessId, gate.secret, 'GET', TASKS);
    expect(await get(withoutNonce)).toBe(401);
    expect(await get(signedHeaders(gate.accessId, gate.secret, 'GET', TASKS, undefined, undefined, 'not-a-nonce'))).toBe(401);
    expect(await get(signedHeaders(gate.accessId, gate.secret, 'GET', TASKS, undefined, undefined, newNonce()))).toBe(200);
  });

  test('a date 10 minutes ahead is 401; 4 minutes ahead and 14 minutes old are accepted', async () => {
    const at = (offsetMs: number): string => new Date(Date.now() + offsetMs).toUTCString();
    expect(await get(signedHeaders(gate.accessId, gate.secret, 'GET', TASKS, undefined, at(10 * 60_000)))).toBe(401);
    expect(await get(signedHeaders(gate.accessId, gate.secret, 'GET', TASKS, undefined, at(4 * 60_000)))).toBe(200);
    expect(await get(signedHeaders(gate.accessId, gate.secret, 'GET', TASKS, undefined, at(-14 * 60_000)))).toBe(200);
  });

  test('a stats stream upgrade replayed is refused', async () => {
    const created = await gate.call('POST', TASKS, manualTask(1));
    const name = String(created.json.TaskName);
    const streamPath = `${TASKS}/cn-local/${name}/stats/stream`;
    const headers = signedHeaders(gate.accessId, gate.secret, 'GET', streamPath);
    const url = `${gate.controller.url.replace('http', 'ws')}${streamPath}`;
    const outcome = (ws: WebSocket): Promise<string> => new Promise((resolve) => {
      ws.once('open', () => resolve('open'));
      ws.once('unexpected-response', (_req, res) => resolve(String(res.statusCode)));
      ws.once('error', () => resolve('error'));
    });
    const first = new WebSocket(url, { headers });
    expect(await outcome(first)).toBe('open');
    first.close();
    const again = new WebSocket(url, { headers });
    expect(await outcome(again)).toBe('401');
    again.terminate();
  });
});

describe('caps on running tasks and agents', () => {
  test('--max-running-tasks 1: a second create is refused with a line naming the limit', async () => {
    const gate = await startGate({ maxRunningTasks: 1 });
    expect((await gate.call('POST', TASKS, manualTask(1))).status).toBe(200);
    const second = await gate.call('POST', TASKS, manualTask(1));
    expect(second.status).toBe(429);
    expect(second.json).toMatchObject({ Code: 'TooManyTasks', Message: '1 tasks are running, the most the controller allows (--max-running-tasks 1); stop one or wait for one to end' });
    expect(((await gate.call('GET', TASKS)).json.Tasks as unknown[]).length).toBe(1);
  });

  test('--max-agents-total 3: a task asking more than what is left is refused, one that fits is not', async () => {
    const gate = await startGate({ maxAgentsTotal: 3 });
    expect((await gate.call('POST', TASKS, manualTask(2))).status).toBe(200);
    const over = await gate.call('POST', TASKS, manualTask(2));
    expect(over.status).toBe(429);
    expect(over.json).toMatchObject({ Code: 'TooManyAgents', Message: "the task needs 2 agents and 1 of the controller's 3 (--max-agents-total) are free" });
    expect((await gate.call('POST', TASKS, manualTask(1))).status).toBe(200);
    const full = await gate.call('POST', TASKS, manualTask(1));
    expect(full.json.Code).toBe('TooManyAgents');
  });

  test('--max-creates-per-minute 3: a key\'s fourth create in a minute is refused, though all three ended CreateFailed; another key is not', async () => {
    const dataDir = tempDir('gate-creates');
    const credentialsFile = path.join(dataDir, 'keys.json');
    fs.writeFileSync(credentialsFile, JSON.stringify({ keys: [{ id: 'key-a', secret: 'secret-a' }, { id: 'key-b', secret: 'secret-b' }] }), { mode: 0o600 });
    const gate = await startGate({ dataDir, credentialsFile, maxCreatesPerMinute: 3 });
    // a local data path with no --data-root: refused when the round is prepared, so the task ends CreateFailed
    const failing = JSON.stringify({ service: { serviceName: 'demo', url: 'http://127.0.0.1:1/x' }, data: { path: '/etc/hostname' }, optional: { mode: 'manual', agentCount: 1, concurrency: 1, duration: 60 } });
    const asA = (body: string) => signedFetch(gate.controller.url, 'key-a', 'secret-a', 'POST', TASKS, body);
    for (let i = 0; i < 3; i++) expect((await asA(failing)).status).toBe(200);
    await waitFor('three CreateFailed tasks', async () => ((await gate.call('GET', TASKS)).json.Tasks as { Status: string }[]).every((t) => t.Status === 'CreateFailed') || undefined);
    const fourth = await asA(failing);
    expect(fourth.status).toBe(429);
    expect(fourth.json.Code).toBe('TooManyCreates');
    expect(String(fourth.json.Message)).toMatch(/^this key created 3 tasks in the last minute, the most the controller allows \(--max-creates-per-minute 3\); try again in \d+ s$/);
    // the cap is per key
    expect((await signedFetch(gate.controller.url, 'key-b', 'secret-b', 'POST', TASKS, failing)).status).toBe(200);
    expect(((await gate.call('GET', TASKS)).json.Tasks as unknown[]).length).toBe(4);
  });
});

describe('connections', () => {
  const PER_CLIENT = 20;
  let gate: Gate;
  beforeAll(async () => {
    gate = await startGate({ maxConnectionsPerClient: PER_CLIENT, headersTimeoutMs: 1500, requestTimeoutMs: 2000 });
  });

  /** A connection from `localAddress` that sends half a request's headers and waits; resolves once connected. */
  const halfOpen = (localAddress = '127.0.0.1'): Promise<net.Socket> => new Promise((resolve, reject) => {
    const socket = net.connect({ port: gate.controller.port, host: '127.0.0.1', localAddress }, () => {
      socket.write('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n');
      resolve(socket);
    });
    socket.on('error', reject);
  });

  const closedWithin = (socket: net.Socket, ms: number): Promise<boolean> => new Promise((resolve) => {
    if (socket.destroyed) return resolve(true);
    const timer = setTimeout(() => resolve(false), ms);
    socket.once('close', () => {
      clearTimeout(timer);
      resolve(true);
    });
    socket.on('error', () => undefined);
    socket.resume();
  });

  const healthz = (localAddress: string): Promise<number> => new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port: gate.controller.port, path: '/healthz', localAddress, agent: false, timeout: 2000 }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('timeout', () => req.destroy(new Error('healthz timed out')));
    req.on('error', reject);
  });

  test('one client with many half-open connections: past --max-connections-per-client they are closed at once, another client is served, headers time out', async () => {
    const held = await Promise.all(Array.from({ length: PER_CLIENT }, () => halfOpen()));
    const extra = await halfOpen();
    expect(await closedWithin(extra, 500)).toBe(true);
    const flood = await Promise.all(Array.from({ length: 200 }, () => halfOpen().catch(() => undefined)));
    // another address on the loopback network is another client
    expect(await healthz('127.0.0.2')).toBe(200);
    const stillOpen = held.filter((s) => !s.destroyed).length;
    expect(stillOpen).toBe(PER_CLIENT);
    // --headers-timeout-ms ends the ones that never finish their headers (node checks once a second)
    const closed = await Promise.all(held.map((s) => closedWithin(s, 4000)));
    expect(closed.every(Boolean)).toBe(true);
    for (const s of [...flood, extra]) s?.destroy();
    expect(await healthz('127.0.0.1')).toBe(200);
  });

  test('an open stats stream outlives --request-timeout-ms', async () => {
    const created = await gate.call('POST', TASKS, manualTask(1));
    const name = String(created.json.TaskName);
    const streamPath = `${TASKS}/cn-local/${name}/stats/stream`;
    const ws = new WebSocket(`${gate.controller.url.replace('http', 'ws')}${streamPath}`, { headers: signedHeaders(gate.accessId, gate.secret, 'GET', streamPath) });
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    let closed = false;
    ws.on('close', () => (closed = true));
    await new Promise((r) => setTimeout(r, 3500));
    expect(closed).toBe(false);
    expect(ws.readyState).toBe(WebSocket.OPEN);
    ws.terminate();
  });
});
