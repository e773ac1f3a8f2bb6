import { idleLauncher, InProcessController, startInProcessController } from '../helpers/controller';
import { dashboardQueries, readDashboard } from '../helpers/grafana';

/**
 * deploy/grafana/'s dashboard against what the controller exports: every
 * metric a query names is in the controller's registry (read from it, not
 * listed here), and every label a query matches or groups by is one of that
 * metric's. That its PromQL parses is checked by a real Prometheus
 * (integration/prometheus.test.ts).
 */

type Exported = ReadonlyMap<string, readonly string[]>;

/** What is wrong with one query: unknown metrics, labels a metric does not have, or no metric at all. */
function problems(expr: string, exported: Exported): string[] {
  const found: string[] = [];
  const names = new Set<string>();
  const labelValues = /label_values\(\s*(\w+)\s*,\s*(\w+)\s*\)/.exec(expr);
  if (labelValues) {
    const labels = exported.get(labelValues[1]);
    if (!labels) found.push(`${labelValues[1]} is not exported`);
    else if (!labels.includes(labelValues[2])) found.push(`${labelValues[1]} has no label ${labelValues[2]}`);
    return found;
  }
  for (const m of expr.matchAll(/\b(easbench_\w+)(?:\{([^}]*)\})?/g)) {
    const labels = exported.get(m[1]);
    names.add(m[1]);
    if (!labels) {
      found.push(`${m[1]} is not exported`);
      continue;
    }
    for (const matcher of (m[2] ?? '').matchAll(/(\w+)\s*(?:=~|!~|!=|=)/g)) if (!labels.includes(matcher[1])) found.push(`${m[1]} has no label ${matcher[1]}`);
  }
  if (names.size === 0) found.push('names no metric of the controller');
  const known = new Set([...names].flatMap((n) => exported.get(n) ?? []));
  for (const group of expr.matchAll(/\b(?:by|without)\s*\(([^)]*)\)/g)) {
    for (const label of group[1].split(',').map((l) => l.trim()).filter(Boolean)) if (!known.has(label)) found.push(`groups by ${label}, which none of its metrics has`);
  }
  return found;
}

describe('the Grafana dashboard (deploy/grafana)', () => {
  let c: InProcessController;
  let exported: Exported;
  beforeAll(async () => {
    c = await startInProcessController({}, { launcher: idleLauncher });
    const { registry, labelNames } = c.controller.prometheus;
    // the names as the registry holds them; the labels as each was defined
    exported = new Map(registry.getMetricsAsArray().map((m) => [m.name, labelNames.get(m.name) ?? []]));
  });
  afterAll(async () => {
    await c?.close();
  });

  test('every query names metrics the controller exports, with labels they have', () => {
    const queries = dashboardQueries();
    expect(queries.length).toBeGreaterThan(10);
    const wrong = queries.flatMap(({ where, expr }) => problems(expr, exported).map((p) => `${where}: ${p}`));
    expect(wrong).toEqual([]);
  });

  test('it shows the rate, latency quantiles, errors by class, agents and the generator-limited share', () => {
    const all = dashboardQueries().map((q) => q.expr).join('\n');
    expect(all).toMatch(/rate\(easbench_requests_total\{/);
    expect(all).toMatch(/easbench_response_time_ms\{[^}]*quantile=~/);
    expect(all).toMatch(/sum by \(task, class\) \(rate\(easbench_errors_total\{/);
    expect(all).toMatch(/sum by \(task, state\) \(easbench_agents\{/);
    expect(all).toMatch(/rate\(easbench_generator_limited_seconds_total\{/);
    const dashboard = readDashboard();
    expect(dashboard.uid).toBe('eas-bench');
    expect(dashboard.templating?.list.map((v) => v.name)).toEqual(['datasource', 'task']);
  });

  test('the check is not one that passes everything: a misspelt metric or a label the metric lacks is caught', () => {
    expect(problems('sum(rate(easbench_request_total[1m]))', exported)).toEqual(['easbench_request_total is not exported']);
    expect(problems('easbench_agents{code="200"}', exported)).toEqual(['easbench_agents has no label code']);
    expect(problems('sum by (quantile) (easbench_tasks)', exported)).toEqual(['groups by quantile, which none of its metrics has']);
    expect(problems('label_values(easbench_tasks, task)', exported)).toEqual(['easbench_tasks has no label task']);
    expect(problems('up', exported)).toEqual(['names no metric of the controller']);
  });
});
