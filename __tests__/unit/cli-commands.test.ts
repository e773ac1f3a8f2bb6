import * as fs from 'node:fs';
import * as path from 'node:path';
import { csvRecordCount } from '../../src/cli/records';
import { GetTaskResponse, LlmRequestRecord, TaskStatus } from '../../src/contract';
import { runCli, tempHome, writeStubConfig } from './cli-run-helper';
import { StubReply, requestId, useStubController } from './cli-stub-controller';

const NAME = 'benchmark-demo-1a2b';
const TASK_PATH = `/api/v2/benchmark-tasks/cn-local/${NAME}`;

function detail(Status: TaskStatus, AvailableAgent: number, Message: string, extra: Partial<GetTaskResponse> = {}): StubReply {
  const body: GetTaskResponse = {
    RequestId: requestId(),
    TaskName: NAME,
    TaskId: 'eas-b-abcdefghijklmnopqr',
    Region: 'cn-local',
    ServiceName: 'demo',
    Mode: 'manual',
    DesiredAgent: 1,
    AvailableAgent,
    Status,
    Message,
    CreateTime: '2025-01-02 03:04:05',
    UpdateTime: '2025-01-02 03:04:06',
    Config: { service: { serviceName: 'demo' }, optional: { mode: 'manual', duration: 60 } },
    RoundId: 10001,
    ElapsedS: 0,
    DurationS: 60,
    Events: [],
    ...extra,
  };
  return { body };
}

/** GET task answers these in turn, then repeats the last. */
function sequence(replies: StubReply[]): (req: unknown, n: number) => StubReply {
  return (_req, n) => replies[Math.min(n, replies.length - 1)];
}

const RESULT = {
  TotalRequests: 1000,
  SuccessRequests: 999,
  ErrorRequests: 1,
  ErrorRate: 0.001,
  QPS: 100,
  AvgRT: 5.5,
  MinRT: 1,
  MaxRT: 50,
  TP50: 5,
  TP75: 6,
  TP90: 8,
  TP95: 9,
  TP99: 20,
  TP999: 45,
  BytesIn: 2048,
  BytesOut: 4096,
  StatusCodes: { '200': 999, '500': 1 },
  Dropped: 0,
  SendLagP99: 0.2,
  DurationS: 10,
  RTDistribution: [
    { Range: '[0,10)', Count: 950 },
    { Range: '[10,20)', Count: 50 },
  ],
};

describe('cli commands against a stub controller', () => {
  const stub = useStubController();
  let home: string;

  beforeEach(() => {
    home = tempHome();
    writeStubConfig(home, stub().url);
  });

  function taskFile(task: unknown): string {
    const file = path.join(home, 'task.json');
    fs.writeFileSync(file, JSON.stringify(task));
    return file;
  }

  const createReply = (): StubReply => ({
    body: { RequestId: 'DE240637-4976-59AF-A28C-BAA55C0A0001', TaskId: 'eas-b-abcdefghijklmnopqr', TaskName: NAME, Region: 'cn-local', Status: 'Creating', Message: 'Benchmark task is creating' },
  });

  test('create prints the reference lines as agents come up, until Running', async () => {
    stub().on('POST /api/v2/benchmark-tasks', createReply());
    stub().on(
      `GET ${TASK_PATH}`,
      sequence([
        detail('Creating', 0, 'Succeed to start benchmark master'),
        detail('Creating', 0, 'Succeed to start benchmark master'),
        detail('Running', 1, 'Benchmark task is Running'),
      ]),
    );
    const res = await runCli(['bench', 'create', taskFile({ service: { serviceName: 'demo' }, data: { content: 'aGVsbG8K' } })], { home });
    expect(res.stderr).toBe('');
    expect(res.stdout).toBe(
      [
        '[RequestId]: DE240637-4976-59AF-A28C-BAA55C0A0001',
        `[OK] Task [${NAME}] is creating`,
        '[OK] [Agent: 0/1]: Succeed to start benchmark master',
        '[OK] [Agent: 1/1]: Benchmark task is Running',
        '[OK] Benchmark task is Running',
        '',
      ].join('\n'),
    );
    expect(res.code).toBe(0);
    expect(JSON.parse(stub().requests[0].body)).toEqual({ service: { serviceName: 'demo' }, data: { content: 'aGVsbG8K' } });
  });

  test('create validates locally: a path-precise InvalidField line, exit 1, nothing sent', async () => {
    const res = await runCli(['bench', 'create', taskFile({ service: { serviceName: 'demo' }, optional: { duration: 5000 } })], { home });
    expect(res).toEqual({ code: 1, stdout: '', stderr: '[ERROR] InvalidField: optional.duration: must be <= 1200\n' });
    expect(stub().requests).toHaveLength(0);
  });

  test('create of a missing file is one clear error line', async () => {
    const res = await runCli(['bench', 'create', path.join(home, 'nope.json')], { home });
    expect(res.code).toBe(1);
    expect(res.stderr).toBe(`[ERROR] InvalidParameter: cannot read task file ${path.join(home, 'nope.json')}: no such file\n`);
  });

  test('a task that fails to create prints [ERROR] <Status>: <Message> and exits 1', async () => {
    stub().on('POST /api/v2/benchmark-tasks', createReply());
    stub().on(`GET ${TASK_PATH}`, sequence([detail('Creating', 0, 'starting'), detail('CreateFailed', 0, 'service demo is unreachable')]));
    const res = await runCli(['bench', 'create', taskFile({ service: { serviceName: 'demo' } })], { home });
    expect(res.code).toBe(1);
    expect(res.stdout).toContain('[OK] [Agent: 0/1]: starting\n[OK] [Agent: 0/1]: service demo is unreachable\n');
    expect(res.stderr).toBe('[ERROR] CreateFailed: service demo is unreachable\n');
  });

  test('create --wait follows to the end, prints the summary and the report URL (waiting for the report)', async () => {
    stub().on('POST /api/v2/benchmark-tasks', createReply());
    stub().on(
      `GET ${TASK_PATH}`,
      sequence([
        detail('Running', 1, 'Benchmark task is Running', { ElapsedS: 1, CurrentQPS: 99.5, TP99: 20, ErrorRate: 0.001 }),
        detail('Running', 1, 'Benchmark task is Running', { ElapsedS: 5, CurrentQPS: 100, TP99: 21, ErrorRate: 0.001 }),
        detail('Stopped', 0, 'Benchmark task is Stopped', { ElapsedS: 10, Result: RESULT, Capacity: undefined }),
      ]),
    );
    stub().on(`GET ${TASK_PATH}/report`, (_req, n) =>
      n === 0
        ? { status: 409, body: { RequestId: requestId(), Code: 'ReportNotReady', Message: 'not yet' } }
        : { body: { RequestId: requestId(), TaskName: NAME, RoundId: 10001, ReportUrl: 'http://127.0.0.1:8020/reports/summary/x-10001-3f2a9c4e8b1d7a6054e2c9f0b3a8d1e7.html' } },
    );
    const res = await runCli(['bench', 'create', '--wait', taskFile({ service: { serviceName: 'demo' } })], { home });
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    expect(res.stdout).toContain('[OK] Benchmark task is Running\n[OK] Running 1s/60s, QPS 99.5, TP99 20 ms, error rate 0.10%\n');
    expect(res.stdout).toContain(`Summary of benchmark task ${NAME}, round 10001 (Stopped):`);
    expect(res.stdout).toContain('|   TotalRequests | 1000 ');
    expect(res.stdout).toContain('|          TP99.9 | 45 ms ');
    expect(res.stdout).toMatch(/\| 500 +\| +1 \| +0\.10% \|/);
    expect(res.stdout.endsWith(`[OK] Benchmark task ${NAME} report url: http://127.0.0.1:8020/reports/summary/x-10001-3f2a9c4e8b1d7a6054e2c9f0b3a8d1e7.html\n`)).toBe(true);
  });

  test('create --json prints only the controller response', async () => {
    stub().on('POST /api/v2/benchmark-tasks', createReply());
    stub().on(`GET ${TASK_PATH}`, detail('Running', 1, 'Benchmark task is Running'));
    const res = await runCli(['bench', 'create', '--json', taskFile({ service: { serviceName: 'demo' } })], { home });
    expect(res.code).toBe(0);
    expect(JSON.parse(res.stdout)).toEqual(createReply().body);
  });

  test('create --visualize hands over to the statsview module', async () => {
    stub().on('POST /api/v2/benchmark-tasks', createReply());
    stub().on(`GET ${TASK_PATH}`, detail('Running', 1, 'Benchmark task is Running'));
    const before = process.listenerCount('SIGINT');
    const pending = runCli(['bench', 'create', '--visualize', taskFile({ service: { serviceName: 'demo' } })], { home });
    // the page is served until CTRL+C
    while (process.listenerCount('SIGINT') === before) await new Promise((r) => setTimeout(r, 10));
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
    stub().on('GET /api/v2/benchmark-tasks', {
      body: {
        RequestId: '7F953F8E-8897-5785-808A-CA648302A1B2',
        Tasks: [{ TaskName: NAME, TaskId: 'eas-b-abcdefghijklmnopqr', Region: 'cn-local', ServiceName: 'demo', Mode: 'auto', DesiredAgent: 2, AvailableAgent: 2, Status: 'Running', Message: '', CreateTime: '2025-01-02 03:04:05', UpdateTime: '' }],
      },
    });
    const res = await runCli(['bench', 'list'], { home });
    expect(res.code).toBe(0);
    expect(res.stdout).toBe(
      [
        '[RequestId]: 7F953F8E-8897-5785-808A-CA648302A1B2',
        '+---------------------+--------------------------+----------+----------------+---------+---------------------+',
        '|      TASKNAME       |          TASKID          |  REGION  | AVAILABLEAGENT | STATUS  |     CREATETIME      |',
        '+---------------------+--------------------------+----------+----------------+---------+---------------------+',
        '| benchmark-demo-1a2b | eas-b-abcdefghijklmnopqr | cn-local |              2 | Running | 2025-01-02 03:04:05 |',
        '+---------------------+--------------------------+----------+----------------+---------+---------------------+',
        '',
      ].join('\n'),
    );
  });

  test('desc addresses the task by name in the config region', async () => {
    writeStubConfig(home, stub().url, 'cn-test');
    stub().on(`GET /api/v2/benchmark-tasks/cn-test/${NAME}`, detail('Running', 1, 'Benchmark task is running', { CurrentQPS: 12 }));
    const res = await runCli(['bench', 'desc', NAME], { home });
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(/^\[RequestId\]: 7F953F8E-/);
    expect(res.stdout).toContain(`|       TaskName | ${NAME} `);
    expect(res.stdout).toContain('|     CurrentQPS | 12 ');
  });

  test('an API error prints the RequestId, then one [ERROR] line; --json prints the error body', async () => {
    stub().on(`GET ${TASK_PATH}/report`, { status: 409, body: { RequestId: 'ABCD-1', Code: 'ReportNotReady', Message: `benchmark task ${NAME} is Running; the report is written when it stops` } });
    const res = await runCli(['bench', 'report', NAME], { home });
    expect(res).toEqual({
      code: 1,
      stdout: '[RequestId]: ABCD-1\n',
      stderr: `[ERROR] ReportNotReady: benchmark task ${NAME} is Running; the report is written when it stops\n`,
    });
    const json = await runCli(['--json', 'bench', 'report', NAME], { home });
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout)).toEqual({ RequestId: 'ABCD-1', Code: 'ReportNotReady', Message: `benchmark task ${NAME} is Running; the report is written when it stops` });
  });

  test('report prints the reference line', async () => {
    stub().on(`GET ${TASK_PATH}/report`, { body: { RequestId: 'R-1', TaskName: NAME, RoundId: 10004, ReportUrl: 'http://h/summary/x-10004-9b0e4d2c7a1f3e5d8c6b2a4f0e1d3c5b.html' } });
    const res = await runCli(['bench', 'report', NAME], { home });
    expect(res.stdout).toBe(`[RequestId]: R-1\n[OK] Benchmark task ${NAME} report url: http://h/summary/x-10004-9b0e4d2c7a1f3e5d8c6b2a4f0e1d3c5b.html\n`);
  });

  describe('records', () => {
    const RECORDS_PATH = `${TASK_PATH}/records`;
    const CSV = 'agent,seq,sendMs,endMs,success,status,ttftMs,tpotMs,itlMs,e2elMs,inputTokens,outputTokens,tokenSource,error\n' +
      '0,0,1000,1255,true,200,100,5,5,255,50,32,usage,\n' +
      '0,1,1001,1101,false,500,,,,,0,0,usage,"stream failed:\nline two, with a comma"\n';
    const record = (seq: number): LlmRequestRecord => ({ agent: 0, seq, sendMs: 1000 + seq, endMs: 1255 + seq, ttftMs: 100, e2elMs: 255, itlMs: [5, 5], inputTokens: 50, outputTokens: 32, tokenSource: 'usage', success: true, status: 200 });
    const jsonReply = (): StubReply => ({ body: { RequestId: 'REC-1', TaskName: NAME, RoundId: 10001, Records: [record(0), record(1)] } });

    test('CSV to stdout by default, exactly as the controller sent it', async () => {
      stub().on(`GET ${RECORDS_PATH}`, { body: CSV, type: 'text/csv' });
      const res = await runCli(['bench', 'records', NAME], { home });
      expect(res).toEqual({ code: 0, stdout: CSV, stderr: '' });
      expect(stub().requests.map((r) => `${r.method} ${r.path}`)).toEqual([`GET ${RECORDS_PATH}?format=csv`]);
    });

    test('--output FILE writes the file and counts the records (a quoted newline is not a record)', async () => {
      stub().on(`GET ${RECORDS_PATH}`, { body: CSV, type: 'text/csv' });
      const file = path.join(home, 'records.csv');
      const res = await runCli(['bench', 'records', NAME, '--output', file], { home });
      expect(res).toEqual({ code: 0, stdout: `[OK] 2 records of benchmark task ${NAME} written to ${file}\n`, stderr: '' });
      expect(fs.readFileSync(file, 'utf8')).toBe(CSV);
      expect(csvRecordCount(CSV)).toBe(2);
      expect(csvRecordCount('header\n')).toBe(0);
      expect(csvRecordCount('header\nrow')).toBe(1);
    });

    test('--format json prints the API response; with -o it goes to the file after the RequestId line', async () => {
      stub().on(`GET ${RECORDS_PATH}`, jsonReply());
      const res = await runCli(['bench', 'records', NAME, '--format', 'json'], { home });
      expect(res.code).toBe(0);
      expect(JSON.parse(res.stdout)).toEqual(jsonReply().body);
      expect(stub().requests[0].path).toBe(`${RECORDS_PATH}?format=json`);
      const file = path.join(home, 'records.json');
      const out = await runCli(['bench', 'records', NAME, '--format', 'json', '-o', file], { home });
      expect(out.stdout).toBe(`[RequestId]: REC-1\n[OK] 2 records of benchmark task ${NAME} written to ${file}\n`);
      expect(JSON.parse(fs.readFileSync(file, 'utf8'))).toEqual(jsonReply().body);
    });

    test('--json means JSON records; with --format csv it is a usage error and nothing is sent', async () => {
      stub().on(`GET ${RECORDS_PATH}`, jsonReply());
      const res = await runCli(['--json', 'bench', 'records', NAME], { home });
      expect(JSON.parse(res.stdout)).toEqual(jsonReply().body);
      const file = path.join(home, 'quiet.json');
      const quiet = await runCli(['--json', 'bench', 'records', NAME, '-o', file], { home });
      expect(quiet).toEqual({ code: 0, stdout: '', stderr: `[OK] 2 records of benchmark task ${NAME} written to ${file}\n` });
      stub().requests.length = 0;
      const bad = await runCli(['--json', 'bench', 'records', NAME, '--format', 'csv'], { home });
      expect(bad.code).toBe(2);
      expect(bad.stderr).toMatch(/--json prints the records as JSON; it cannot be combined with --format csv/);
      expect((await runCli(['bench', 'records', NAME, '--format', 'xml'], { home })).code).toBe(2);
      expect(stub().requests).toHaveLength(0);
    });

    test('the controller refusing (not an llm task) and an unwritable file are one error line each', async () => {
      stub().on(`GET ${RECORDS_PATH}`, { status: 400, body: { RequestId: 'REC-2', Code: 'InvalidField', Message: `task ${NAME} is not an llm task: it has no per-request records`, Field: 'llm' } });
      const res = await runCli(['bench', 'records', NAME], { home });
      expect(res).toEqual({ code: 1, stdout: '[RequestId]: REC-2\n', stderr: `[ERROR] InvalidField: task ${NAME} is not an llm task: it has no per-request records\n` });
      stub().on(`GET ${RECORDS_PATH}`, { body: CSV, type: 'text/csv' });
      const missing = path.join(home, 'no', 'such', 'dir', 'r.csv');
      const bad = await runCli(['bench', 'records', NAME, '-o', missing], { home });
      expect(bad).toEqual({ code: 1, stdout: '', stderr: `[ERROR] InvalidParameter: cannot write ${missing}: no such directory\n` });
    });
  });

  test('update -Doptional.concurrency=4 -Doptional.agentCount=2 sends {"optional": {...}} and prints the reference lines', async () => {
    stub().on(`PUT ${TASK_PATH}`, {
      body: { RequestId: '9920C672-4D41-5CC4-8EC0-C690F76EB2BA', TaskName: NAME, DesiredAgent: 2, AvailableAgent: 1, Status: 'Updating', Message: 'Benchmark task is Updating' },
    });
    stub().on(`GET ${TASK_PATH}`, sequence([detail('Updating', 1, 'updating'), detail('Running', 2, 'Benchmark task is Running')]));
    const res = await runCli(['bench', 'update', NAME, '-Doptional.concurrency=4', '-Doptional.agentCount=2'], { home });
    expect(res.stderr).toBe('');
    expect(res.stdout).toBe(
      [
        '[RequestId]: 9920C672-4D41-5CC4-8EC0-C690F76EB2BA',
        `[OK] Running [TaskName: ${NAME}, DesiredAgent:2, AvailableAgent: 1, Message: Benchmark task is Updating]`,
        `[OK] Benchmark task ${NAME} was updated successfully`,
        '',
      ].join('\n'),
    );
    expect(JSON.parse(stub().requests[0].body)).toEqual({ optional: { concurrency: 4, agentCount: 2 } });
  });

  test('update accepts -D KEY=VALUE (separate) and --define, repeated', async () => {
    stub().on(`PUT ${TASK_PATH}`, { body: { RequestId: 'R', TaskName: NAME, DesiredAgent: 1, AvailableAgent: 1, Status: 'Updating', Message: '' } });
    stub().on(`GET ${TASK_PATH}`, detail('Running', 1, 'Benchmark task is Running'));
    const res = await runCli(['bench', 'update', NAME, '-D', 'optional.maxQPS=500', '--define', 'optional.faultAction=stop', '-Doptional.maxRT=200.5'], { home });
    expect(res.code).toBe(0);
    expect(JSON.parse(stub().requests[0].body)).toEqual({ optional: { maxQPS: 500, faultAction: 'stop', maxRT: 200.5 } });
  });

  test('update with a malformed -D or a non-optional field sends nothing', async () => {
    const bad = await runCli(['bench', 'update', NAME, '-Dconcurrency=4'], { home });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/^\[ERROR\] InvalidField: concurrency: expected -Dsection\.key=value/);
    const other = await runCli(['bench', 'update', NAME, '-Dservice.serviceName=x'], { home });
    expect(other.stderr).toBe('[ERROR] InvalidField: service.serviceName: only optional.* fields can be updated\n');
    const none = await runCli(['bench', 'update', NAME], { home });
    expect(none.code).toBe(2);
    expect(stub().requests).toHaveLength(0);
  });

  test('an UpdateFailed task is an error line', async () => {
    stub().on(`PUT ${TASK_PATH}`, { body: { RequestId: 'R', TaskName: NAME, DesiredAgent: 1, AvailableAgent: 1, Status: 'Updating', Message: '' } });
    stub().on(`GET ${TASK_PATH}`, detail('UpdateFailed', 0, 'agents did not come up'));
    const res = await runCli(['bench', 'update', NAME, '-Doptional.agentCount=9'], { home });
    expect(res.code).toBe(1);
    expect(res.stderr).toBe('[ERROR] UpdateFailed: agents did not come up\n');
  });

  test('stop answered "n" on a piped stdin cancels: no request, exit 0', async () => {
    const res = await runCli(['bench', 'stop', NAME], { home, input: 'n\n' });
    expect(res).toEqual({ code: 0, stdout: `Are you sure to stop the benchmark task [${NAME}] in [cn-local]? [Y/n]\nCancelled.\n`, stderr: '' });
    expect(stub().requests).toHaveLength(0);
  });

  test('stop answered "y" stops and follows the agents to Stopped', async () => {
    stub().on(`PUT ${TASK_PATH}/stop`, { body: { RequestId: 'S-1', TaskName: NAME, Status: 'Stopping', Message: '' } });
    stub().on(`GET ${TASK_PATH}`, sequence([detail('Stopping', 0, 'Benchmark task is Running'), detail('Stopped', 0, 'Benchmark task is Stopped')]));
    const res = await runCli(['bench', 'stop', NAME], { home, input: 'Y\n' });
    expect(res.code).toBe(0);
    expect(res.stdout).toBe(
      [
        `Are you sure to stop the benchmark task [${NAME}] in [cn-local]? [Y/n]`,
        '[RequestId]: S-1',
        `[OK] Task [${NAME}] is stopping`,
        '[OK] [Agent: 0/1]: Benchmark task is Running',
        '[OK] [Agent: 0/1]: Benchmark task is Stopped',
        '[OK] Benchmark task is stopped',
        '',
      ].join('\n'),
    );
  });

  test('start with -y asks nothing and follows like create', async () => {
    stub().on(`PUT ${TASK_PATH}/start`, { body: { RequestId: 'S-2', TaskName: NAME, Status: 'Creating', Message: '' } });
    stub().on(`GET ${TASK_PATH}`, sequence([detail('Creating', 0, 'Succeed to start benchmark master'), detail('Running', 1, 'Benchmark task is Running')]));
    const res = await runCli(['bench', 'start', '-y', NAME], { home });
    expect(res.stdout).toBe(
      [
        '[RequestId]: S-2',
        `[OK] Task [${NAME}] is starting`,
        '[OK] [Agent: 0/1]: Succeed to start benchmark master',
        '[OK] [Agent: 1/1]: Benchmark task is Running',
        '[OK] Benchmark task is Running',
        '',
      ].join('\n'),
    );
  });

  test('delete (empty answer = yes) waits until the task is gone', async () => {
    stub().on(`DELETE ${TASK_PATH}`, { body: { RequestId: 'D-1', TaskName: NAME, Status: 'Deleting', Message: '' } });
    stub().on(`GET ${TASK_PATH}`, (_req, n) =>
      n < 2 ? detail('Deleting', 0, 'deleting') : { status: 404, body: { RequestId: requestId(), Code: 'TaskNotFound', Message: 'gone' } },
    );
    const res = await runCli(['bench', 'delete', NAME], { home, input: '\n' });
    expect(res.code).toBe(0);
    expect(res.stdout).toBe(
      [
        `Are you sure to delete the benchmark task [${NAME}] in [cn-local]? [Y/n]`,
        '[RequestId]: D-1',
        `[OK] Benchmark task ${NAME} is Deleting`,
        '[OK] Benchmark task was deleted successfully',
        '',
      ].join('\n'),
    );
  });

  test('a task that never gets anywhere times out with a Timeout line', async () => {
    stub().on('POST /api/v2/benchmark-tasks', createReply());
    stub().on(`GET ${TASK_PATH}`, detail('Creating', 0, 'waiting for agents'));
    const res = await runCli(['bench', 'create', taskFile({ service: { serviceName: 'demo' } })], { home, timing: { statusTimeoutMs: 50 } });
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/^\[ERROR\] Timeout: benchmark task benchmark-demo-1a2b did not get to Running \(still Creating: waiting for agents/);
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
    writeStubConfig(home, 'http://127.0.0.1:1');
    stub().on('GET /api/v2/benchmark-tasks', { body: { RequestId: 'R', Tasks: [] } });
    const res = await runCli(['--endpoint', stub().url, 'bench', 'ls'], { home });
    expect(res.code).toBe(0);
    const empty = tempHome();
    const none = await runCli(['--endpoint', stub().url, 'bench', 'ls'], { home: empty });
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/^\[ERROR\] InvalidParameter: no config file at .*; run: eascmd config -i AK -k SK -e http/);
  });

  test('a controller that does not answer is ControllerUnreachable naming the endpoint', async () => {
    writeStubConfig(home, 'http://127.0.0.1:1');
    const res = await runCli(['bench', 'ls'], { home });
    expect(res).toEqual({ code: 1, stdout: '', stderr: '[ERROR] ControllerUnreachable: cannot reach the controller at http://127.0.0.1:1: connection refused\n' });
  });
});
