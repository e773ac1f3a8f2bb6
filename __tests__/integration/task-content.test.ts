import * as fs from 'node:fs';
import * as path from 'node:path';
import { API_PREFIX } from '../../src/contract';
import { createTask, idleLauncher, startInProcessController, waitForStatus } from '../helpers/controller';

/**
 * A task's long data.content is kept in its folder, not in its record: a task
 * that ends CreateFailed (or any final one) holds none of it in memory for
 * its retention, and task.json, rewritten at every change, stays small.
 */
describe('a long data.content is kept on disk, not in memory', () => {
  // 1 MiB of body: what desc shows and what a new round reads back must be exact
  const body = Buffer.from(Array.from({ length: 1 << 20 }, (_, i) => (i * 7919) % 256));
  const content = body.toString('base64');
  const task = { service: { serviceName: 'demo', url: 'http://127.0.0.1:1/x' }, data: { content }, optional: { mode: 'manual', agentCount: 1, concurrency: 1, duration: 60 } };

  test('a task that ends CreateFailed keeps no content in its record; desc cuts it, ?config=whole reads it back', async () => {
    // agents that never connect: the round fails after it was prepared, so its prepared bodies existed
    const c = await startInProcessController({ agentConnectTimeoutS: 1 }, { launcher: idleLauncher });
    try {
      const name = await createTask(c, task);
      await waitForStatus(c, name, ['CreateFailed']);
      const entry = c.controller.manager.entry(name);
      expect(entry.record.spec.data).toEqual({});
      expect(entry.record.storedContent).toEqual({ length: content.length, head: content.slice(0, 64) });
      expect(entry.runner).toBeUndefined();
      expect(JSON.stringify(entry.record).length).toBeLessThan(4096);
      const taskJson = path.join(c.dataDir, 'tasks', name, 'task.json');
      expect(fs.statSync(taskJson).size).toBeLessThan(4096);

      const shown = await c.call('GET', `${API_PREFIX}/${c.region}/${name}`);
      expect((shown.json.Config as { data: { content: string } }).data.content).toBe(`${content.slice(0, 64)}... (cut: ${content.length} base64 characters in all)`);
      const whole = await c.call('GET', `${API_PREFIX}/${c.region}/${name}?config=whole`);
      expect((whole.json.Config as { data: { content: string } }).data.content).toBe(content);
    } finally {
      await c.close();
    }
  });

  test('a task.json of before, with its content inline, has it moved to the folder at recovery; an update keeps it there', async () => {
    const first = await startInProcessController({ agentConnectTimeoutS: 1 }, { launcher: idleLauncher });
    const name = await createTask(first, task);
    await waitForStatus(first, name, ['CreateFailed']);
    await first.close();
    // what an older controller wrote: the content inside task.json, and no data.content file
    const dir = path.join(first.dataDir, 'tasks', name);
    const record = JSON.parse(fs.readFileSync(path.join(dir, 'task.json'), 'utf8')) as Record<string, unknown>;
    delete record.storedContent;
    fs.writeFileSync(path.join(dir, 'task.json'), JSON.stringify({ ...record, spec: { ...(record.spec as object), data: { content } } }));
    fs.rmSync(path.join(dir, 'data.content'));

    const again = await startInProcessController({ dataDir: first.dataDir, agentConnectTimeoutS: 1 }, { launcher: idleLauncher });
    try {
      const entry = again.controller.manager.entry(name);
      expect(entry.record.spec.data).toEqual({});
      expect(fs.readFileSync(path.join(dir, 'data.content'), 'utf8')).toBe(content);
      expect(fs.statSync(path.join(dir, 'task.json')).size).toBeLessThan(4096);

      const updated = await again.call('PUT', `${API_PREFIX}/${again.region}/${name}`, JSON.stringify({ optional: { concurrency: 2 } }));
      expect(updated.status).toBe(200);
      expect(entry.record.spec.data).toEqual({});
      expect(entry.record.spec.optional?.concurrency).toBe(2);
      expect(entry.wholeSpec().data?.content).toBe(content);
    } finally {
      await again.close();
    }
  });
});
