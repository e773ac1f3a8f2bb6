import { GetTaskResponse, LlmRecomputeResponse, StatsResponse } from '../../src/contract';
import { signedGetText } from '../helpers/api';
import { createAndWait, eascmdOk, llmRecords, writeLlmTask } from '../helpers/llm';
import { ControllerProcess, killAllStarted, lastJson, OpenAiFixtureProcess, runEascmd, startController, startOpenAiFixture, tempDir } from '../helpers/processes';

const TTFT_MS = 60;
const TPOT_MS = 4;
const OUTPUT_TOKENS = 16;

/**
 * The live and stored LLM figures come from the agents' per-second
 * histograms; `bench recompute` computes them again, exactly, from the
 * stored records. One run of 100 requests at concurrency 4 against the
 * fixture serves every check.
 */
describe('LLM percentiles, concurrency per second and bench recompute (real controller, agents, eascmd, OpenAI fixture)', () => {
  let controller: ControllerProcess;
  let fixture: OpenAiFixtureProcess;
  let detail: GetTaskResponse;
  const figures: string[] = [];

  beforeAll(async () => {
    const dir = tempDir('llm-recompute');
    fixture = await startOpenAiFixture(['--ttft-ms', String(TTFT_MS), '--tpot-ms', String(TPOT_MS)]);
    controller = await startController();
    const file = writeLlmTask(dir, fixture.url, {
      testMode: 'concurrency',
      concurrency: 4,
      percentiles: [50, 90, 99.9],
      dataset: { type: 'synthetic', inputTokens: [20, 40], outputTokens: [OUTPUT_TOKENS, OUTPUT_TOKENS] },
    });
    detail = await createAndWait(controller, file);
  }, 120_000);

  afterAll(async () => {
    await controller?.stop();
    await fixture?.stop();
    killAllStarted();
    if (figures.length) process.stdout.write(`${figures.join('\n')}\n`);
  });

  test('llm.percentiles shapes the tables of GET task: Median, P90, P99.9', () => {
    const llm = detail.LLM;
    expect(llm?.Computed).toBe('histograms');
    expect(llm?.Percentiles).toEqual([50, 90, 99.9]);
    expect(Object.keys(llm?.Total.TTFT ?? {})).toEqual(['Average', 'Min', 'Max', 'Median', 'P90', 'P99.9', 'N']);
    expect(llm?.Total.TTFT.N).toBe(100);
    expect(llm?.Common).toMatchObject({ TotalRequests: 100, SuccessRequests: 100, MaxConcurrency: 4, TotalGeneratedTokens: 100 * OUTPUT_TOKENS });
  });

  test('every second carries the requests in flight; the steady stage lies within the run', async () => {
    const stats = JSON.parse((await signedGetText(controller, `/api/v2/benchmark-tasks/cn-local/${detail.TaskName}/stats`)).text) as StatsResponse;
    const series = stats.Series;
    expect(series.length).toBeGreaterThan(0);
    expect(Math.max(...series.map((p) => p.MaxInFlight ?? 0))).toBe(4);
    expect(series.every((p) => p.InFlight !== undefined && p.InFlight <= 4.001)).toBe(true);
    // the mean in flight over the busy seconds: close to 4 while the four streams run
    expect(Math.max(...series.map((p) => p.InFlight ?? 0))).toBeGreaterThan(3);
    const stage = detail.LLM?.StableStage;
    const records = (await llmRecords(controller, detail.TaskName)).Records;
    const firstSend = Math.min(...records.map((r) => r.sendMs));
    const lastEnd = Math.max(...records.map((r) => r.endMs));
    expect(stage).toBeDefined();
    expect(stage?.StartMs).toBeGreaterThanOrEqual(firstSend - 1);
    expect(stage?.EndMs).toBeLessThanOrEqual(lastEnd + 1);
    expect(detail.LLM?.StableCommon?.MaxConcurrency).toBe(4);
  });

  test('bench recompute: exact figures from the 100 stored records, close to the histograms; --steady and --percentiles change them', async () => {
    const exact = lastJson<LlmRecomputeResponse>(await eascmdOk(controller, ['bench', 'recompute', detail.TaskName, '--json']));
    expect(exact.Records).toBe(100);
    expect(exact.LLM.Computed).toBe('records');
    expect(Object.keys(exact.LLM.Total.E2EL)).toEqual(['Average', 'Min', 'Max', 'Median', 'P90', 'P99.9', 'N']);
    const live = detail.LLM;
    if (!live) throw new Error('no LLM section');
    // averages, extremes and counts are exact in both; percentiles within the histograms' 0.1% (plus the gap between two samples)
    for (const metric of ['TTFT', 'E2EL', 'TPOT'] as const) {
      expect(exact.LLM.Total[metric].Average).toBeCloseTo(live.Total[metric].Average, 2);
      expect(exact.LLM.Total[metric].Max).toBeCloseTo(live.Total[metric].Max, 2);
      expect(Math.abs(exact.LLM.Total[metric].Median - live.Total[metric].Median) / exact.LLM.Total[metric].Median).toBeLessThan(0.02);
    }
    expect(exact.LLM.Common).toMatchObject({ TotalRequests: 100, MaxConcurrency: 4, TotalGeneratedTokens: live.Common.TotalGeneratedTokens });
    // the steady stage: both count the requests sent in t2..t4 and divide by t4 - t2
    const liveStable = live.StableCommon;
    const exactStable = exact.LLM.StableCommon;
    if (!liveStable || !exactStable) throw new Error(`no steady stage: ${live.StableAbsent ?? exact.LLM.StableAbsent}`);
    figures.push(
      `recompute: E2EL median ${exact.LLM.Total.E2EL.Median} ms exact, ${live.Total.E2EL.Median} ms from histograms; ` +
        `stable requests ${exactStable.TotalRequests} exact, ${liveStable.TotalRequests} live; ` +
        `stable ${exactStable.RequestThroughput} req/s exact, ${liveStable.RequestThroughput} req/s live`,
    );
    expect(Math.abs(liveStable.TotalRequests - exactStable.TotalRequests)).toBeLessThanOrEqual(1);
    expect(Math.abs(liveStable.BenchmarkDuration - exactStable.BenchmarkDuration)).toBeLessThan(5);
    expect(live.Stable?.E2EL.N).toBe(liveStable.SuccessRequests);

    const none = lastJson<LlmRecomputeResponse>(await eascmdOk(controller, ['bench', 'recompute', detail.TaskName, '--steady', 'none', '--percentiles', '25,75', '--json']));
    expect(none.LLM.Stable).toBeUndefined();
    expect(none.LLM.StableAbsent).toBe('steady stage not computed (--steady none)');
    expect(none.LLM.StableStage).toBeUndefined();
    expect(Object.keys(none.LLM.Total.E2EL)).toEqual(['Average', 'Min', 'Max', 'Median', 'P25', 'P75', 'N']);

    const window = lastJson<LlmRecomputeResponse>(await eascmdOk(controller, ['bench', 'recompute', detail.TaskName, '--steady', '0-0.5', '--json']));
    const records = (await llmRecords(controller, detail.TaskName)).Records;
    const firstSend = Math.min(...records.map((r) => r.sendMs));
    expect(window.LLM.Stable?.E2EL.N).toBe(records.filter((r) => r.sendMs <= firstSend + 500).length);
    expect(window.LLM.StableCommon?.BenchmarkDuration).toBe(500);

    const text = await eascmdOk(controller, ['bench', 'recompute', detail.TaskName]);
    expect(text).toContain(`recomputed from 100 records`);
    expect(text).toMatch(/PERFORMANCE PARAMETERS.*MEDIAN.*P90.*P99\.9/);
    // the common metrics under AISBench's names, with spaces, in the table and in the JSON
    expect(text).toMatch(/Benchmark Duration .*total/);
    expect(text).toContain('Max Concurrency');
    expect(exact.LLM.CommonMetric?.Total).toMatchObject({ 'Benchmark Duration': exact.LLM.Common.BenchmarkDuration, 'Max Concurrency': 4, 'Total Requests': 100 });
    expect(detail.LLM?.CommonMetric?.Stable?.['Max Concurrency']).toBe(4);
  });

  test('bad --steady and --percentiles are refused in one line naming the option', async () => {
    const bad = await runEascmd(['-c', controller.configFile, 'bench', 'recompute', detail.TaskName, '--steady', 'later'], { timeoutMs: 30000 });
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain('--steady must be auto, none or FROM-TO');
    const badP = await runEascmd(['-c', controller.configFile, 'bench', 'recompute', detail.TaskName, '--percentiles', '99,50'], { timeoutMs: 30000 });
    expect(badP.code).not.toBe(0);
    expect(badP.stderr).toContain('--percentiles must be ascending');
  });
});
