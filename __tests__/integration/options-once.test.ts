import * as fs from 'node:fs';
import * as path from 'node:path';
import { TaskRecord } from '../../controller/tasks/record';
import { API_PREFIX, LoadShape } from '../../src/contract';
import { createTask, InProcessController, startInProcessController, waitForStatus } from '../helpers/controller';
import { ListeningLauncher } from '../helpers/listening-agents';
import { tempDir, waitFor } from '../helpers/processes';

/**
 * A task's options are resolved once (at create), merged at update, stored
 * beside the task JSON and read from there by what runs the round: the
 * agent is told the stored value, under the name the task JSON gives it.
 */

const TASK = { service: { serviceName: 'opts', url: 'http://127.0.0.1:9/' }, optional: { mode: 'manual', concurrency: 3, duration: 600 } };

describe('options resolved once', () => {
  const dataDir = tempDir('options-once');
  let controller: InProcessController | undefined;
  let agents = new ListeningLauncher();
  let name = '';

  const start = async (): Promise<InProcessController> => {
    agents = new ListeningLauncher();
    controller = await startInProcessController({ dataDir }, { launcher: agents });
    return controller;
  };
  const stopController = async (): Promise<void> => {
    await controller?.close();
    controller = undefined;
  };
  const taskFile = (): string => path.join(dataDir, 'tasks', name, 'task.json');
  const stored = (): TaskRecord => JSON.parse(fs.readFileSync(taskFile(), 'utf8')) as TaskRecord;
  const rewrite = (change: (record: Record<string, unknown>) => void): void => {
    const record = JSON.parse(fs.readFileSync(taskFile(), 'utf8')) as Record<string, unknown>;
    change(record);
    fs.writeFileSync(taskFile(), JSON.stringify(record));
  };
  const toldLoad = (want: Partial<LoadShape>): Promise<LoadShape> =>
    waitFor(`an agent told ${JSON.stringify(want)}`, () => agents.loads.find((load) => Object.entries(want).every(([k, v]) => (load as unknown as Record<string, unknown>)[k] === v)));
  const stopTask = async (c: InProcessController): Promise<void> => {
    expect((await c.call('PUT', `${API_PREFIX}/${c.region}/${name}/stop`)).status).toBe(200);
    await waitForStatus(c, name, ['Stopped']);
  };

  afterAll(async () => {
    await stopController();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  test('an update merges into the stored options, and the agent is told the merged value as its load.concurrency', async () => {
    const c = await start();
    name = await createTask(c, TASK);
    await toldLoad({ kind: 'closed', concurrency: 3 });
    expect(stored().options).toMatchObject({ mode: 'manual', concurrency: 3, maxQPS: null, durationS: 600 });

    const res = await c.call('PUT', `${API_PREFIX}/${c.region}/${name}`, JSON.stringify({ optional: { concurrency: 7, maxQPS: 40 } }));
    expect(res.status).toBe(200);
    expect(await toldLoad({ kind: 'closed', concurrency: 7 })).toEqual({ kind: 'closed', concurrency: 7, maxQps: 40 });
    const record = stored();
    expect(record.options).toMatchObject({ concurrency: 7, maxQPS: 40, durationS: 600 });
    // the task JSON as shown keeps the user's names and values
    expect(record.spec.optional).toMatchObject({ mode: 'manual', concurrency: 7, maxQPS: 40, duration: 600 });
    await stopTask(c);
    await stopController();
  });

  test('a round runs the stored options, not the task JSON resolved again', async () => {
    // the stored options say 9 workers where the spec says 7: only a round that reads the stored value tells 9
    rewrite((record) => {
      (record.options as Record<string, unknown>).concurrency = 9;
    });
    const c = await start();
    expect((await c.call('PUT', `${API_PREFIX}/${c.region}/${name}/start`)).status).toBe(200);
    expect(await toldLoad({ kind: 'closed' })).toEqual({ kind: 'closed', concurrency: 9, maxQps: 40 });
    await stopTask(c);
    await stopController();
  });

  test('a task stored without resolved options (an older version) loads and runs as before', async () => {
    rewrite((record) => {
      delete record.options;
    });
    const c = await start();
    const detail = await waitForStatus(c, name, ['Stopped']);
    expect(detail.Config.optional).toMatchObject({ mode: 'manual', concurrency: 7, maxQPS: 40 });
    expect((await c.call('PUT', `${API_PREFIX}/${c.region}/${name}/start`)).status).toBe(200);
    expect(await toldLoad({ kind: 'closed' })).toEqual({ kind: 'closed', concurrency: 7, maxQps: 40 });
    // resolved once when loaded, and stored with the record's next change
    expect(stored().options).toMatchObject({ mode: 'manual', concurrency: 7, maxQPS: 40, durationS: 600 });
    await stopTask(c);
  });
});
