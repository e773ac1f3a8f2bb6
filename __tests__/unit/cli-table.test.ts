import { descRows, renderDesc } from '../../src/cli/desc';
import { LS_HEADERS } from '../../src/cli/ls';
import { GetTaskResponse } from '../../src/contract';
import { renderKeyValueTable, renderTable, wrapText } from '../../src/output/table';

// The `bench ls` sample of the reference (eas-service-stress-testing.txt), verbatim.
const REFERENCE_LS = [
  '+-------------------------+--------------------------+-------------+----------------+---------+---------------------+',
  '|        TASKNAME         |          TASKID          |   REGION    | AVAILABLEAGENT | STATUS  |     CREATETIME      |',
  '+-------------------------+--------------------------+-------------+----------------+---------+---------------------+',
  '| benchmark-***-test-**** | eas-b-ql470xog6qeh25**** | cn-shanghai |              0 | Stopped | 2022-06-17 17:58:01 |',
  '| benchmark-***-test-**** | eas-b-bdnzvwq0z0h3xq**** | cn-shanghai |              2 | Running | 2022-06-20 12:18:54 |',
  '+-------------------------+--------------------------+-------------+----------------+---------+---------------------+',
].join('\n');

function task(overrides: Partial<GetTaskResponse> = {}): GetTaskResponse {
  return {
    RequestId: 'R',
    TaskName: 'benchmark-xgb-test-b514',
    TaskId: 'eas-b-bdnzvwq0z0h3xq1234',
    ServiceName: 'xgb_test',
    Mode: 'manual',
    Region: 'cn-shanghai',
    DesiredAgent: 2,
    AvailableAgent: 2,
    Status: 'Running',
    Message: 'Benchmark task is running',
    CreateTime: '2021-10-20 12:38:35',
    UpdateTime: '2021-10-20 12:38:45',
    Config: { service: { serviceName: 'xgb_test' }, optional: { mode: 'manual', duration: 1200, agentCount: 2, concurrency: 40, requestCount: 9223372036854 } },
    RoundId: 10001,
    ElapsedS: 10,
    DurationS: 1200,
    Events: [],
    ...overrides,
  };
}

describe('cli tables', () => {
  test('bench ls renders the reference sample byte for byte (centred headers, numbers right-aligned)', () => {
    const rows = [
      ['benchmark-***-test-****', 'eas-b-ql470xog6qeh25****', 'cn-shanghai', 0, 'Stopped', '2022-06-17 17:58:01'],
      ['benchmark-***-test-****', 'eas-b-bdnzvwq0z0h3xq****', 'cn-shanghai', 2, 'Running', '2022-06-20 12:18:54'],
    ];
    expect(renderTable(LS_HEADERS, rows)).toBe(REFERENCE_LS);
  });

  test('an empty ls still shows the header', () => {
    expect(renderTable(['TaskName', 'Status'], []).split('\n')).toEqual(['+----------+--------+', '| TASKNAME | STATUS |', '+----------+--------+']);
  });

  test('bench desc: right-aligned keys, a 76-column value cell, Config pretty JSON inside the cell', () => {
    const expected = [
      '+----------------+------------------------------------------------------------------------------+',
      '|       TaskName | benchmark-xgb-test-b514                                                      |',
      '|         TaskId | eas-b-bdnzvwq0z0h3xq1234                                                     |',
      '|    ServiceName | xgb_test                                                                     |',
      '|         Region | cn-shanghai                                                                  |',
      '|   DesiredAgent | 2                                                                            |',
      '| AvailableAgent | 2                                                                            |',
      '|         Status | Running                                                                      |',
      '|        Message | Benchmark task is running                                                    |',
      '|     CreateTime | 2021-10-20 12:38:35                                                          |',
      '|     UpdateTime | 2021-10-20 12:38:45                                                          |',
      '|         Config | {                                                                            |',
      '|                |   "base": {                                                                  |',
      '|                |     "agentCount": 2,                                                         |',
      '|                |     "concurrency": 40,                                                       |',
      '|                |     "duration": 1200,                                                        |',
      '|                |     "requestCount": 9223372036854                                            |',
      '|                |   },                                                                         |',
      '|                |   "service": {                                                               |',
      '|                |     "serviceName": "xgb_test"                                                |',
      '|                |   },                                                                         |',
      '|                |   "optional": {                                                              |',
      '|                |     "mode": "manual"                                                         |',
      '|                |   }                                                                          |',
      '|                | }                                                                            |',
      '+----------------+------------------------------------------------------------------------------+',
    ].join('\n');
    expect(renderDesc(task())).toBe(expected);
  });

  test('bench desc adds CurrentQPS, TP99, ErrorRate (percent) and Capacity when present', () => {
    const out = renderDesc(task({ CurrentQPS: 1450.234, TP99: 182.37, ErrorRate: 0.0002, Capacity: { QPS: 1450, TP99: 182, ErrorRate: 0.0002, Reason: 'maxRT' } }));
    expect(out).toContain('|     CurrentQPS | 1450.23 ');
    expect(out).toContain('|           TP99 | 182.37 ms ');
    expect(out).toContain('|      ErrorRate | 0.02% ');
    expect(out).toContain('|       Capacity | 1450 QPS, TP99 182 ms, error rate 0.02% (maxRT) ');
    for (const line of out.split('\n')) expect(line).toHaveLength(97);
  });

  test('long values wrap inside the cell: at a space when there is one, continuations at the left edge', () => {
    const message = `${'word '.repeat(20)}end`;
    const out = renderKeyValueTable([['Message', message]], { valueWidth: 30 });
    const lines = out.split('\n');
    expect(lines[1]).toBe('| Message | word word word word word word  |');
    expect(lines[2]).toBe('|         | word word word word word word  |');
    for (const line of lines) expect(line).toHaveLength(lines[0].length);
    expect(wrapText('    "requestCount": 9223372036854775807,', 30)).toEqual(['    "requestCount":', '9223372036854775807,']);
    expect(wrapText('x'.repeat(65), 30)).toEqual(['x'.repeat(30), 'x'.repeat(30), 'x'.repeat(5)]);
  });

  test('desc Config: an unlimited requestCount is the reference\'s max int64, exactly', () => {
    const unlimited = task({ Config: { service: { serviceName: 's' }, optional: { mode: 'auto', duration: 60 } } });
    const config = descRows(unlimited).find(([key]) => key === 'Config')?.[1] ?? '';
    expect(JSON.parse(config.replace('9223372036854775807', '"max"'))).toEqual({
      base: { agentCount: 1, concurrency: 2, duration: 60, requestCount: 'max' },
      service: { serviceName: 's' },
      optional: { mode: 'auto' },
    });
    expect(config).toContain('"requestCount": 9223372036854775807\n');
  });

  test('desc shortens huge strings (base64 bodies) in the Config cell', () => {
    const big = task({ Config: { service: { serviceName: 's' }, data: { content: 'A'.repeat(100000) } } });
    const config = descRows(big).find(([key]) => key === 'Config')?.[1] ?? '';
    expect(config).toContain(`"content": "${'A'.repeat(48)}... (cut: 100000 chars; bench desc --json shows it whole)"`);
    const out = renderDesc(big);
    expect(out.length).toBeLessThan(5000);
  });
});
