import * as fs from 'node:fs';
import { createLatencyHistogram, encodeHistogram, recordUs } from '../../src/measure/histogram';
import { TaskEntry } from '../../controller/tasks/entry';
import { serviceHistory } from '../../controller/tasks/history';
import { RoundRecord, TaskRecord } from '../../controller/tasks/record';
import { TaskStore } from '../../controller/tasks/store';
import { resolveOptional, StatsPoint, Verdict } from '../../src/contract';
import { tempDir } from '../helpers/processes';

const verdict = (outcome: Verdict['Outcome']): Verdict => ({ Outcome: outcome, Thresholds: [], Text: `Verdict: ${outcome}` });

function record(taskName: string, serviceName: string, rounds: RoundRecord[]): TaskRecord {
  return {
    taskId: `eas-b-${taskName}`,
    taskName,
    region: 'cn-local',
    serviceName,
    spec: { service: { serviceName }, optional: { mode: 'scan' } },
    options: resolveOptional({ service: { serviceName }, optional: { mode: 'scan' } }),
    status: 'Stopped',
    message: '',
    createMs: 0,
    updateMs: 0,
    desiredAgent: 1,
    rounds,
    agentToken: 't',
  } as unknown as TaskRecord;
}

describe('bench history', () => {
  let dataDir: string;
  beforeEach(() => {
    dataDir = tempDir('history');
  });
  afterEach(() => fs.rmSync(dataDir, { recursive: true, force: true }));

  test("a service's finished rounds, newest first across tasks; running and other services' rounds left out; a round without its summary read from its seconds", () => {
    const store = new TaskStore(dataDir);
    const summary = { QPS: 100, TP99: 20, ErrorRate: 0 };
    const a = record('benchmark-a-0001', 'svc', [
      { roundId: 10001, startMs: 1000, endMs: 2000, verdict: verdict('passed'), summary, capacity: { QPS: 90, TP99: 19, ErrorRate: 0, Reason: 'maxRT' } },
      { roundId: 10002, startMs: 5000, endMs: 6000, verdict: verdict('failed'), summary: { ...summary, TP99: 80 } },
      // still running: no end, no verdict
      { roundId: 10003, startMs: 9000 },
    ]);
    const b = record('benchmark-b-0002', 'svc', [
      // stored before rounds kept their summary: read from the seconds
      { roundId: 10001, startMs: 3000, endMs: 4000, runningMs: 3000, loadEndMs: 4000, verdict: verdict('no capacity') },
      { roundId: 10002, startMs: 6500, endMs: 6000, verdict: verdict('passed'), summary },
    ]);
    const other = record('benchmark-c-0003', 'other', [{ roundId: 10001, startMs: 7000, endMs: 8000, verdict: verdict('passed'), summary }]);
    const rt = createLatencyHistogram();
    for (let i = 0; i < 50; i++) recordUs(rt, 30_000);
    const point: StatsPoint = { Time: 3, Elapsed: 0, Requests: 50, Success: 49, Errors: 1, BytesIn: 0, BytesOut: 0, Dropped: 0, StatusCodes: { '200': 49, '500': 1 }, RT: { Avg: 30, Min: 30, Max: 30, TP50: 30, TP75: 30, TP90: 30, TP95: 30, TP99: 30, TP999: 30 }, SendLagP99: 0, AgentsDesired: 1, AgentsAvailable: 1 };
    for (const r of [a, b, other]) store.save(r);
    store.appendSecond(b.taskName, 10001, { point, rt: encodeHistogram(rt), lag: encodeHistogram(createLatencyHistogram()) });
    const entries = [a, b, other].map((r) => new TaskEntry(r, store));

    const rows = serviceHistory(entries, 'svc');
    // a:10002 and b:10002 ended in the same millisecond with the same round id: by task name
    expect(rows.map((r) => `${r.TaskName}:${r.RoundId}`)).toEqual(['benchmark-a-0001:10002', 'benchmark-b-0002:10002', 'benchmark-b-0002:10001', 'benchmark-a-0001:10001']);
    expect(rows[3]).toMatchObject({ CapacityQPS: 90, QPS: 100, TP99: 20, Outcome: 'passed', Mode: 'scan' });
    expect(rows[0]).toMatchObject({ TP99: 80, Outcome: 'failed' });
    expect(rows[0]).not.toHaveProperty('CapacityQPS');
    expect(rows[2]).toMatchObject({ QPS: 50, ErrorRate: 0.02, Outcome: 'no capacity' });
    expect(rows[2].TP99).toBeCloseTo(30, 1);
    expect(serviceHistory(entries, 'nothing')).toEqual([]);
  });
});
