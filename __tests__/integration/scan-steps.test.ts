import { TaskEvent } from '../../src/contract';
import { signedFetch } from '../helpers/api';
import { lastJson, runEascmd } from '../helpers/processes';
import { ModeDetail, useModeServices } from '../helpers/scan-auto';

/**
 * The mode against a service of known capacity.
 * @runAlone: its bound is the service's, not the machine's; with the suite beside it such files failed
 * their bounds in fresh-clone runs (README.md, "Run the tests").
 */
describe('scan against services of known capacity: its steps', () => {
  const { controller, queueUrl, errorsUrl, runTask } = useModeServices({ queue: true, errors: true });

  test('scan holds the last step whose TP99 met maxRT', async () => {
    // steps 100, 140, 180, 220: 220 is over the capacity of 200, so its TP99 explodes past maxRT
    const { detail, series } = await runTask({ service: { serviceName: 'queue', url: `${queueUrl()}/predict` }, optional: { mode: 'scan', minQPS: 100, qpsGrowthDelta: 40, adjustInterval: 4, maxQPS: 1000, maxRT: 100, duration: 34 } });
    expect(detail.Capacity).toMatchObject({ QPS: 180, Reason: 'maxRT' });
    expect(detail.Message).toContain('duration of 34 s reached');
    // after 220 failed, its backlog drains (target 0; longer on a busy machine) and then 180 is held to the end
    expect([...series.Series].reverse().find((p) => (p.TargetQPS ?? 0) > 0)?.TargetQPS).toBe(180);
    expect(detail.Events.some((e) => e.Kind === 'hold' && /TP99 .* > maxRT 100 ms, holding 180 QPS/.test(e.Message))).toBe(true);
  });

  test('scan ends its growth when the next step passes maxQPS; its steps are the same in desc --json, the stats API and the report', async () => {
    const { detail, series } = await runTask({ service: { serviceName: 'errors', url: `${errorsUrl()}/p` }, optional: { mode: 'scan', minQPS: 50, qpsGrowthDelta: 25, adjustInterval: 3, maxQPS: 100, duration: 14 } });
    expect(detail.Capacity).toMatchObject({ QPS: 100, Reason: 'maxQPS' });
    const stepsOf = (events: TaskEvent[]) => events.filter((e) => e.Kind === 'verdict').map((e) => e.Step);
    const steps = stepsOf(detail.Events);
    expect(steps.map((s) => [s?.TargetQPS, s?.Verdict, s?.Why])).toEqual([50, 75, 100].map((qps) => [qps, 'good', 'error rate <= faultTolerate 0.10%']));
    const desc = lastJson<ModeDetail>((await runEascmd(['-c', controller().configFile, 'bench', 'desc', detail.TaskName, '--json'])).stdout);
    expect(stepsOf(desc.Events)).toEqual(steps);
    expect(stepsOf(series.Events)).toEqual(steps);
    const c = controller();
    const report = await signedFetch(c.url, c.accessId, c.secret, 'GET', `/api/v2/benchmark-tasks/cn-local/${detail.TaskName}/report`);
    const reportData = (await (await fetch(report.json.JsonUrl as string)).json()) as ModeDetail;
    expect(stepsOf(reportData.Events)).toEqual(steps);
  });
});
