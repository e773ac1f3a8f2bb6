import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import * as path from 'node:path';
import { startTargetService, TargetService } from '../../fixtures/target-service';
import { ensureEmbeddedController, localPaths } from '../../src/api/embedded';
import { isAlive } from '../../src/api/local-controller';
import { waitFor } from '../helpers/processes';
import { runCli, tempHome } from '../unit/cli-run-helper';

/**
 * `eascmd controller status|stop|logs` against a real background controller,
 * started as the embedded default starts it (detached, data dir
 * `<home>/.eas/controller`, its log there), on a free port rather than 8020,
 * and stopped at the end whatever happens.
 */

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

describe('eascmd controller: the background controller seen, followed and stopped', () => {
  const home = tempHome();
  const paths = localPaths(home);
  let endpoint = '';
  let target: TargetService;
  let pid = 0;
  const version = (JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'package.json'), 'utf8')) as { version: string }).version;

  beforeAll(async () => {
    target = await startTargetService();
    endpoint = `http://127.0.0.1:${await freePort()}`;
    // the embedded flow itself: writes <home>/.eas/config with the controller's key
    await ensureEmbeddedController({ configPath: path.join(home, '.eas', 'config'), home, endpoint, notify: () => undefined });
    pid = Number(fs.readFileSync(paths.pidFile, 'utf8'));
  });
  afterAll(async () => {
    // never leave it running: SIGTERM (it ends its agents), then wait
    if (pid > 0 && isAlive(pid)) {
      process.kill(pid, 'SIGTERM');
      await waitFor('the controller to exit', () => !isAlive(pid), 30000, 100);
    }
    await target.close();
  });

  const cli = (args: string[]) => runCli(args, { home });

  test('status names its URL, pid, data dir, version and running tasks (the config points at it, so no --endpoint)', async () => {
    const file = path.join(home, 'task.json');
    fs.writeFileSync(file, JSON.stringify({ service: { serviceName: 'demo', url: target.url }, optional: { mode: 'manual', agentCount: 1, concurrency: 1, maxQPS: 5, duration: 600 } }));
    const created = await cli(['bench', 'create', file]);
    expect(created.code).toBe(0);
    const name = /Task \[(\S+)\]/.exec(created.stdout)?.[1] ?? '';
    const res = await cli(['controller', 'status']);
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    expect(res.stdout).toContain(`[OK] The local controller is running at ${endpoint}\n`);
    for (const [key, value] of [
      ['Url', endpoint],
      ['Pid', String(pid)],
      ['DataDir', '~/.eas/controller'],
      ['LogFile', '~/.eas/controller/controller.log'],
      ['Version', version],
      ['RunningTasks', `${name} (Running)`],
    ]) {
      expect(res.stdout).toMatch(new RegExp(`\\| +${key} \\| ${value.replace(/[.()]/g, '\\$&')} +\\|`));
    }
    const json = JSON.parse((await cli(['--json', 'controller', 'status'])).stdout) as Record<string, unknown>;
    expect(json).toMatchObject({ Running: true, Url: endpoint, Pid: pid, DataDir: paths.dataDir, Version: version, StartedByEascmd: true, RunningTasks: [{ TaskName: name, Status: 'Running' }] });
  });

  test('logs prints the log; -f follows what is appended until CTRL+C', async () => {
    const logs = await cli(['controller', 'logs']);
    expect(logs.code).toBe(0);
    expect(logs.stdout).toContain(`eascmd-controller listening on ${endpoint}`);
    expect((await cli(['controller', 'logs', '-n', '1'])).stdout.split('\n').filter(Boolean)).toHaveLength(1);

    const before = process.listenerCount('SIGINT');
    const following = cli(['controller', 'logs', '-f', '-n', '0']);
    await waitFor('logs -f to follow', () => process.listenerCount('SIGINT') > before, 10000, 10);
    fs.appendFileSync(paths.logFile, 'a line appended while following\n');
    // the follower polls every few ms in tests; give it a moment, then CTRL+C
    await new Promise((resolve) => setTimeout(resolve, 300));
    process.emit('SIGINT');
    const res = await following;
    expect(res.code).toBe(0);
    expect(res.stdout.endsWith('a line appended while following\n')).toBe(true);
  });

  test('stop ends it as SIGTERM does: the running round ends and its report is written; then status says it is not running', async () => {
    const res = await cli(['controller', 'stop']);
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    expect(res.stdout).toBe(`[OK] Stopped the local controller at ${endpoint} (pid ${pid}); its running rounds ended and their reports were written\n`);
    expect(isAlive(pid)).toBe(false);
    expect(fs.existsSync(paths.pidFile)).toBe(false);
    const reports = fs.readdirSync(path.join(paths.dataDir, 'reports', 'summary'));
    expect(reports.some((f) => /^benchmark-demo-[0-9a-f]{4}-10001-[0-9a-f]+\.html$/.test(f))).toBe(true);
    expect(fs.readFileSync(paths.logFile, 'utf8')).toContain('SIGTERM: stopping running tasks and writing their reports');
    const status = await cli(['controller', 'status']);
    expect(status.stdout).toBe(`[OK] The local controller is not running (nothing answers at ${endpoint}; data dir ~/.eas/controller); any eascmd bench command starts it\n`);
    expect((await cli(['controller', 'stop'])).code).toBe(0);
  });

  test('something on the port that names the pid file\'s pid but cannot prove it holds the data dir\'s key is never signalled', async () => {
    const victim = spawn('sleep', ['60'], { stdio: 'ignore' });
    const victimPid = victim.pid ?? 0;
    const claim = JSON.stringify({ Status: 'ok', Region: 'x', RequestId: 'R', Version: '0', Pid: victimPid, Proof: '0'.repeat(64) });
    const other = http.createServer((_req, res) => res.setHeader('Content-Type', 'application/json').end(claim));
    await new Promise<void>((resolve, reject) => {
      other.once('error', reject);
      other.listen(0, '127.0.0.1', resolve);
    });
    const elsewhere = `http://127.0.0.1:${(other.address() as net.AddressInfo).port}`;
    const hadPidFile = fs.existsSync(paths.pidFile);
    try {
      fs.writeFileSync(paths.pidFile, `${victimPid}\n`);
      const res = await cli(['controller', 'stop', '--endpoint', elsewhere]);
      expect(res.code).toBe(1);
      expect(res.stderr).toContain(`(pid unknown) was not started by eascmd from ${paths.dataDir} (its pid file names ${victimPid})`);
      expect(isAlive(victimPid)).toBe(true);
      const status = JSON.parse((await cli(['--json', 'controller', 'status', '--endpoint', elsewhere])).stdout) as Record<string, unknown>;
      expect(status).toMatchObject({ Running: true, StartedByEascmd: false });
      expect(status.Pid).toBeUndefined();
    } finally {
      victim.kill('SIGKILL');
      if (!hadPidFile) fs.rmSync(paths.pidFile, { force: true });
      else fs.writeFileSync(paths.pidFile, `${pid}\n`);
      other.closeAllConnections();
      await new Promise((resolve) => other.close(resolve));
    }
  });

  test('a pid file that is not the answering controller\'s is never signalled', async () => {
    // something else answering as a controller at --endpoint: the pid file names another pid
    const other = http.createServer((_req, res) => res.setHeader('Content-Type', 'application/json').end('{"Status":"ok","Region":"x","Version":"0","Pid":1}'));
    await new Promise<void>((resolve, reject) => {
      other.once('error', reject);
      other.listen(0, '127.0.0.1', resolve);
    });
    const elsewhere = `http://127.0.0.1:${(other.address() as net.AddressInfo).port}`;
    const hadPidFile = fs.existsSync(paths.pidFile);
    try {
      fs.writeFileSync(paths.pidFile, `${process.pid}\n`);
      const res = await cli(['controller', 'stop', '--endpoint', elsewhere]);
      expect(res.code).toBe(1);
      expect(res.stderr).toBe(`[ERROR] InvalidParameter: the controller at ${elsewhere} (pid unknown) was not started by eascmd from ${paths.dataDir} (its pid file names ${process.pid}); stop it where it was started\n`);
    } finally {
      if (!hadPidFile) fs.rmSync(paths.pidFile, { force: true });
      else fs.writeFileSync(paths.pidFile, `${pid}\n`);
      other.closeAllConnections();
      await new Promise((resolve) => other.close(resolve));
    }
  });
});
