import * as fs from 'node:fs';
import * as path from 'node:path';
import { startTargetService, TargetService } from '../../fixtures/target-service';
import { API_PREFIX, GetTaskResponse } from '../../src/contract';
import { createTask, deleteAllTasks, useInProcessController, waitForStatus } from '../helpers/controller';
import { normalise, readGolden } from '../helpers/golden';
import { waitFor } from '../helpers/processes';
import { InProcessResult, runCli, STATSVIEW_SERVED, tempHome, writeCliConfig } from '../unit/cli-run-helper';

/**
 * Every sample output of the reference's EASCMD section, byte for byte: the
 * real `eascmd` (in-process, no terminal, no --json) against the real
 * controller with real agents, compared with the reference's own text
 * (`__tests__/golden/`) after normalising names, ids, ports and times.
 *
 * The tests share one task's life, in the reference's order (create,
 * visualize, stop, start, report, delete), so that two shared cores run a
 * handful of agents, not one per sample. The controller serves the
 * reference's region, and the tasks are named from the reference's service
 * (`xgb_test`), so table columns are as wide as the reference's.
 */

const REGION = 'cn-shanghai';
/** The reference's own single-stress-test JSON (its "Single stress test" example), as written. */
const REFERENCE_TASK = {
  service: { serviceName: 'xgb_test' },
  data: {
    content:
      'W1sxLDAsMCwwLDEsMSwwLDEsMCwxLDEsMCwwLDEsMCwxLDAsMSwwLDAsMSwxLDEsMCwxLDEsMCwwLDAsMSwxLDEsMCwxLDEsMSwxLDAsMSwxLDEsMCwxLDAsMCwwLDEsMSwwLDAsMCwxLDAsMSwwLDEsMCwwLDEsMCwwLDEsMCwxLDAsMCwxLDAsMCwwLDAsMSwwLDEsMCwxLDAsMCwxLDEsMSwwLDAsMSwwLDAsMCwwLDEsMSwxLDAsMSwxLDAsMCwxLDAsMSwwLDEsMSwxLDEsMCwxLDAsMCwxLDEsMSwxLDAsMCwwLDEsMSwwXV0K',
  },
};
const REQUEST_ID_LINE = /^\[RequestId\]: [0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}$/m;

describe('golden outputs: every EASCMD sample of the reference', () => {
  const home = tempHome();
  // the controller reads the registry `bench service add` writes, as the embedded one does
  const ctl = useInProcessController({ region: REGION, servicesFile: path.join(home, '.eas', 'services.json') });
  let target: TargetService;
  /** The reference task's name once created. */
  let name = '';

  beforeAll(async () => {
    target = await startTargetService();
    writeCliConfig(home, ctl(), REGION);
  });
  afterAll(async () => {
    await deleteAllTasks(ctl());
    await target.close();
  });

  const cli = (args: string[], input?: string): Promise<InProcessResult> => runCli(args, { home, input });
  const detail = async (task: string): Promise<GetTaskResponse> => (await ctl().call('GET', `${API_PREFIX}/${REGION}/${task}`)).json as unknown as GetTaskResponse;

  /** Runs a command that ends in the statsview, and presses CTRL+C once the page is served (the task keeps running). */
  async function cliUntilStatsview(args: string[], input?: string): Promise<InProcessResult> {
    let printed = '';
    const pending = runCli(args, { home, input, onStdout: (text) => (printed = text) });
    let settled = false;
    void pending.finally(() => (settled = true));
    await waitFor('the statsview to be served', () => settled || printed.includes(STATSVIEW_SERVED), 60000, 10);
    if (!settled) process.emit('SIGINT');
    return pending;
  }

  function expectGolden(sample: string, got: InProcessResult, options: Parameters<typeof normalise>[1] = {}): void {
    expect(got.stderr).toBe('');
    expect(got.code).toBe(0);
    expect(normalise(got.stdout, options)).toBe(normalise(readGolden(sample), options));
  }

  async function stopAndWait(task: string): Promise<void> {
    await ctl().call('PUT', `${API_PREFIX}/${REGION}/${task}/stop`);
    await waitForStatus(ctl(), task, ['Stopped']);
  }

  test('before `bench service add`, the reference task fails naming the registry file and the command that fixes it', async () => {
    const file = path.join(home, 'task.json');
    fs.writeFileSync(file, JSON.stringify(REFERENCE_TASK));
    const res = await cli(['bench', 'create', file]);
    expect(res.code).toBe(1);
    expect(res.stderr).toBe(
      `[ERROR] ServiceNotFound: service xgb_test is not in the service registry ${path.join(home, '.eas', 'services.json')}; ` +
        'add it with: eascmd bench service add xgb_test URL [--token TOKEN], or give service.url in the task\n',
    );
  });

  test('create: the reference task JSON runs as written after one `bench service add`', async () => {
    const added = await cli(['bench', 'service', 'add', 'xgb_test', target.url]);
    expect(added).toEqual({ code: 0, stderr: '', stdout: `[OK] Service xgb_test added to ~/.eas/services.json: ${target.url}\n` });
    const res = await cliUntilStatsview(['bench', 'create', '--visualize', path.join(home, 'task.json')]);
    expectGolden('create', res);
    expect(res.stdout).toMatch(REQUEST_ID_LINE);
    name = /Task \[(\S+)\]/.exec(res.stdout)?.[1] ?? '';
    expect(name).toMatch(/^benchmark-xgb-test-[0-9a-f]{4}$/);
    // the round really sends the reference's body to the registered service
    await waitFor('requests at the target', () => target.stats().requests > 0, 30000, 50);
    expect(await detail(name)).toMatchObject({ Status: 'Running', ServiceName: 'xgb_test', Region: REGION, Mode: 'auto' });
  });

  test('desc cuts the long data.content in the table, saying so; --json has it whole', async () => {
    const content = REFERENCE_TASK.data.content;
    const table = await cli(['bench', 'desc', name]);
    // the value cells joined, without the spaces the cell's wrapping adds or takes
    const cells = table.stdout.split('\n').map((line) => line.split('|')[2] ?? '').join('').replace(/\s+/g, '');
    // the controller cuts it in what polls and tables read; --json asks for it whole
    expect(cells).toContain(`"content":"${content.slice(0, 64)}...(cut:${content.length}base64charactersinall)"`);
    expect(cells).not.toContain(content);
    const json = JSON.parse((await cli(['--json', 'bench', 'desc', name])).stdout) as GetTaskResponse;
    expect(json.Config.data?.content).toBe(content);
  });

  test('visualize', async () => {
    expectGolden('visualize', await cliUntilStatsview(['bench', 'visualize', name]));
  });

  test('stop (answered y on a piped stdin)', async () => {
    expectGolden('stop', await cli(['bench', 'stop', name], 'y\n'), { drainingAgents: true });
    expect((await detail(name)).Status).toBe('Stopped');
  });

  test('start', async () => {
    expectGolden('start', await cliUntilStatsview(['bench', 'start', '--visualize', name], 'y\n'));
    expect(await detail(name)).toMatchObject({ Status: 'Running', RoundId: 10002 });
    await stopAndWait(name);
  });

  test('report', async () => {
    // the reference's sample is of a task of service demo_test
    expectGolden('report', await cli(['bench', 'report', name]));
  });

  describe('a manual task of two agents', () => {
    let manual = '';
    beforeAll(async () => {
      // the reference's desc sample: 2 agents x 40, 1200 s; a QPS cap keeps two shared cores free
      manual = await createTask(ctl(), { service: { serviceName: 'xgb_test' }, optional: { mode: 'manual', agentCount: 1, concurrency: 1, duration: 1200, maxQPS: 4 } });
      await waitForStatus(ctl(), manual, ['Running']);
    });

    test('update -Doptional.concurrency=2 -Doptional.agentCount=1 (the reference command)', async () => {
      expectGolden('update', await cli(['bench', 'update', manual, '-Doptional.concurrency=2', '-Doptional.agentCount=1']));
      // then to the desc sample's shape
      expect((await cli(['bench', 'update', manual, '-Doptional.concurrency=40', '-Doptional.agentCount=2'])).code).toBe(0);
      await waitFor('2 agents', async () => (await detail(manual)).AvailableAgent === 2, 30000, 50);
    });

    test('ls: a Stopped task and a Running one of two agents', async () => {
      expectGolden('ls', await cli(['bench', 'ls']), { keepWidths: true });
    });

    test('desc: the rows, and the Config with its base block (where the sample is hand-edited, see below)', async () => {
      const res = await cli(['bench', 'desc', manual]);
      expect(res.stderr).toBe('');
      const ours = normalise(res.stdout, { keepWidths: true }).split('\n');
      // The reference's sample is a hand-edited excerpt: its TaskName and TaskId
      // keys are aligned by hand (every other key is right-aligned, as the table
      // prints them), and its Config is cut after the base block ("...").
      const reference = normalise(readGolden('desc'), { keepWidths: true })
        .replace('|     TaskName   |', '|       TaskName |')
        .replace('|     TaskId     |', '|         TaskId |')
        .split('\n');
      const baseEnd = reference.findIndex((l) => l.includes('"duration"'));
      expect(ours.slice(0, baseEnd + 1)).toEqual(reference.slice(0, baseEnd + 1));
      // the sample wraps requestCount and masks its digits: 922337203685477**** is Go's max int64
      expect(reference[baseEnd + 1]).toMatch(/^\| {16}\| {5}"requestCount": +\|$/);
      const masked = /^\| {16}\| (\d+)\*{4},/.exec(reference[baseEnd + 2])?.[1] ?? '';
      expect(ours[baseEnd + 1]).toMatch(new RegExp(`^\\| {16}\\| {5}"requestCount": ${masked}\\d{4} +\\|$`));
      expect(ours[baseEnd + 2]).toBe(reference[baseEnd + 3]); // `  },`
      // the rest of the Config follows and the cell closes as the sample's does
      expect(ours).toContain(reference[reference.length - 3]); // `}`
      expect(ours[ours.length - 2]).toBe(reference[reference.length - 2]); // the bottom border
    });
  });

  test('delete', async () => {
    expectGolden('delete', await cli(['bench', 'delete', name], 'y\n'));
    expect((await ctl().call('GET', `${API_PREFIX}/${REGION}/${name}`)).status).toBe(404);
  });
});
