import * as fs from 'node:fs';
import * as path from 'node:path';
import { TaskStore } from '../../controller/tasks/store';
import { resolveOptional, TaskSpec } from '../../src/contract';
import { tempDir } from '../helpers/processes';

/** What recovery does with task folders it cannot read: nothing is deleted on a guess. */
describe('TaskStore.loadAll with unreadable task folders', () => {
  const dataDir = tempDir('store');
  const tasks = path.join(dataDir, 'tasks');
  const store = new TaskStore(dataDir);
  const folder = (name: string, files: Record<string, string>): string => {
    const dir = path.join(tasks, name);
    fs.mkdirSync(dir, { recursive: true });
    for (const [file, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, file), text);
    return dir;
  };

  afterAll(() => fs.rmSync(dataDir, { recursive: true, force: true }));

  test('a crash leftover is removed, a corrupt record is moved aside, an unreadable one stays, a good one loads', () => {
    const good = { taskName: 'benchmark-good-0001', taskId: 'eas-b-x', status: 'Stopped', rounds: [] };
    folder('benchmark-good-0001', { 'task.json': JSON.stringify(good) });
    folder('benchmark-leftover-0002', { [`task.json.${process.pid}.tmp`]: '{"taskName":' });
    folder('benchmark-corrupt-0003', { 'task.json': '{ not json', 'seconds-10001.ndjson': '{"x":1}\n' });
    folder('benchmark-orphan-0004', { 'seconds-10001.ndjson': '{"x":1}\n' });
    // a task.json that cannot be read as a file (as root, permissions cannot make one unreadable)
    fs.mkdirSync(path.join(folder('benchmark-unreadable-0005', {}), 'task.json'));

    const skipped: string[] = [];
    const records = store.loadAll((name, reason) => skipped.push(`${name}: ${reason}`));

    expect(records.map((r) => r.taskName)).toEqual(['benchmark-good-0001']);
    expect(fs.existsSync(path.join(tasks, 'benchmark-leftover-0002'))).toBe(false);
    const quarantined = fs.readdirSync(path.join(dataDir, 'quarantine'));
    expect(quarantined.some((d) => d.startsWith('benchmark-corrupt-0003-'))).toBe(true);
    expect(quarantined.some((d) => d.startsWith('benchmark-orphan-0004-'))).toBe(true);
    const corrupt = quarantined.find((d) => d.startsWith('benchmark-corrupt-0003-')) ?? '';
    expect(fs.readFileSync(path.join(dataDir, 'quarantine', corrupt, 'seconds-10001.ndjson'), 'utf8')).toBe('{"x":1}\n');
    expect(fs.existsSync(path.join(tasks, 'benchmark-unreadable-0005', 'task.json'))).toBe(true);
    expect(skipped.join('\n')).toMatch(/benchmark-corrupt-0003: its task.json is not a task record; moved to .*quarantine/);
    expect(skipped.join('\n')).toMatch(/benchmark-unreadable-0005: its task.json cannot be read \(EISDIR\); left in place/);
  });
});

describe('TaskStore.loadAll with a record of an older version', () => {
  const dataDir = tempDir('store-options');
  const store = new TaskStore(dataDir);
  afterAll(() => fs.rmSync(dataDir, { recursive: true, force: true }));

  test('a task.json without resolved options has them resolved from its spec; stored options are kept as they are', () => {
    const spec = { service: { serviceName: 'old' }, optional: { mode: 'scan', duration: 60, minQPS: 20, qpsGrowthDelta: 10, adjustInterval: 15, maxQPS: 200, maxRT: 150, faultTolerate: 0.01, faultAction: 'stop' } };
    const write = (name: string, record: object): void => {
      fs.mkdirSync(path.join(dataDir, 'tasks', name), { recursive: true });
      fs.writeFileSync(path.join(dataDir, 'tasks', name, 'task.json'), JSON.stringify({ taskName: name, taskId: 'eas-b-x', status: 'Stopped', rounds: [], spec, ...record }));
    };
    write('benchmark-old-0001', {});
    write('benchmark-new-0002', { options: { ...resolveOptional(spec as TaskSpec), maxRtMs: 90 } });

    const byName = new Map(store.loadAll().map((r) => [r.taskName, r]));
    expect(byName.get('benchmark-old-0001')?.options).toEqual({
      mode: 'scan', durationS: 60, requestCount: null, agentCount: 1, concurrency: 2, minQPS: 20, qpsGrowthDelta: 10, adjustIntervalS: 15, maxQPS: 200, maxRtMs: 150, faultTolerate: 0.01, faultAction: 'stop',
    });
    expect(byName.get('benchmark-new-0002')?.options.maxRtMs).toBe(90);
  });
});
