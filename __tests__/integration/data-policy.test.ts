import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { controllerDataDir, ensureEmbeddedController } from '../../src/api/embedded';
import { ControllerProcess, FixtureProcess, killAllStarted, runEascmd, startController, startFixture, tempDir, waitFor, writeTask } from '../helpers/processes';

const sha = (b: string): string => createHash('sha256').update(b).digest('hex');
const OUTSIDE = "refused by policy: outside the controller's data roots";
const PRIVATE = 'refused by policy: private, loopback or link-local address';

/** A file server on loopback: what a task could point at inside the controller's network. */
async function startFileServer(): Promise<{ url: string; hits: () => number; close: () => Promise<void> }> {
  let hits = 0;
  const server = http.createServer((_req, res) => {
    hits++;
    res.writeHead(200).end('from-loopback');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    hits: () => hits,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

async function freePort(): Promise<number> {
  const probe = http.createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const port = (probe.address() as AddressInfo).port;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

const errorLine = (out: string): string => out.split('\n').find((l) => l.startsWith('[ERROR]')) ?? '';

describe('the controller reads task data only where its policy allows', () => {
  let controller: ControllerProcess;
  let fixture: FixtureProcess;
  let files: Awaited<ReturnType<typeof startFileServer>>;
  const base = tempDir('data-policy');
  const root = path.join(base, 'root');
  const other = path.join(base, 'other');
  const outside = path.join(base, 'outside');

  beforeAll(async () => {
    for (const dir of [root, other, outside]) fs.mkdirSync(dir);
    fs.writeFileSync(path.join(root, 'req.txt'), 'inside-root');
    fs.writeFileSync(path.join(outside, 'secret.txt'), 'outside-secret');
    fs.symlinkSync(path.join(outside, 'secret.txt'), path.join(root, 'link.txt'));
    files = await startFileServer();
    fixture = await startFixture(['--latency-ms', '1']);
    // the data dir lies under a root, and the roots come in the env form, one list
    controller = await startController({ dataDir: path.join(root, 'controller'), env: { EAS_BENCH_DATA_ROOT: [other, root].join(path.delimiter) } });
  });
  afterAll(async () => {
    await controller?.stop();
    await fixture?.stop();
    await files?.close();
    killAllStarted();
    fs.rmSync(base, { recursive: true, force: true });
  });

  const runTask = async (source: string) => {
    await fixture.reset();
    const task = writeTask(base, { service: { serviceName: 'demo', url: `${fixture.url}/p` }, data: { path: source }, optional: { mode: 'manual', concurrency: 1, duration: 60, requestCount: 3 } });
    return runEascmd(['-c', controller.configFile, 'bench', 'create', task, '--wait', '--json']);
  };

  test.each([
    ['/etc/passwd', () => '/etc/passwd', OUTSIDE],
    ['/proc/self/environ', () => '/proc/self/environ', OUTSIDE],
    ['its own credentials file, under a root', () => path.join(controller.dataDir, 'credentials.json'), OUTSIDE],
    ['a symlink in a root to a file outside', () => path.join(root, 'link.txt'), OUTSIDE],
    ['root/../outside', () => `${root}/../outside/secret.txt`, OUTSIDE],
    ['a file:// URL outside', () => `file://${outside}/secret.txt`, OUTSIDE],
    ['an http source on 127.0.0.1 (no --allow-private-data)', () => `${files.url}/x.txt`, PRIVATE],
  ])('%s: CreateFailed, refused by policy, nothing sent', async (_label, source, reason) => {
    const res = await runTask(source());
    expect(res.code).toBe(98); // --wait: a task that failed to start has no result (SPEC 7)
    const line = errorLine(res.stdout + res.stderr);
    expect(line).toContain(`[ERROR] CreateFailed: data source ${source()}: ${reason}`);
    expect(line).not.toMatch(/outside-secret|root:|keys/);
    expect((await fixture.stats()).requests).toBe(0);
    expect(files.hits()).toBe(0);
  });

  test('after the refusals the controller still runs tasks: a file inside a root is sent', async () => {
    const res = await runTask(path.join(root, 'req.txt'));
    expect(res.code).toBe(0);
    expect((await fixture.stats()).bodies).toEqual({ [sha('inside-root')]: 3 });
  });
});

describe('the embedded controller allows the working directory and home, and private addresses', () => {
  const home = tempDir('embedded-home');
  const dataDir = controllerDataDir(home);
  let fixture: FixtureProcess;
  let files: Awaited<ReturnType<typeof startFileServer>>;
  let configPath = '';

  beforeAll(async () => {
    fs.writeFileSync(path.join(home, 'req.txt'), 'from-home');
    fixture = await startFixture(['--latency-ms', '1']);
    files = await startFileServer();
    configPath = path.join(home, '.eas', 'config');
    await ensureEmbeddedController({ configPath, home, endpoint: `http://127.0.0.1:${await freePort()}`, notify: () => undefined, startTimeoutMs: 20000 });
  });
  afterAll(async () => {
    // the embedded controller is detached: stop it by the pid it wrote
    const pidFile = path.join(dataDir, 'controller.pid');
    if (fs.existsSync(pidFile)) {
      const pid = Number(fs.readFileSync(pidFile, 'utf8').trim());
      process.kill(pid, 'SIGTERM');
      await waitFor('the embedded controller to exit', () => !fs.existsSync(pidFile), 20000).catch(() => process.kill(pid, 'SIGKILL'));
    }
    await fixture?.stop();
    await files?.close();
    killAllStarted();
    fs.rmSync(home, { recursive: true, force: true });
  });

  const runTask = async (source: string) => {
    await fixture.reset();
    const task = writeTask(home, { service: { serviceName: 'demo', url: `${fixture.url}/p` }, data: { path: source }, optional: { mode: 'manual', concurrency: 1, duration: 60, requestCount: 2 } });
    return runEascmd(['-c', configPath, 'bench', 'create', task, '--wait', '--json'], { env: { HOME: home } });
  };

  test('a file in home and an http source on loopback are sent', async () => {
    expect((await runTask(path.join(home, 'req.txt'))).code).toBe(0);
    expect((await fixture.stats()).bodies).toEqual({ [sha('from-home')]: 2 });
    expect((await runTask(`${files.url}/data.txt`)).code).toBe(0);
    expect((await fixture.stats()).bodies).toEqual({ [sha('from-loopback')]: 2 });
  });

  test('its own credentials file in home and /etc/passwd are refused', async () => {
    for (const source of [path.join(dataDir, 'credentials.json'), '/etc/passwd']) {
      const res = await runTask(source);
      expect(errorLine(res.stdout + res.stderr)).toContain(`[ERROR] CreateFailed: data source ${source}: ${OUTSIDE}`);
    }
    expect((await fixture.stats()).requests).toBe(0);
  });
});
