import * as fs from 'node:fs';
import * as path from 'node:path';
import { createController } from '../../controller/app';
import { FileReportStore } from '../../controller/storage/file-store';
import { TaskStore } from '../../controller/tasks/store';
import { idleLauncher, startInProcessController } from '../helpers/controller';
import { tempDir } from '../helpers/processes';

/**
 * The controller never reads, writes or serves outside its data dir: a
 * symbolic link planted below it (a task folder, a file of one, a report or
 * a report folder, the credentials file) is refused, never followed. Every
 * test puts real links in a temp dir and checks what is outside is untouched.
 */
describe('links below the data dir are not followed', () => {
  const NAME = 'benchmark-linked-0001';

  /** A folder outside the data dir, and what it held before: compared after. */
  function outside(files: Record<string, string>): { dir: string; unchanged(): void } {
    const dir = tempDir('outside');
    for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), text);
    const before = fs.readdirSync(dir).sort().map((f) => [f, fs.readFileSync(path.join(dir, f), 'utf8')]);
    return { dir, unchanged: () => expect(fs.readdirSync(dir).sort().map((f) => [f, fs.readFileSync(path.join(dir, f), 'utf8')])).toEqual(before) };
  }

  test('recovery: a task folder that is a link to a folder outside is skipped, and nothing there is rewritten', async () => {
    const record = { taskName: NAME, taskId: 'eas-b-1', region: 'cn-local', serviceName: 'demo', spec: { service: { serviceName: 'demo', url: 'http://127.0.0.1:1/x' } }, status: 'Running', message: 'running', createMs: 1, updateMs: 1, desiredAgent: 1, rounds: [{ roundId: 10001, startMs: 1 }], agentToken: 't' };
    const away = outside({ 'task.json': JSON.stringify(record) });
    const dataDir = tempDir('links-recovery');
    fs.mkdirSync(path.join(dataDir, 'tasks'), { recursive: true });
    fs.symlinkSync(away.dir, path.join(dataDir, 'tasks', NAME));
    const lines: string[] = [];
    const c = await createController({ port: 0, dataDir }, { launcher: idleLauncher, log: (line) => lines.push(line) });
    try {
      expect(c.manager.has(NAME)).toBe(false);
      expect(lines.join('\n')).toContain(`task folder "${NAME}" skipped: it is a symbolic link, not a folder: left alone, never followed`);
    } finally {
      await c.close();
    }
    away.unchanged();
  });

  test('the task store: a linked task.json is replaced, not written through; a linked log or folder is refused (ELOOP), its lines held', () => {
    const dataDir = tempDir('links-store');
    const store = new TaskStore(dataDir, 3_600_000);
    const record = { taskName: NAME, taskId: 'eas-b-1', region: 'cn-local', serviceName: 'demo', spec: { service: { serviceName: 'demo' } }, status: 'Stopped', message: '', createMs: 1, updateMs: 1, desiredAgent: 1, rounds: [], agentToken: 't' } as unknown as Parameters<TaskStore['save']>[0];
    store.save(record);
    const away = outside({ 'victim.json': 'keep me', 'victim.ndjson': 'keep me too\n' });
    const dir = path.join(dataDir, 'tasks', NAME);
    fs.rmSync(path.join(dir, 'task.json'));
    fs.symlinkSync(path.join(away.dir, 'victim.json'), path.join(dir, 'task.json'));
    store.save(record);
    expect(fs.lstatSync(path.join(dir, 'task.json')).isSymbolicLink()).toBe(false);

    fs.symlinkSync(path.join(away.dir, 'victim.ndjson'), path.join(dir, 'round-10001.events.ndjson'));
    const appended = store.appendEvent(NAME, 10001, { Time: '2026-01-01 00:00:00', Kind: 'status', Message: 'x' } as never);
    expect(appended).toMatchObject({ written: false, error: 'ELOOP' });
    expect(store.readEvents(NAME, 10001)).toHaveLength(1); // held in memory, served from there

    // the whole folder swapped for a link: neither a save nor an append reaches outside
    fs.rmSync(dir, { recursive: true });
    fs.symlinkSync(away.dir, dir);
    expect(() => store.save(record)).toThrow(/ELOOP/);
    expect(store.appendSecond(NAME, 10001, { point: {} } as never).written).toBe(false);
    expect(() => store.readContent(NAME)).toThrow(/cannot read the data/);
    store.close();
    away.unchanged();
  });

  test('recovery: a corrupt task is not moved into a `quarantine` that is a link outside', () => {
    const away = outside({ 'kept.txt': 'x' });
    const dataDir = tempDir('links-quarantine');
    const dir = path.join(dataDir, 'tasks', NAME);
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'task.json'), '{ not json');
    fs.symlinkSync(away.dir, path.join(dataDir, 'quarantine'));
    const skipped: string[] = [];
    new TaskStore(dataDir).loadAll((name, reason) => skipped.push(`${name}: ${reason}`));
    expect(skipped).toEqual([expect.stringMatching(new RegExp(`^${NAME}: its task.json is not a task record; left in place: .*quarantine is a symbolic link`))]);
    expect(fs.existsSync(path.join(dir, 'task.json'))).toBe(true);
    away.unchanged();
  });

  test('reports: a link under reports/summary/ to a file outside, or a linked folder, is 404 without credentials; a real report is served', async () => {
    const away = outside({ 'shadow': 'root:secret-hash:19000:0:99999:7:::\n', 'x.html': '<p>outside</p>' });
    const c = await startInProcessController({}, { launcher: idleLauncher });
    try {
      const summary = path.join(c.dataDir, 'reports', 'summary');
      fs.mkdirSync(summary, { recursive: true });
      fs.writeFileSync(path.join(summary, 'real.html'), '<p>report</p>');
      fs.symlinkSync(path.join(away.dir, 'shadow'), path.join(summary, 'evil.html'));
      fs.symlinkSync(away.dir, path.join(summary, 'linked'));
      const get = async (p: string) => {
        const res = await fetch(`${c.url}${p}`);
        return { status: res.status, text: await res.text() };
      };
      expect(await get('/reports/summary/real.html')).toEqual({ status: 200, text: '<p>report</p>' });
      for (const p of ['/reports/summary/evil.html', '/reports/summary/linked/x.html', '/reports/summary/linked/shadow', '/reports/summary/%65vil.html']) {
        const res = await get(p);
        expect([p, res.status]).toEqual([p, 404]);
        expect(res.text).not.toContain('secret-hash');
        expect(res.text).not.toContain('outside');
      }
    } finally {
      await c.close();
    }
    away.unchanged();
  });

  test('the file report store writes and deletes nothing through a linked folder', async () => {
    const away = outside({ 'r.html': 'theirs' });
    const root = tempDir('links-reports');
    fs.symlinkSync(away.dir, path.join(root, 'summary'));
    const store = new FileReportStore(root, () => 'http://x');
    await expect(store.put('summary/r.html', Buffer.from('ours'))).rejects.toThrow(/symbolic link/);
    await expect(store.delete('summary/r.html')).rejects.toThrow(/symbolic link/);
    away.unchanged();
  });

  test('a credentials.json in the data dir that is a link is refused at start', async () => {
    const away = outside({ 'keys.json': JSON.stringify({ keys: [{ id: 'planted', secret: 'planted' }] }) });
    const dataDir = tempDir('links-credentials');
    fs.symlinkSync(path.join(away.dir, 'keys.json'), path.join(dataDir, 'credentials.json'));
    await expect(createController({ port: 0, dataDir }, { launcher: idleLauncher, log: () => undefined })).rejects.toThrow(/ELOOP/);
    away.unchanged();
  });
});
