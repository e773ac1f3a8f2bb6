import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { request } from 'undici';
import { startTargetService, TargetService } from '../../fixtures/target-service';

/** The fixture service itself: what the other tests and the benchmarks rely on. */
const FIXTURE_MAIN = join(__dirname, '..', '..', 'dist', 'fixtures', 'target-service.js');

async function call(url: string, init: { method?: 'GET' | 'POST' | 'PUT'; body?: string } = {}): Promise<{ status: number; body: string; ms: number }> {
  const start = performance.now();
  const res = await request(url, { method: init.method ?? 'GET', body: init.body });
  const body = await res.body.text();
  return { status: res.statusCode, body, ms: performance.now() - start };
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('target-service fixture', () => {
  let service: TargetService | undefined;
  afterEach(async () => {
    await service?.close();
    service = undefined;
  });

  test('counts target requests by method, path, remote address and body hash, and answers with the configured body', async () => {
    service = await startTargetService({ bodyBytes: 100 });
    await call(`${service.url}/a?q=1`, { method: 'POST', body: 'one' });
    await call(`${service.url}/a`, { method: 'POST', body: 'one' });
    const answer = await call(`${service.url}/b`);
    expect(answer).toMatchObject({ status: 200 });
    expect(answer.body).toHaveLength(100);
    const stats = JSON.parse((await call(`${service.url}/__fixture/stats`)).body) as ReturnType<TargetService['stats']>;
    expect(stats).toMatchObject({
      requests: 3,
      bytesIn: 6,
      byMethod: { POST: 2, GET: 1 },
      byPath: { '/a': 2, '/b': 1 },
      byRemoteAddress: { '127.0.0.1': 3 },
      bodies: { [createHash('sha256').update('one').digest('hex')]: 2 },
      inFlight: 0,
    });
    await call(`${service.url}/__fixture/reset`, { method: 'POST' });
    expect(service.stats().requests).toBe(0);
  });

  test('the queue model serves at most `workers` at once, each for serviceMs, FIFO', async () => {
    service = await startTargetService({ workers: 2, serviceMs: 60 });
    await call(`${service.url}/warm`); // opens no pooled connections for the burst, just warms the process
    const url = service.url;
    const times = await Promise.all([...Array(6)].map(() => call(`${url}/q`).then((r) => r.ms)));
    times.sort((a, b) => a - b);
    // Pairs finish at ~60, ~120, ~180 ms.
    expect(times[1]).toBeLessThan(110);
    expect(times[2]).toBeGreaterThanOrEqual(115);
    expect(times[4]).toBeGreaterThanOrEqual(175);
    expect(service.stats().maxInFlight).toBe(6);
  });

  test('the queue model never serves faster than workers x 1000 / serviceMs, however late its timers fired', async () => {
    service = await startTargetService({ workers: 1, serviceMs: 5 });
    await call(`${service.url}/warm`);
    const url = service.url;
    const startedMs = performance.now();
    await Promise.all([...Array(60)].map(() => call(`${url}/q`)));
    // a worker freed late starts its next request at the due time, never before the last one was due
    expect(performance.now() - startedMs).toBeGreaterThanOrEqual(60 * 5);
  });

  test('a stall holds every answer until it ends', async () => {
    const startedMs = performance.now();
    service = await startTargetService({ stallEveryMs: 400, stallMs: 150 });
    // Stalls are [0,150), [400,550), ... ms from the start: one is in progress now.
    const first = await call(`${service.url}/s`);
    expect(first.ms).toBeGreaterThanOrEqual(100);
    await sleep(startedMs + 250 - performance.now());
    const open = await call(`${service.url}/s`);
    expect(open.ms).toBeLessThan(50);
    await sleep(startedMs + 420 - performance.now());
    const stalled = await call(`${service.url}/s`);
    expect(stalled.ms).toBeGreaterThanOrEqual(100);
  });

  test('error-above-qps answers 503 beyond the rate, and config changes apply live', async () => {
    service = await startTargetService({ errorAboveQps: 50 });
    const url = service.url;
    const statuses = await Promise.all([...Array(80)].map(() => call(`${url}/r`).then((r) => r.status)));
    expect(statuses.filter((s) => s === 200)).toHaveLength(50);
    expect(statuses.filter((s) => s === 503)).toHaveLength(30);

    const bad = await call(`${url}/__fixture/config`, { method: 'PUT', body: '{"latencyMs":"slow"}' });
    expect(bad.status).toBe(400);
    const ok = await call(`${url}/__fixture/config`, { method: 'PUT', body: '{"errorAboveQps":0,"status":201,"latencyMs":30}' });
    expect(JSON.parse(ok.body)).toMatchObject({ errorAboveQps: 0, status: 201, latencyMs: 30 });
    const after = await call(`${url}/r`);
    expect(after.status).toBe(201);
    expect(after.ms).toBeGreaterThanOrEqual(30);
  });

  test('as a process it prints one listening line and exits 0 on SIGTERM', async () => {
    if (!existsSync(FIXTURE_MAIN)) throw new Error(`${FIXTURE_MAIN} is missing: run \`npm run build\` first`);
    const child = spawn(process.execPath, [FIXTURE_MAIN, '--port', '0', '--status', '204'], { stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      let out = '';
      child.stdout.setEncoding('utf8');
      const url = await new Promise<string>((resolve, reject) => {
        child.stdout.on('data', (chunk: string) => {
          out += chunk;
          const match = /^target-service listening on (http:\/\/127\.0\.0\.1:\d+)\n$/.exec(out);
          if (match) resolve(match[1]);
        });
        child.once('exit', () => reject(new Error(`exited early: ${out}`)));
      });
      expect((await call(`${url}/x`)).status).toBe(204);
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      expect(out.split('\n').filter(Boolean)).toHaveLength(1);
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  });
});
