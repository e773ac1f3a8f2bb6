import * as fs from 'node:fs';
import * as path from 'node:path';
import { ControllerProcess, FixtureProcess, killAllStarted, runEascmd, startController, startFixture, tempDir, waitFor, writeTask } from '../helpers/processes';
import { createTask, detail, get, reportFiles, Series } from '../helpers/reliability';
import { canMountSmallDisk, mountSmallDisk, SmallDisk } from '../helpers/tmpfs';

afterAll(() => killAllStarted());

/** What the task's folder on disk holds: every line must be whole JSON. */
function onDisk(dataDir: string, name: string): { status: string; seconds: { point: { Time: number; Requests: number } }[]; events: { Kind: string; Message: string }[]; leftovers: string[] } {
  const dir = path.join(dataDir, 'tasks', name);
  const lines = (file: string) => fs.readFileSync(path.join(dir, file), 'utf8').split('\n').filter(Boolean).map((line) => JSON.parse(line) as never);
  return {
    status: (JSON.parse(fs.readFileSync(path.join(dir, 'task.json'), 'utf8')) as { status: string }).status,
    seconds: lines('round-10001.seconds.ndjson'),
    events: lines('round-10001.events.ndjson'),
    leftovers: fs.readdirSync(dir).filter((f) => f.endsWith('.tmp')),
  };
}

// A real full disk: a small tmpfs as the data dir, filled to ENOSPC mid-run. Mounting needs root.
const mountable = canMountSmallDisk();
if (!mountable) console.warn('full-disk tests skipped: this machine does not allow mounting a tmpfs (run as root)');
const onSmallDisk = mountable ? describe : describe.skip;

onSmallDisk('a full data dir', () => {
  let disk: SmallDisk;
  let dataDir: string;
  let fixture: FixtureProcess;
  let controller: ControllerProcess;
  beforeAll(async () => {
    disk = mountSmallDisk(4 * 1024 * 1024)!;
    dataDir = path.join(disk.dir, 'data');
    fixture = await startFixture(['--latency-ms', '2']);
    controller = await startController({ dataDir });
  });
  afterAll(async () => {
    await controller?.stop();
    await fixture?.stop();
    disk?.unmount();
  });
  afterEach(() => disk.free());

  test('mid-run: the run goes on, the Message says so, and every second reaches the disk once there is room', async () => {
    await fixture.reset();
    const name = await createTask(controller, { service: { serviceName: 'demo', url: `${fixture.url}/x` }, optional: { mode: 'manual', concurrency: 2, duration: 16 } });
    const seriesLength = async (): Promise<number> => ((await get(controller, `/api/v2/benchmark-tasks/cn-local/${name}/stats`)) as unknown as Series).Series.length;
    // the disk fills once a few seconds of the run are on it
    await waitFor('seconds of the run written', async () => onDisk(dataDir, name).seconds.length >= 2, 20000, 100);
    disk.fill();
    const troubled = await waitFor('the full disk noticed', async () => {
      const d = await detail(controller, name);
      return d.Events.some((e) => e.Kind === 'storage') ? d : undefined;
    }, 10000);
    expect(troubled.Status).toBe('Running');
    expect(troubled.Message).toMatch(/\[data dir cannot be written \(ENOSPC\): \d+ lines? of data held in memory until it can\]$/);
    const described = await runEascmd(['-c', controller.configFile, 'bench', 'desc', name]);
    expect(described.stdout).toContain('data dir cannot be written (ENOSPC)');
    // the live views keep every second while the disk refuses them
    const before = await seriesLength();
    await waitFor('two more seconds in the live views', async () => (await seriesLength()) >= before + 2, 10000, 100);
    const during = (await get(controller, `/api/v2/benchmark-tasks/cn-local/${name}/stats`)) as unknown as Series;
    expect(during.Series.length).toBeGreaterThanOrEqual(before + 2);
    // nothing on disk is torn or half-written meanwhile
    const held = onDisk(dataDir, name);
    expect(held.status).toBe('Running');
    expect(held.seconds.length).toBeLessThan(during.Series.length);
    expect(held.leftovers).toEqual([]);
    disk.free();
    await waitFor('the disk writable again', async () => (await detail(controller, name)).Events.some((e) => /can be written again/.test(e.Message)), 10000);
    const end = await waitFor('Stopped', async () => {
      const d = await detail(controller, name);
      return d.Status === 'Stopped' ? d : undefined;
    }, 30000);
    expect(end.Message).not.toContain('data dir cannot be written');
    const stats = (await get(controller, `/api/v2/benchmark-tasks/cn-local/${name}/stats`)) as unknown as Series;
    const saved = onDisk(dataDir, name);
    expect(saved.status).toBe('Stopped');
    expect(saved.seconds.map((s) => s.point.Time)).toEqual(stats.Series.map((p) => p.Time));
    expect(saved.seconds.map((s) => s.point.Requests)).toEqual(stats.Series.map((p) => p.Requests));
    expect(saved.events.filter((e) => e.Kind === 'storage').map((e) => e.Message)).toEqual([
      expect.stringContaining('cannot write to the data dir (ENOSPC)'),
      expect.stringContaining('can be written again'),
    ]);
    expect(end.Result!.TotalRequests).toBe((await fixture.stats()).requests);
    expect(reportFiles(dataDir, name)).toHaveLength(1);
  });

  test('till the end of the run: the report waits for room, then everything is written', async () => {
    const name = await createTask(controller, { service: { serviceName: 'demo', url: `${fixture.url}/x` }, optional: { mode: 'manual', concurrency: 2, duration: 6 } });
    disk.fill();
    const stopped = await waitFor('Stopped', async () => {
      const d = await detail(controller, name);
      return d.Status === 'Stopped' ? d : undefined;
    }, 30000);
    expect(stopped.Message).toContain('report not written');
    expect(stopped.Message).toContain('data dir cannot be written (ENOSPC)');
    const report = await runEascmd(['-c', controller.configFile, 'bench', 'report', name]);
    expect(report.code).not.toBe(0);
    expect(report.stderr.trim()).toMatch(/^\[ERROR\] ReportNotFound: .*ENOSPC.*it is written when the data dir can be written again/);
    // the controller still answers while its disk is full
    const stats = (await get(controller, `/api/v2/benchmark-tasks/cn-local/${name}/stats`)) as unknown as Series;
    expect(stats.Series.length).toBeGreaterThan(0);
    disk.free();
    const written = await waitFor('the report', async () => {
      const res = await runEascmd(['-c', controller.configFile, 'bench', 'report', name]);
      return res.code === 0 ? res : undefined;
    }, 15000, 500);
    expect(written.stdout).toMatch(new RegExp(`${name}-10001-[0-9a-f]{32}\\.html`));
    const saved = onDisk(dataDir, name);
    expect(saved.status).toBe('Stopped');
    expect(saved.seconds.map((s) => s.point.Time)).toEqual(stats.Series.map((p) => p.Time));
    expect((await detail(controller, name)).Message).not.toMatch(/report not written|cannot be written/);
  });

  test('creating a task on a full disk is one clear error and leaves nothing behind', async () => {
    const tasksBefore = fs.readdirSync(path.join(dataDir, 'tasks'));
    disk.fill();
    const dir = tempDir('full-create');
    const res = await runEascmd(['-c', controller.configFile, 'bench', 'create', writeTask(dir, { service: { serviceName: 'demo', url: `${fixture.url}/x` }, optional: { mode: 'manual', duration: 5 } })]);
    expect(res.code).not.toBe(0);
    expect(res.stderr.trim()).toMatch(/^\[ERROR\] StorageFull: cannot save task benchmark-demo-\S+: the data dir is full \(ENOSPC\)$/);
    expect(fs.readdirSync(path.join(dataDir, 'tasks'))).toEqual(tasksBefore);
    const listed = (await get(controller, '/api/v2/benchmark-tasks')) as { Tasks: { TaskName: string }[] };
    expect(listed.Tasks.map((t) => t.TaskName).sort()).toEqual([...tasksBefore].sort());
  });

  test('after a restart, the task written through a full disk reads back whole', async () => {
    const listed = (await get(controller, '/api/v2/benchmark-tasks')) as { Tasks: { TaskName: string }[] };
    const before = await Promise.all(listed.Tasks.map(async (t) => (await get(controller, `/api/v2/benchmark-tasks/cn-local/${t.TaskName}/stats`)) as unknown as Series & { Result: { TotalRequests: number } }));
    expect(before.map((b) => b.Status)).toEqual(listed.Tasks.map(() => 'Stopped'));
    await controller.stop();
    controller = await startController({ dataDir });
    for (const [i, t] of listed.Tasks.entries()) {
      const after = (await get(controller, `/api/v2/benchmark-tasks/cn-local/${t.TaskName}/stats`)) as unknown as Series & { Result: { TotalRequests: number } };
      expect(after.Series).toEqual(before[i].Series);
      expect(after.Result.TotalRequests).toBe(before[i].Result.TotalRequests);
    }
  });
});
