import * as fs from 'node:fs';
import * as path from 'node:path';
import { startOpenAiService, OpenAiService } from '../../fixtures/openai-service';
import { startTargetService, TargetService } from '../../fixtures/target-service';
import { listView } from '../../controller/api/views';
import { csvRecordCount } from '../../src/cli/records';
import { API_PREFIX, GetTaskResponse, LlmRecordsResponse } from '../../src/contract';
import { signedGetText } from '../helpers/api';
import { createTask, deleteAllTasks, idleLauncher, InProcessController, recordRequests, useInProcessController, waitForStatus } from '../helpers/controller';
import { waitFor } from '../helpers/processes';
import { runCli, writeTaskFile, STATSVIEW_SERVED, tempHome, writeCliConfig } from './cli-run-helper';

/**
 * Every command against the real controller built in-process: `live` starts
 * real agents (from dist/) that load a target service in this process;
 * `idle` launches agents that never connect, so its tasks stay Creating.
 */

const NAME_RE = 'benchmark-demo-[0-9a-f]{4}';
const REQUEST_ID_LINE = /^\[RequestId\]: [0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}$/;

/** A manual task light enough for two shared cores: one connection, a few requests a second. */
function manualTask(url: string, optional: Record<string, unknown> = {}): Record<string, unknown> {
  return { service: { serviceName: 'demo', url }, optional: { mode: 'manual', agentCount: 1, concurrency: 1, maxQPS: 20, duration: 60, ...optional } };
}

/** The `[OK] [Agnet: a/d]: <phrase>` lines of an output, in order ("Agnet" is the reference's spelling). */
function agentLines(stdout: string): string[] {
  return stdout.split('\n').filter((l) => l.startsWith('[OK] [Agnet: '));
}

/**
 * The agent lines are one per change the polling saw: each one of `states`,
 * in that order (fast changes may fall between two polls), ending with the last.
 */
function expectAgentLines(stdout: string, states: string[]): void {
  const seen = agentLines(stdout).map((l) => l.slice('[OK] '.length));
  for (const line of seen) expect(states).toContain(line);
  const at = seen.map((l) => states.indexOf(l));
  expect(at).toEqual([...at].sort((a, b) => a - b));
  expect(seen[seen.length - 1]).toBe(states[states.length - 1]);
}

describe('cli commands against the real controller', () => {
  const live = useInProcessController();
  const idle = useInProcessController({}, { launcher: idleLauncher });
  let target: TargetService;
  let home: string;

  beforeAll(async () => {
    target = await startTargetService();
  });
  afterAll(async () => {
    await target.close();
  });

  beforeEach(() => {
    home = tempHome();
    writeCliConfig(home, live());
  });
  afterEach(async () => {
    await deleteAllTasks(live());
    await deleteAllTasks(idle());
  });


  const detail = async (c: InProcessController, name: string): Promise<GetTaskResponse> =>
    (await c.call('GET', `${API_PREFIX}/${c.region}/${name}`)).json as unknown as GetTaskResponse;

  /** A task of `live` that is Running with its agent connected. */
  async function runningTask(optional: Record<string, unknown> = {}): Promise<string> {
    const name = await createTask(live(), manualTask(target.url, optional));
    await waitForStatus(live(), name, ['Running']);
    return name;
  }

  test('create prints the reference lines as agents come up, until Running', async () => {
    const task = manualTask(target.url);
    const res = await runCli(['bench', 'create', writeTaskFile(home, task)], { home });
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    const lines = res.stdout.split('\n');
    expect(lines[0]).toMatch(REQUEST_ID_LINE);
    expect(lines[1]).toMatch(new RegExp(`^\\[OK\\] Task \\[${NAME_RE}\\] is creating$`));
    // one line per state, in the reference's words, whatever the agents did between two polls
    expect(agentLines(res.stdout)).toEqual(['[OK] [Agnet: 0/1]: Succeed to start benchmark master', '[OK] [Agnet: 1/1]: Benchmark task is Running']);
    expect(res.stdout.endsWith('[OK] [Agnet: 1/1]: Benchmark task is Running\n[OK] Benchmark task is Running\n')).toBe(true);
    // what the controller holds is the task the file described
    const name = /Task \[(\S+)\]/.exec(lines[1])?.[1] ?? '';
    const got = await detail(live(), name);
    expect(got).toMatchObject({ Status: 'Running', ServiceName: 'demo', Mode: 'manual', AvailableAgent: 1 });
    expect(got.Config.optional).toMatchObject(task.optional as Record<string, unknown>);
  });

  test('create warns, after the creating line, of a duration too short for the search to reach a verdict', async () => {
    const task = { service: { serviceName: 'demo', url: target.url }, optional: { mode: 'scan', minQPS: 2, qpsGrowthDelta: 2, adjustInterval: 5, maxQPS: 20, duration: 10 } };
    const res = await runCli(['bench', 'create', writeTaskFile(home, task)], { home });
    expect(res.code).toBe(0);
    const lines = res.stdout.split('\n');
    expect(lines[1]).toMatch(new RegExp(`^\\[OK\\] Task \\[${NAME_RE}\\] is creating$`));
    expect(lines[2]).toBe(
      '[WARNING] duration 10 s may be too short for scan to reach a verdict: stepping from 2 to maxQPS 20 QPS by 2 every 5 s, unless a limit ends the growth sooner, takes about 50 s; a longer duration (or a narrower search) lets it end with a capacity',
    );
    // the same words are the round's first event
    const name = /Task \[(\S+)\]/.exec(lines[1])?.[1] ?? '';
    expect((await detail(live(), name)).Events.find((e) => e.Kind === 'info')?.Message).toBe(`scan: ${lines[2].replace('[WARNING] ', '')}`);
  });

  test('create validates locally: a path-precise InvalidField line, exit 1, nothing sent', async () => {
    const recorder = recordRequests(live().controller.port);
    try {
      const res = await runCli(['bench', 'create', writeTaskFile(home, { service: { serviceName: 'demo' }, optional: { duration: 5000 } })], { home });
      expect(res).toEqual({ code: 1, stdout: '', stderr: '[ERROR] InvalidField: optional.duration: must be <= 1200\n' });
      expect(recorder.requests).toEqual([]);
    } finally {
      recorder.stop();
    }
    expect(listView(live().controller.manager)).toEqual([]);
  });

  test('create of a missing file is one clear error line', async () => {
    const res = await runCli(['bench', 'create', path.join(home, 'nope.json')], { home });
    expect(res.code).toBe(1);
    expect(res.stderr).toBe(`[ERROR] InvalidParameter: cannot read task file ${path.join(home, 'nope.json')}: no such file\n`);
  });

  test('a task whose data source fails prints [ERROR] CreateFailed: <Message> and exits 1', async () => {
    // nothing listens on port 1: the data download fails before any agent starts
    const res = await runCli(['bench', 'create', writeTaskFile(home, { ...manualTask(target.url), data: { path: 'http://127.0.0.1:1/data.txt' } })], { home });
    expect(res.code).toBe(1);
    const name = /Task \[(\S+)\]/.exec(res.stdout)?.[1] ?? '';
    const failed = await detail(live(), name);
    expect(failed.Status).toBe('CreateFailed');
    expect(failed.Message).toMatch(/127\.0\.0\.1:1/);
    // a failure is never an [OK] line: the progress lines stop at the last success, the reason is the [ERROR] line
    for (const line of res.stdout.split('\n')) expect(line.startsWith('[OK]') && line.includes(failed.Message)).toBe(false);
    expect(agentLines(res.stdout).every((line) => line === '[OK] [Agnet: 0/1]: Succeed to start benchmark master')).toBe(true);
    expect(res.stderr).toBe(`[ERROR] CreateFailed: ${failed.Message}\n`);
  });

  test('create --wait follows to the end, prints the summary and the report URL', async () => {
    const res = await runCli(['bench', 'create', '--wait', writeTaskFile(home, manualTask(target.url, { duration: 2 }))], { home });
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    expect(res.stdout).toContain('[OK] [Agnet: 1/1]: Benchmark task is Running\n[OK] Benchmark task is Running\n');
    expect(res.stdout).toMatch(/\n\[OK\] Running [0-2]s\/2s, QPS [\d.]+, TP99 [\d.]+ ms, error rate 0\.00%\n/);
    const name = /Task \[(\S+)\]/.exec(res.stdout)?.[1] ?? '';
    const done = await detail(live(), name);
    expect(done.Status).toBe('Stopped');
    const total = done.Result?.TotalRequests ?? 0;
    expect(total).toBeGreaterThan(0);
    expect(res.stdout).toContain(`Summary of benchmark task ${name}, round 10001 (Stopped):`);
    expect(res.stdout).toContain(`|   TotalRequests | ${total} `);
    expect(res.stdout).toMatch(/\| {10}TP99\.9 \| [\d.]+ ms /);
    expect(res.stdout).toMatch(new RegExp(`\\| 200 +\\| +${total} \\| +100\\.00% \\|`));
    // the report URL, then last the round's verdict (SPEC 7)
    const url = new RegExp(`\\[OK\\] Benchmark task ${name} report url: (http://127\\.0\\.0\\.1:\\d+/reports/summary/\\S+\\.html)\\nVerdict: passed; ended: duration of 2 s reached\\n$`).exec(res.stdout)?.[1];
    expect(url).toBeDefined();
    expect((await fetch(url ?? '')).status).toBe(200);
  });

  test('create --json prints only the controller response', async () => {
    const res = await runCli(['bench', 'create', '--json', writeTaskFile(home, manualTask(target.url))], { home });
    expect(res.code).toBe(0);
    const body = JSON.parse(res.stdout) as Record<string, unknown>;
    expect(Object.keys(body).sort()).toEqual(['Message', 'Region', 'RequestId', 'Status', 'TaskId', 'TaskName']);
    expect(body).toMatchObject({ Region: 'cn-local', Status: 'Creating', Message: 'Benchmark task is creating' });
    expect(body.TaskId).toBe((await detail(live(), String(body.TaskName))).TaskId);
  });

  test('create --visualize hands over to the statsview module', async () => {
    let printed = '';
    const pending = runCli(['bench', 'create', '--visualize', writeTaskFile(home, manualTask(target.url))], { home, onStdout: (text) => (printed = text) });
    // the page is served until CTRL+C
    while (!printed.includes(STATSVIEW_SERVED)) await new Promise((r) => setTimeout(r, 10));
    process.emit('SIGINT');
    const res = await pending;
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(/\[OK\] Click the link http:\/\/127\.0\.0\.1:\d+\/eas-benchmark\/statsview to observe realtime visualization details, you can turn it off with CTRL\+C\./);
  });

  test('--wait and --visualize together are a usage error', async () => {
    const res = await runCli(['bench', 'create', '--wait', '--visualize', 'x.json'], { home });
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/--wait and --visualize cannot be used together/);
  });

  test('ls prints the RequestId and the table', async () => {
    writeCliConfig(home, idle());
    const name = await createTask(idle(), manualTask(target.url, { agentCount: 2 }));
    const task = await detail(idle(), name);
    const res = await runCli(['bench', 'list'], { home });
    expect(res.code).toBe(0);
    const [first, ...rest] = res.stdout.split('\n');
    expect(first).toMatch(REQUEST_ID_LINE);
    expect(rest.join('\n')).toBe(
      [
        '+---------------------+--------------------------+----------+----------------+----------+---------------------+',
        '|      TASKNAME       |          TASKID          |  REGION  | AVAILABLEAGENT |  STATUS  |     CREATETIME      |',
        '+---------------------+--------------------------+----------+----------------+----------+---------------------+',
        `| ${name} | ${task.TaskId} | cn-local |              0 | Creating | ${task.CreateTime} |`,
        '+---------------------+--------------------------+----------+----------------+----------+---------------------+',
        '',
      ].join('\n'),
    );
  });

  test('desc addresses the task by name in the config region', async () => {
    const name = await runningTask();
    // CurrentQPS is shown once the task has a finished second
    await waitFor('a first second', async () => (await detail(live(), name)).CurrentQPS !== undefined, 10000, 50);
    const res = await runCli(['bench', 'desc', name], { home });
    expect(res.code).toBe(0);
    // the reference's desc shows no RequestId; --verbose adds it
    expect(res.stdout.split('\n')[0]).toMatch(/^\+-+\+-+\+$/);
    expect((await runCli(['bench', 'desc', '--verbose', name], { home })).stdout.split('\n')[0]).toMatch(REQUEST_ID_LINE);
    expect(res.stdout).toContain(`|       TaskName | ${name} `);
    expect(res.stdout).toMatch(/\| {5}CurrentQPS \| [\d.]+ /);
    // the same name asked for in another region is not this controller's task
    writeCliConfig(home, live(), 'cn-test');
    const other = await runCli(['bench', 'desc', name], { home });
    expect(other.code).toBe(1);
    expect(other.stderr).toBe(`[ERROR] TaskNotFound: benchmark task ${name} does not exist in region cn-test (this controller serves cn-local)\n`);
  });

  test('an API error prints the RequestId, then one [ERROR] line; --json prints the error body', async () => {
    writeCliConfig(home, idle());
    const name = await createTask(idle(), manualTask(target.url));
    const res = await runCli(['bench', 'report', name], { home });
    const message = `task ${name} is Creating; its report is written when the round ends`;
    expect(res.code).toBe(1);
    expect(res.stdout).toMatch(/^\[RequestId\]: \S+\n$/);
    expect(res.stderr).toBe(`[ERROR] ReportNotReady: ${message}\n`);
    const json = await runCli(['--json', 'bench', 'report', name], { home });
    expect(json.code).toBe(1);
    const body = JSON.parse(json.stdout) as Record<string, unknown>;
    expect(body).toMatchObject({ Code: 'ReportNotReady', Message: message });
    expect(typeof body.RequestId).toBe('string');
  });

  test('report prints the reference line', async () => {
    const name = await runningTask();
    await live().call('PUT', `${API_PREFIX}/cn-local/${name}/stop`);
    await waitForStatus(live(), name, ['Stopped']);
    const res = await runCli(['bench', 'report', name], { home });
    expect(res.code).toBe(0);
    const url = `${live().url.replace(/\./g, '\\.')}/reports/summary/${name}-10001-[0-9a-f]{32}\\.html`;
    expect(res.stdout).toMatch(new RegExp(`^\\[OK\\] Benchmark task ${name} report url: ${url}\\n$`));
  });

  describe('records', () => {
    // its own controller: the block's llm task outlives each test (the others delete theirs)
    const rec = useInProcessController();
    let llm: OpenAiService;
    let name: string;
    let recordsPath: string;
    const COUNT = 100;

    beforeAll(async () => {
      llm = await startOpenAiService({ ttftMs: 5, tpotMs: 1 });
      // the fewest requests an llm task may make: it ends by itself
      name = await createTask(rec(), {
        service: { serviceName: 'llm_fixture', url: llm.url },
        llm: { api: 'chat', model: 'fixture', testMode: 'concurrency', concurrency: 4, requestCount: COUNT, dataset: { type: 'synthetic', inputTokens: [10, 10], outputTokens: [10, 10] } },
      });
      await waitForStatus(rec(), name, ['Stopped']);
      recordsPath = `${API_PREFIX}/cn-local/${name}/records`;
    });
    afterAll(async () => {
      await llm.close();
    });
    beforeEach(() => {
      writeCliConfig(home, rec());
    });

    test('CSV to stdout by default, exactly as the controller sent it', async () => {
      const recorder = recordRequests(rec().controller.port);
      const res = await runCli(['bench', 'records', name], { home }).finally(() => recorder.stop());
      const csv = await signedGetText(rec(), `${recordsPath}?format=csv`);
      expect(csv.type).toMatch(/^text\/csv/);
      expect(csvRecordCount(csv.text)).toBe(COUNT);
      expect(res).toEqual({ code: 0, stdout: csv.text, stderr: '' });
      expect(recorder.requests).toEqual([{ method: 'GET', path: `${recordsPath}?format=csv` }]);
    });

    test('--output FILE writes the file and counts the records (a quoted newline is not a record)', async () => {
      const file = path.join(home, 'records.csv');
      const res = await runCli(['bench', 'records', name, '--output', file], { home });
      expect(res).toEqual({ code: 0, stdout: `[OK] ${COUNT} records of benchmark task ${name} written to ${file}\n`, stderr: '' });
      expect(fs.readFileSync(file, 'utf8')).toBe((await signedGetText(rec(), `${recordsPath}?format=csv`)).text);
      expect(csvRecordCount('agent,seq,error\n0,0,\n0,1,"stream failed:\nline two, with a comma"\n')).toBe(2);
      expect(csvRecordCount('header\n')).toBe(0);
      expect(csvRecordCount('header\nrow')).toBe(1);
    });

    test('--format json prints the API response; with -o it goes to the file after the RequestId line', async () => {
      const recorder = recordRequests(rec().controller.port);
      const res = await runCli(['bench', 'records', name, '--format', 'json'], { home }).finally(() => recorder.stop());
      expect(res.code).toBe(0);
      const body = JSON.parse(res.stdout) as LlmRecordsResponse;
      expect(body).toMatchObject({ TaskName: name, RoundId: 10001 });
      expect(body.Records).toHaveLength(COUNT);
      expect(recorder.requests[0].path).toBe(`${recordsPath}?format=json`);
      const file = path.join(home, 'records.json');
      const out = await runCli(['bench', 'records', name, '--format', 'json', '-o', file], { home });
      const saved = JSON.parse(fs.readFileSync(file, 'utf8')) as LlmRecordsResponse;
      expect(out.stdout).toBe(`[RequestId]: ${saved.RequestId}\n[OK] ${COUNT} records of benchmark task ${name} written to ${file}\n`);
      expect({ ...saved, RequestId: '' }).toEqual({ ...body, RequestId: '' });
    });

    test('--json means JSON records; with --format csv it is a usage error and nothing is sent', async () => {
      const res = await runCli(['--json', 'bench', 'records', name], { home });
      expect((JSON.parse(res.stdout) as LlmRecordsResponse).Records).toHaveLength(COUNT);
      const file = path.join(home, 'quiet.json');
      const quiet = await runCli(['--json', 'bench', 'records', name, '-o', file], { home });
      expect(quiet).toEqual({ code: 0, stdout: '', stderr: `[OK] ${COUNT} records of benchmark task ${name} written to ${file}\n` });
      const recorder = recordRequests(rec().controller.port);
      try {
        const bad = await runCli(['--json', 'bench', 'records', name, '--format', 'csv'], { home });
        expect(bad.code).toBe(2);
        expect(bad.stderr).toMatch(/--json prints the records as JSON; it cannot be combined with --format csv/);
        expect((await runCli(['bench', 'records', name, '--format', 'xml'], { home })).code).toBe(2);
        expect(recorder.requests).toEqual([]);
      } finally {
        recorder.stop();
      }
    });

    test('the controller refusing (not an llm task) and an unwritable file are one error line each', async () => {
      writeCliConfig(home, idle());
      const manual = await createTask(idle(), manualTask(target.url));
      const res = await runCli(['bench', 'records', manual], { home });
      expect(res.code).toBe(1);
      expect(res.stdout).toMatch(/^\[RequestId\]: \S+\n$/);
      expect(res.stderr).toMatch(new RegExp(`^\\[ERROR\\] InvalidField: task ${manual} is not an llm task[^\\n]*\\n$`));
      writeCliConfig(home, rec());
      const missing = path.join(home, 'no', 'such', 'dir', 'r.csv');
      const bad = await runCli(['bench', 'records', name, '-o', missing], { home });
      expect(bad).toEqual({ code: 1, stdout: '', stderr: `[ERROR] InvalidParameter: cannot write ${missing}: no such directory\n` });
    });
  });

  test('update -Doptional.concurrency=4 -Doptional.agentCount=2 changes the task live and prints the reference lines', async () => {
    const name = await runningTask();
    const res = await runCli(['bench', 'update', name, '-Doptional.concurrency=4', '-Doptional.agentCount=2'], { home });
    expect(res.stderr).toBe('');
    const [first, ...rest] = res.stdout.split('\n');
    expect(first).toMatch(REQUEST_ID_LINE);
    expect(rest).toEqual([
      `[OK] Running [TaskName: ${name}, DesiredAgent:2, AvailableAgent: 1, Message: Benchmark task is Updating]`,
      `[OK] Benchmark task ${name} was updated successfully`,
      '',
    ]);
    const got = await detail(live(), name);
    expect(got).toMatchObject({ Status: 'Running', DesiredAgent: 2, AvailableAgent: 2 });
    expect(got.Config.optional).toMatchObject({ concurrency: 4, agentCount: 2 });
  });

  test('update on a Stopped task says the change waits for the next start; --json prints the controller answer', async () => {
    const name = await runningTask();
    await live().call('PUT', `${API_PREFIX}/cn-local/${name}/stop`);
    await waitForStatus(live(), name, ['Stopped']);
    const res = await runCli(['bench', 'update', name, '-Doptional.concurrency=3'], { home });
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    const [first, ...rest] = res.stdout.split('\n');
    expect(first).toMatch(REQUEST_ID_LINE);
    expect(rest).toEqual([`[OK] Benchmark task ${name} is Stopped: the update is saved and applies from the next start`, '']);
    const json = await runCli(['--json', 'bench', 'update', name, '-Doptional.concurrency=5'], { home });
    expect(json.stderr).toBe('');
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({ TaskName: name, Status: 'Stopped' });
    const got = await detail(live(), name);
    expect(got.Status).toBe('Stopped');
    expect(got.Config.optional).toMatchObject({ concurrency: 5 });
  });

  test('update accepts -D KEY=VALUE (separate) and --define, repeated', async () => {
    // faultAction and maxRT are fields of the auto and scan modes
    const name = await runningTask({ mode: 'auto', agentCount: undefined, concurrency: undefined });
    const res = await runCli(['bench', 'update', name, '-D', 'optional.maxQPS=40', '--define', 'optional.faultAction=stop', '-Doptional.maxRT=200.5'], { home });
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    expect((await detail(live(), name)).Config.optional).toMatchObject({ maxQPS: 40, faultAction: 'stop', maxRT: 200.5 });
  });

  test('update with a malformed -D or a non-optional field sends nothing', async () => {
    const recorder = recordRequests(live().controller.port);
    try {
      const bad = await runCli(['bench', 'update', 'benchmark-demo-0000', '-Dconcurrency=4'], { home });
      expect(bad.code).toBe(1);
      expect(bad.stderr).toMatch(/^\[ERROR\] InvalidField: concurrency: expected -Dsection\.key=value/);
      const other = await runCli(['bench', 'update', 'benchmark-demo-0000', '-Dservice.serviceName=x'], { home });
      expect(other.stderr).toBe('[ERROR] InvalidField: service.serviceName: only optional.* fields can be updated\n');
      const none = await runCli(['bench', 'update', 'benchmark-demo-0000'], { home });
      expect(none.code).toBe(2);
      expect(recorder.requests).toEqual([]);
    } finally {
      recorder.stop();
    }
  });

  test('an update the controller refuses (the task is still Creating, or gone) is an error line', async () => {
    writeCliConfig(home, idle());
    const name = await createTask(idle(), manualTask(target.url));
    const res = await runCli(['bench', 'update', name, '-Doptional.agentCount=9'], { home });
    expect(res.code).toBe(1);
    expect(res.stderr).toBe(`[ERROR] TaskConflict: task ${name} is Creating; try again when it is Running or finished\n`);
    await deleteAllTasks(idle());
    const gone = await runCli(['bench', 'update', name, '-Doptional.agentCount=9'], { home });
    expect(gone.code).toBe(1);
    expect(gone.stderr).toMatch(new RegExp(`^\\[ERROR\\] TaskNotFound: [^\\n]*${name}[^\\n]*\\n$`));
  });

  test('stop answered "n" on a piped stdin cancels: no request, exit 0', async () => {
    const recorder = recordRequests(live().controller.port);
    try {
      const res = await runCli(['bench', 'stop', 'benchmark-demo-0000'], { home, input: 'n\n' });
      expect(res).toEqual({ code: 0, stdout: 'Are you sure to stop the benchmark task [benchmark-demo-0000] in [cn-local]? [Y/n]\nCancelled.\n', stderr: '' });
      expect(recorder.requests).toEqual([]);
    } finally {
      recorder.stop();
    }
  });

  test('stop answered "y" stops and follows the agents to Stopped; the RequestId only under --verbose', async () => {
    const name = await runningTask();
    const res = await runCli(['bench', 'stop', '--verbose', name], { home, input: 'Y\n' });
    expect(res.code).toBe(0);
    const lines = res.stdout.split('\n');
    expect(lines[0]).toBe(`Are you sure to stop the benchmark task [${name}] in [cn-local]? [Y/n]`);
    expect(lines[1]).toMatch(REQUEST_ID_LINE);
    expect(lines[2]).toBe(`[OK] Task [${name}] is stopping`);
    // the round still sends while it drains: Running until Stopped, as the reference prints it
    expectAgentLines(res.stdout, ['[Agnet: 1/1]: Benchmark task is Running', '[Agnet: 0/1]: Benchmark task is Running', '[Agnet: 0/1]: Benchmark task is Stopped']);
    expect(agentLines(res.stdout)).toHaveLength(2);
    expect(res.stdout.endsWith('[OK] [Agnet: 0/1]: Benchmark task is Stopped\n[OK] Benchmark task is stopped\n')).toBe(true);
    expect((await detail(live(), name)).Status).toBe('Stopped');
  });

  test('start with -y asks nothing and follows like create', async () => {
    const name = await runningTask();
    await live().call('PUT', `${API_PREFIX}/cn-local/${name}/stop`);
    await waitForStatus(live(), name, ['Stopped']);
    const res = await runCli(['bench', 'start', '-y', name], { home });
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    const lines = res.stdout.split('\n');
    expect(lines[0]).toBe(`[OK] Task [${name}] is starting`);
    expect(agentLines(res.stdout)).toEqual(['[OK] [Agnet: 0/1]: Succeed to start benchmark master', '[OK] [Agnet: 1/1]: Benchmark task is Running']);
    expect(res.stdout.endsWith('[OK] [Agnet: 1/1]: Benchmark task is Running\n[OK] Benchmark task is Running\n')).toBe(true);
    expect((await detail(live(), name)).RoundId).toBe(10002);
  });

  test('delete (empty answer = yes) waits until the task is gone', async () => {
    const name = await runningTask();
    const res = await runCli(['bench', 'delete', name], { home, input: '\n' });
    expect(res.code).toBe(0);
    const lines = res.stdout.split('\n');
    expect(lines[0]).toBe(`Are you sure to delete the benchmark task [${name}] in [cn-local]? [Y/n]`);
    expect(lines.slice(1)).toEqual([`[OK] Benchmark task ${name} is Deleting`, '[OK] Benchmark task was deleted successfully', '']);
    expect((await live().call('GET', `${API_PREFIX}/cn-local/${name}`)).status).toBe(404);
  });

  test('a task that never gets anywhere times out with a Timeout line', async () => {
    writeCliConfig(home, idle());
    const res = await runCli(['bench', 'create', writeTaskFile(home, manualTask(target.url))], { home, timing: { statusTimeoutMs: 50 } });
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(new RegExp(`^\\[ERROR\\] Timeout: benchmark task ${NAME_RE} did not get to Running \\(still Creating: Starting agents`));
  });

  test('unknown commands are usage errors (exit 2) with a suggestion', async () => {
    const res = await runCli(['bench', 'lst'], { home });
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/Commands:/);
    expect(res.stderr).toMatch(/Unknown argument: lst\nDid you mean (ls|list)\?/);
    expect((await runCli([], { home })).code).toBe(2);
    expect((await runCli(['bench'], { home })).code).toBe(2);
  });

  test('--endpoint overrides the file for one call; without a config file it needs credentials', async () => {
    writeCliConfig(home, { ...live(), url: 'http://127.0.0.1:1' });
    const res = await runCli(['--endpoint', live().url, 'bench', 'ls'], { home });
    expect(res.code).toBe(0);
    const empty = tempHome();
    const none = await runCli(['--endpoint', live().url, 'bench', 'ls'], { home: empty });
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/^\[ERROR\] InvalidParameter: no config file at .*; run: eascmd config -i AK -k SK -e http/);
  });

  test('a controller that does not answer is ControllerUnreachable naming the endpoint', async () => {
    writeCliConfig(home, { ...live(), url: 'http://127.0.0.1:1' });
    const res = await runCli(['bench', 'ls'], { home });
    expect(res).toEqual({ code: 1, stdout: '', stderr: '[ERROR] ControllerUnreachable: cannot reach the controller at http://127.0.0.1:1: connection refused\n' });
  });
});
