import { useModeServices } from '../helpers/scan-auto';

/**
 * scan's faultAction against a service whose errors start above a rate.
 * @runAlone: revise's last window stayed over faultTolerate once with the suite beside it (3.3% against 1%, a
 * fresh-clone run): the agents' lag there moves the rate the service sees.
 */
describe('scan against a service that fails above a rate: faultAction', () => {
  const { errorsUrl, runTask } = useModeServices({ errors: true });

  test('revise brings the error rate under faultTolerate within three windows', async () => {
    const { detail, series } = await runTask({ service: { serviceName: 'errors', url: `${errorsUrl()}/p` }, optional: { mode: 'scan', minQPS: 100, qpsGrowthDelta: 50, adjustInterval: 3, maxQPS: 1000, faultTolerate: 0.01, faultAction: 'revise', duration: 24 } });
    expect(detail.Capacity?.Reason).toBe('faultTolerate');
    expect(detail.Capacity!.QPS).toBeLessThanOrEqual(150);
    const verdictAt = detail.Events.findIndex((e) => e.Kind === 'verdict' && /faultTolerate/.test(e.Message));
    const holdAt = detail.Events.findIndex((e) => e.Kind === 'hold');
    const revisions = detail.Events.slice(verdictAt, holdAt).filter((e) => e.Kind === 'revise').length;
    expect(revisions).toBeLessThanOrEqual(3);
    const last = series.Series[series.Series.length - 2];
    expect(last.Errors / Math.max(1, last.Requests)).toBeLessThanOrEqual(0.01);
  });

  test('stop holds the QPS at which the error budget broke; the capacity is the last step that met it', async () => {
    const { detail, series } = await runTask({ service: { serviceName: 'errors', url: `${errorsUrl()}/p` }, optional: { mode: 'scan', minQPS: 100, qpsGrowthDelta: 100, adjustInterval: 3, maxQPS: 1000, faultTolerate: 0.01, faultAction: 'stop', duration: 14 } });
    expect(detail.Capacity).toMatchObject({ QPS: 100, Reason: 'faultTolerate', ErrorRate: 0 });
    expect(series.Series[series.Series.length - 2].TargetQPS).toBe(200);
  });
});
