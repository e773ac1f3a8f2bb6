import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { TaskEvent } from '../../src/contract';
import { TaskRecord } from '../../controller/tasks/record';
import { TaskStore } from '../../controller/tasks/store';
import { tempDir } from '../helpers/processes';

/**
 * Makes `file` the device /dev/full is (char 1,7), whose every write fails with
 * ENOSPC: a full disk without a mount. A node of its own, not a link to
 * /dev/full: the store follows no link below the data dir. False where this
 * machine may not make device nodes (not root).
 */
function makeFullDevice(file: string): boolean {
  return spawnSync('mknod', [file, 'c', '1', '7']).status === 0;
}

const canMknod = ((): boolean => {
  const probe = path.join(tempDir('mknod-probe'), 'full');
  const made = makeFullDevice(probe);
  fs.rmSync(path.dirname(probe), { recursive: true, force: true });
  return made;
})();

/** A full disk without a mount: the events file is a /dev/full node (never read: it has no end). */
(canMknod ? describe : describe.skip)('TaskStore on a full disk', () => {
  const dataDir = tempDir('store-disk');
  const store = new TaskStore(dataDir, 20);
  const name = 'benchmark-demo-00aa';
  const record = { taskName: name, taskId: 'eas-b-x', status: 'Running', rounds: [] } as unknown as TaskRecord;
  const event = (message: string): TaskEvent => ({ Time: '2025-01-01 00:00:00', Kind: 'info', Message: message });

  afterAll(() => {
    store.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  test('a task whose lines wait is said unwritable once, then writable once every held line is on disk', async () => {
    const heard: string[] = [];
    store.watchDisk({ unwritable: (task, error) => heard.push(`unwritable ${task} ${error}`), writable: (task) => heard.push(`writable ${task}`) });
    store.save(record);
    const file = path.join(store.tasksDir, name, 'round-10001.events.ndjson');
    expect(makeFullDevice(file)).toBe(true);
    store.appendEvent(name, 10001, event('first'));
    store.appendEvent(name, 10001, event('second'));
    expect(heard).toEqual([`unwritable ${name} ENOSPC`]);
    expect(store.heldError(name)).toBe('ENOSPC');
    expect(store.pendingLines(name)).toBe(2);

    fs.unlinkSync(file);
    // read before the next retry (no await in between): the waiting lines are served from memory
    expect(store.readEvents(name, 10001).map((e) => e.Message)).toEqual(['first', 'second']);
    const deadline = Date.now() + 5000;
    while (heard.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(heard).toEqual([`unwritable ${name} ENOSPC`, `writable ${name}`]);
    expect(store.heldTasks()).toEqual([]);
    expect(fs.readFileSync(file, 'utf8').trim().split('\n').map((line) => (JSON.parse(line) as TaskEvent).Message)).toEqual(['first', 'second']);
  });
});
