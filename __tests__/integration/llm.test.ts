import { GetTaskResponse, LlmRecomputeResponse, LlmResult } from '../../src/contract';
import { signedGetText } from '../helpers/api';
import { createAndWait, createAndWaitLines, eascmdOk, llmRecords, taskDetail, useLlmFixture, within, writeLlmTask } from '../helpers/llm';
import { ControllerProcess, lastJson, OpenAiFixtureProcess } from '../helpers/processes';

const TTFT_MS = 200;
const TPOT_MS = 5;
const OUTPUT_TOKENS = 32;

/** What an LLM task counts and says (cut streams, the steady stage in rate mode, injected errors); the figures against the service's are in llm-timing.test.ts. */
describe('LLM tasks end to end: real controller, agents and eascmd against the OpenAI fixture', () => {
  let controller: ControllerProcess;
  let fixture: OpenAiFixtureProcess;
  let dir: string;
  const figures = useLlmFixture('llm', ['--ttft-ms', String(TTFT_MS), '--tpot-ms', String(TPOT_MS)], (started) => ({ controller, fixture, dir } = started));

  const task = (llm: Record<string, unknown>) =>
    writeLlmTask(dir, fixture.url, { dataset: { type: 'synthetic', inputTokens: [40, 60], outputTokens: [OUTPUT_TOKENS, OUTPUT_TOKENS] }, ...llm });

  const runWait = (file: string): Promise<GetTaskResponse> => createAndWait(controller, file);


  test('cut streams: a 200 stream ending without finish_reason or [DONE] is a failed request of class incomplete stream', async () => {
    await fixture.configure({ cutStreamRate: 0.1 });
    await fixture.reset();
    try {
      const t = await runWait(task({ testMode: 'concurrency', concurrency: 4 }));
      const cut = (await fixture.stats()).cut;
      expect(cut).toBeGreaterThan(0);
      const llm = t.LLM as LlmResult;
      expect(llm.Common).toMatchObject({ TotalRequests: 100, FailedRequests: cut, SuccessRequests: 100 - cut });
      // no part of a cut answer is in the success tables
      expect(llm.Total.OutputTokens).toMatchObject({ Min: OUTPUT_TOKENS, N: 100 - cut });
      expect(llm.Common.TotalGeneratedTokens).toBe((100 - cut) * OUTPUT_TOKENS);
      expect(t.Result?.ErrorClasses).toEqual({ 'incomplete stream': cut });
      const failed = (await llmRecords(controller, t.TaskName)).Records.filter((r) => !r.success);
      expect(failed).toHaveLength(cut);
      for (const r of failed) expect(r).toMatchObject({ status: 599, outputTokens: 0, error: expect.stringMatching(/^incomplete stream/) });
    } finally {
      await fixture.configure({ cutStreamRate: 0 });
    }
  });

  test('rate mode without maxConcurrency: no steady stage figures (the most in flight is a passing peak), one line says why', async () => {
    const file = task({ testMode: 'rate', requestRate: 20, burstiness: 1, seed: 3 });
    const stdout = await createAndWaitLines(controller, file);
    const name = /Task \[([^\]]+)\]/.exec(stdout)?.[1] as string;
    const live = (await taskDetail(controller, name)).LLM as LlmResult;
    const exact = lastJson<LlmRecomputeResponse>(await eascmdOk(controller, ['bench', 'recompute', name, '--json'])).LLM;
    figures.push(`rate 20/s: ${live.StableAbsent}`);
    for (const llm of [live, exact]) {
      expect(llm.Stable).toBeUndefined();
      expect(llm.StableCommon).toBeUndefined();
      expect(llm.StableAbsent).toMatch(/^no steady stage: in rate mode without maxConcurrency/);
      expect(llm.Total.E2EL.N).toBe(100);
    }
    expect(stdout).toContain(`Stable: ${live.StableAbsent}`);
    expect(stdout).not.toMatch(/│ *stable *│/);
  });

  test('rate mode with injected errors: failures counted, records downloadable as CSV, AISBench-style summary printed', async () => {
    await fixture.configure({ errorRate: 0.05 });
    try {
      const file = task({ testMode: 'rate', requestRate: 40, maxConcurrency: 6, burstiness: 1, seed: 7 });
      const stdout = await createAndWaitLines(controller, file);
      expect(stdout).toMatch(/TTFT/);
      expect(stdout).toMatch(/Stable/i);
      expect(stdout).toMatch(/Benchmark Duration/);
      const name = /Task \[([^\]]+)\]/.exec(stdout)?.[1] as string;
      const llm = (await taskDetail(controller, name)).LLM as LlmResult;
      expect(llm.Common).toMatchObject({ TotalRequests: 100, FailedRequests: 5, SuccessRequests: 95 });
      expect(llm.Common.MaxConcurrency).toBeLessThanOrEqual(6);
      // capped at 6 streams of 255 ms (some 23 req/s for 40 asked): held at the cap, a true steady stage
      const exact = lastJson<LlmRecomputeResponse>(await eascmdOk(controller, ['bench', 'recompute', name, '--json'])).LLM;
      if (!llm.StableCommon || !exact.StableCommon) throw new Error(`no steady stage: ${llm.StableAbsent ?? exact.StableAbsent}`);
      figures.push(`rate 40/s capped at 6: stable ${llm.StableCommon.RequestThroughput} req/s live, ${exact.StableCommon.RequestThroughput} req/s recomputed`);
      within(llm.StableCommon.RequestThroughput, exact.StableCommon.RequestThroughput, 0.005);
      const csv = await signedGetText(controller, `/api/v2/benchmark-tasks/cn-local/${name}/records?format=csv`);
      expect(csv.type).toMatch(/text\/csv/);
      const lines = csv.text.trim().split('\n');
      expect(lines[0]).toMatch(/^agent,seq,sendMs/);
      expect(lines).toHaveLength(101);
      expect(lines.filter((l) => l.includes(',false,500,'))).toHaveLength(5);
    } finally {
      await fixture.configure({ errorRate: 0 });
    }
  });
});
