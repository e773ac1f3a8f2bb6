import { API_PREFIX, ERROR_CLASSES, GetTaskResponse, LlmStatistic, RoundResult } from '../../src/contract';
import { signedFetch } from '../helpers/api';
import { asPromQl, dashboardQueries } from '../helpers/grafana';
import { startPrometheus, PrometheusProcess } from '../helpers/prometheus';
import { ControllerProcess, FixtureProcess, killAllStarted, OpenAiFixtureProcess, startController, startFixture, startOpenAiFixture, waitFor } from '../helpers/processes';

/**
 * SPEC 8: the controller's `GET /metrics` scraped by a real Prometheus
 * (Debian's, every second, with the bearer token the controller was started
 * with in its env form), read back through Prometheus's query API: a short
 * round's figures there equal desc's.
 */

const TOKEN = 'prom-scrape-token-0123456789';
/** Prometheus writes a float64 in its shortest form, as JSON does: a figure read back equals desc's exactly. */
const RESULT_QUANTILES: [string, keyof RoundResult][] = [
  ['0', 'MinRT'], ['0.5', 'TP50'], ['0.75', 'TP75'], ['0.9', 'TP90'], ['0.95', 'TP95'], ['0.99', 'TP99'], ['0.999', 'TP999'], ['1', 'MaxRT'],
];

describe('GET /metrics through a real Prometheus', () => {
  let controller: ControllerProcess;
  let fixture: FixtureProcess;
  let openai: OpenAiFixtureProcess;
  let prometheus: PrometheusProcess;

  beforeAll(async () => {
    fixture = await startFixture(['--latency-ms', '2', '--error-rate', '0.1']);
    openai = await startOpenAiFixture();
    controller = await startController({ env: { EAS_BENCH_METRICS_TOKEN: TOKEN } });
    prometheus = await startPrometheus(new URL(controller.url).host, { bearerToken: TOKEN });
  });
  afterAll(async () => {
    await prometheus?.stop();
    await controller?.stop();
    await fixture?.stop();
    await openai?.stop();
    killAllStarted();
  });

  const api = (method: string, p: string, body?: string) => signedFetch(controller.url, controller.accessId, controller.secret, method, p, body);
  const create = async (task: unknown): Promise<string> => {
    const res = await api('POST', API_PREFIX, JSON.stringify(task));
    if (res.status !== 200) throw new Error(`create refused: ${JSON.stringify(res.json)}`);
    return String(res.json.TaskName);
  };
  const desc = async (name: string): Promise<GetTaskResponse> => (await api('GET', `${API_PREFIX}/cn-local/${name}`)).json as unknown as GetTaskResponse;
  const stopped = (name: string): Promise<GetTaskResponse> => waitFor(`${name} to stop`, async () => {
    const d = await desc(name);
    return d.Status === 'Stopped' ? d : undefined;
  }, 60000);
  /** Waits until Prometheus holds a scrape taken after the round ended: its request count is desc's. */
  const scrapedAfterEnd = (name: string, total: number): Promise<true> => waitFor(`a scrape of ${name}'s final figures`, async () => {
    const samples = await prometheus.query(`sum(easbench_requests_total{task="${name}"})`);
    return samples.length === 1 && samples[0].value === total ? true : undefined;
  }, 20000, 250);

  test('the endpoint asks for the token; Prometheus, given it, scrapes the target (up)', async () => {
    const plain = await fetch(`${controller.url}/metrics`);
    expect(plain.status).toBe(401);
    expect(plain.headers.get('www-authenticate')).toMatch(/^Bearer/);
    await waitFor('the target up', async () => ((await prometheus.query('up{job="easbench"}'))[0]?.value === 1 ? true : undefined), 20000, 250);
  });

  test('an open-loop round: requests by code, errors by class, latency quantiles, QPS, send lag, generator-limited seconds and each request name\'s figures equal desc', async () => {
    const name = await create({
      service: { serviceName: 'prom_http', url: `${fixture.url}/ok` },
      requests: [
        { name: 'read', path: '/ok?kind=read', weight: 3 },
        { name: 'write', method: 'POST', path: '/ok?kind=write', body: '{"id":1}', weight: 1 },
      ],
      optional: { mode: 'scan', minQPS: 60, maxQPS: 60, qpsGrowthDelta: 1, adjustInterval: 1200, duration: 4, faultTolerate: 1 },
    });
    // while it runs: its agents, the rate asked and the current second are there
    await waitFor('the running round in Prometheus', async () => {
      const ready = await prometheus.query(`easbench_agents{task="${name}",state="ready"}`);
      const target = await prometheus.query(`easbench_target_qps{task="${name}"}`);
      const second = await prometheus.query(`easbench_response_time_ms{task="${name}",window="second",quantile="0.99"}`);
      return ready[0]?.value >= 1 && target[0]?.value === 60 && second.length === 1 ? true : undefined;
    }, 30000, 250);
    const done = await stopped(name);
    const result = done.Result as RoundResult;
    const round = String(done.RoundId);
    expect(result.TotalRequests).toBeGreaterThan(100);
    expect(result.ErrorRequests).toBeGreaterThan(0);
    await scrapedAfterEnd(name, result.TotalRequests);
    const sel = `task="${name}",round="${round}"`;

    const byCode = Object.fromEntries((await prometheus.query(`easbench_requests_total{${sel}}`)).map((s) => [s.metric.code, s.value]));
    expect(byCode).toEqual(result.StatusCodes);
    expect(Object.keys(byCode).sort()).toEqual(['200', '500']);

    const classes = await prometheus.query(`easbench_errors_total{${sel}}`);
    // the fixture's 500s are complete answers: their class is `http status`, and Prometheus has every class desc has
    expect(result.ErrorClasses).toEqual({ 'http status': result.ErrorRequests });
    expect(Object.fromEntries(classes.map((s) => [s.metric.class, s.value]))).toEqual(Object.fromEntries(ERROR_CLASSES.map((c) => [c, result.ErrorClasses?.[c] ?? 0])));

    for (const [quantile, key] of RESULT_QUANTILES) {
      expect([quantile, await prometheus.value(`easbench_response_time_ms{${sel},window="round",quantile="${quantile}"}`)]).toEqual([quantile, result[key]]);
    }
    expect(await prometheus.value(`easbench_response_time_avg_ms{${sel},window="round"}`)).toBe(result.AvgRT);
    expect(await prometheus.value(`easbench_achieved_qps{${sel},window="round"}`)).toBe(result.QPS);
    expect(await prometheus.value(`easbench_send_lag_p99_ms{${sel},window="round"}`)).toBe(result.SendLagP99);
    expect(await prometheus.value(`easbench_generator_limited_seconds_total{${sel}}`)).toBe(result.GeneratorLimitedSeconds);
    expect(await prometheus.value(`easbench_dropped_requests_total{${sel}}`)).toBe(result.Dropped);

    // each name's figures, as desc's Result.ByName
    const byName = result.ByName ?? [];
    expect(byName.map((n) => n.Name).sort()).toEqual(['read', 'write']);
    for (const n of byName) {
      const named = `${sel},name="${n.Name}"`;
      expect(await prometheus.value(`easbench_named_requests_total{${named}}`)).toBe(n.Requests);
      expect(await prometheus.value(`easbench_named_errors_total{${named}}`)).toBe(n.Errors);
      expect(await prometheus.value(`easbench_named_qps{${named}}`)).toBe(n.QPS);
      const quantiles = Object.fromEntries((await prometheus.query(`easbench_named_response_time_ms{${named}}`)).map((q) => [q.metric.quantile, q.value]));
      expect(quantiles).toEqual({ '0.5': n.TP50, '0.9': n.TP90, '0.99': n.TP99, '0.999': n.TP999 });
    }
    expect(byName.reduce((sum, n) => sum + n.Requests, 0)).toBe(result.TotalRequests);
    // a finished round has no current second, no target and no agents
    expect(await prometheus.query(`easbench_response_time_ms{${sel},window="second"}`)).toEqual([]);
    expect(await prometheus.query(`easbench_agents{task="${name}"}`)).toEqual([]);
    // the round's figures are final before its report is written and the task says Stopped: a later scrape shows the status
    await waitFor('a scrape of the task Stopped', async () => ((await prometheus.value('easbench_tasks{status="Stopped"}')) >= 1 ? true : undefined), 20000, 250);

    // deploy/grafana's queries are PromQL Prometheus takes (label_values is Grafana's own), and the rate panel shows this round
    const panels = dashboardQueries().filter((q) => !q.expr.startsWith('label_values('));
    for (const { where, expr } of panels) await expect(prometheus.query(asPromQl(expr, name)).then(() => where)).resolves.toBe(where);
    const rate = panels.find((q) => q.expr.includes('rate(easbench_requests_total'));
    expect((await prometheus.query(asPromQl(rate?.expr ?? '', name))).map((s) => s.metric.code).sort()).toEqual(['200', '500']);
  });

  test('an LLM round: TTFT, TPOT, ITL and E2EL quantiles and token figures equal desc', async () => {
    const name = await create({
      service: { serviceName: 'prom_llm', url: openai.url },
      llm: { api: 'chat', model: 'fixture', requestCount: 100, testMode: 'concurrency', concurrency: 10, dataset: { type: 'synthetic', inputTokens: [20, 30], outputTokens: [10, 10] } },
    });
    const done = await stopped(name);
    const llm = done.LLM;
    if (!llm) throw new Error(`desc of ${name} has no LLM section`);
    await scrapedAfterEnd(name, (done.Result as RoundResult).TotalRequests);
    const sel = `task="${name}",round="${done.RoundId}"`;
    for (const [metric, key] of [['ttft', 'TTFT'], ['tpot', 'TPOT'], ['itl', 'ITL'], ['e2el', 'E2EL']] as const) {
      const statistic: LlmStatistic = llm.Total[key];
      const read = Object.fromEntries((await prometheus.query(`easbench_llm_${metric}_ms{${sel}}`)).map((s) => [s.metric.quantile, s.value]));
      const expected: Record<string, number> = { 0: statistic.Min, 0.5: statistic.Median, 1: statistic.Max };
      for (const [k, v] of Object.entries(statistic)) if (/^P\d/.test(k)) expected[String(Number(k.slice(1)) / 100)] = v;
      expect([key, read]).toEqual([key, expected]);
      expect(await prometheus.value(`easbench_llm_${metric}_avg_ms{${sel}}`)).toBe(statistic.Average);
    }
    expect(await prometheus.value(`easbench_llm_token_throughput{${sel},window="round",kind="output"}`)).toBe(llm.Common.OutputTokenThroughput);
    expect(await prometheus.value(`easbench_llm_token_throughput{${sel},window="round",kind="input"}`)).toBe(llm.Common.InputTokenThroughput);
    expect(await prometheus.value(`easbench_llm_tokens_total{${sel},kind="output"}`)).toBe(llm.Common.TotalGeneratedTokens);
    expect(await prometheus.value(`easbench_llm_request_throughput{${sel}}`)).toBe(llm.Common.RequestThroughput);
  });
});
