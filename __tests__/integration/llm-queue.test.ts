import { arrivalTimesS } from '../../agent/llm/prng';
import { GENERATOR_GATE } from '../../controller/modes/generator-gate';
import type { LlmRecomputeResponse, LlmRequestRecord, LlmResult, StatsResponse } from '../../src/contract';
import { signedGetText } from '../helpers/api';
import { createAndWaitLines, eascmdOk, llmRecords, taskDetail, useLlmFixture, writeLlmTask } from '../helpers/llm';
import { ControllerProcess, lastJson, OpenAiFixtureProcess } from '../helpers/processes';

/*
 * Client queue time (rate mode with maxConcurrency): checked against what the
 * fixture itself logged (when each request arrived) and the seeded schedule
 * the agent follows, not against constants.
 */

const RATE = 14;
const SEED = 5;
/** 100 ms + 31 x 10 ms = 410 ms a request: 4 slots carry some 9.8 req/s, under the 14 asked. */
const FIXTURE = ['--ttft-ms', '100', '--tpot-ms', '10'];

/**
 * What the fixture's log says of each request: how late its k-th arrival came
 * against the k-th time of the schedule. No request is sent before its time,
 * so the earliest any came against its own time marks the schedule's start as
 * the fixture saw it (the first request alone also pays for its connection).
 */
function latenessFromLog(arrivals: readonly number[], ratePerS: number, seed: number): number[] {
  const schedule = arrivalTimesS(ratePerS, 1, seed, arrivals.length);
  const offsets = arrivals.map((t, k) => t - schedule[k] * 1000);
  const start = Math.min(...offsets);
  return offsets.map((o) => o - start);
}

const mean = (values: readonly number[]): number => values.reduce((s, v) => s + v, 0) / values.length;

describe('LLM client queue time: a capped rate against the fixture', () => {
  let controller: ControllerProcess;
  let fixture: OpenAiFixtureProcess;
  let dir: string;
  const figures = useLlmFixture('llm-queue', FIXTURE, (started) => ({ controller, fixture, dir } = started));

  const task = (llm: Record<string, unknown>) =>
    writeLlmTask(dir, fixture.url, { dataset: { type: 'synthetic', inputTokens: [20, 20], outputTokens: [32, 32] }, ...llm });

  /** Runs a task with --wait; its printed lines, live and recomputed LLM figures, records by send, stats and the fixture's arrivals. */
  const run = async (file: string) => {
    await fixture.reset();
    const stdout = await createAndWaitLines(controller, file);
    const name = /Task \[([^\]]+)\]/.exec(stdout)?.[1] as string;
    const live = (await taskDetail(controller, name)).LLM as LlmResult;
    const exact = lastJson<LlmRecomputeResponse>(await eascmdOk(controller, ['bench', 'recompute', name, '--json'])).LLM;
    const records = (await llmRecords(controller, name)).Records.slice().sort((a, b) => a.sendMs - b.sendMs);
    const stats = JSON.parse((await signedGetText(controller, `/api/v2/benchmark-tasks/cn-local/${name}/stats`)).text) as StatsResponse;
    const arrivals = (await fixture.stats()).arrivals;
    return { stdout, live, exact, records, stats, arrivals };
  };

  test('rate 14 req/s with maxConcurrency 4: queue time as the fixture log implies, asked and achieved rates, the held seconds generator-limited', async () => {
    const { stdout, live, exact, records, stats, arrivals } = await run(task({ testMode: 'rate', requestRate: RATE, maxConcurrency: 4, burstiness: 1, seed: SEED }));
    expect(records).toHaveLength(100);
    expect(arrivals).toHaveLength(100);
    // each request's wait for a slot: how late the fixture saw it against the schedule (one agent: the task's seed)
    const late = latenessFromLog(arrivals, RATE, SEED);
    const expected = late.map((ms) => Math.max(0, ms));
    const queued = records.map((r) => r.queueMs as number);
    expect(queued.every((q) => typeof q === 'number' && q >= 0)).toBe(true);
    // a request is held or it is not: its queue time is its lateness, or 0 (the timer's own delay is send lag)
    const off = queued.map((q, k) => Math.abs(q - expected[k]));
    const worst = Math.max(...off);
    figures.push(
      `rate ${RATE}/s, maxConcurrency 4: ${queued.filter((q) => q > 0).length} of 100 requests held; queue mean ${mean(queued).toFixed(1)} ms (fixture log ${mean(expected).toFixed(1)}), ` +
        `max ${Math.max(...queued).toFixed(1)} ms (${Math.max(...expected).toFixed(1)}), worst request ${worst.toFixed(1)} ms apart`,
    );
    expect(Math.max(...expected)).toBeGreaterThan(1000);
    expect(Math.abs(mean(queued) - mean(expected))).toBeLessThan(0.02 * mean(expected) + 5);
    expect(Math.abs(Math.max(...queued) - Math.max(...expected))).toBeLessThan(0.02 * Math.max(...expected) + 10);
    // request by request, within what one send's trip to the fixture costs on a busy machine
    expect(off.filter((d) => d > 25).length).toBeLessThanOrEqual(5);

    for (const llm of [live, exact]) {
      const queue = llm.Total.ClientQueueTime;
      const withQueue = llm.Total.E2ELWithQueue;
      if (!queue || !withQueue) throw new Error('no ClientQueueTime or E2ELWithQueue row');
      expect(queue.N).toBe(100);
      expect(queue.Average).toBeCloseTo(mean(queued), 2);
      expect(queue.Max).toBeCloseTo(Math.max(...queued), 2);
      // E2EL from the scheduled send: the queue time plus E2EL, request by request
      expect(withQueue.Average).toBeCloseTo(queue.Average + llm.Total.E2EL.Average, 2);
      expect(withQueue.Max).toBeCloseTo(Math.max(...records.map((r) => (r.queueMs as number) + (r.e2elMs as number))), 2);
      // the schedule asked for 14 req/s; the fixture saw the sends at what 4 slots carry
      const achieved = (arrivals.length - 1) / ((arrivals[arrivals.length - 1] - arrivals[0]) / 1000);
      expect(llm.Common.AskedRequestRate).toBe(RATE);
      expect(Math.abs((llm.Common.AchievedRequestRate as number) - achieved) / achieved).toBeLessThan(0.01);
      expect(llm.Common.AchievedRequestRate as number).toBeLessThan(0.8 * RATE);
    }
    // live percentiles from the merged histograms, within 0.1% of the exact ones
    const liveQueue = live.Total.ClientQueueTime as Record<string, number>;
    const exactQueue = exact.Total.ClientQueueTime as Record<string, number>;
    for (const p of ['Median', 'P90', 'P99']) expect(Math.abs(liveQueue[p] - exactQueue[p])).toBeLessThanOrEqual(0.001 * exactQueue[p] + 0.001);
    figures.push(`asked ${live.Common.AskedRequestRate} req/s, achieved ${live.Common.AchievedRequestRate} req/s live, ${exact.Common.AchievedRequestRate} recomputed; ClientQueueTime P90 ${liveQueue.P90} ms live, ${exactQueue.P90} exact`);

    // the generator gate: a second in which a send left well after its schedule is generator-limited
    const arrivalSeconds = new Map<number, number>();
    arrivals.forEach((t, k) => {
      const second = Math.floor(t / 1000);
      const inside = t / 1000 - second;
      // a send near a boundary may count in the next second at the agent
      if (inside > 0.05 && inside < 0.95) arrivalSeconds.set(second, Math.max(arrivalSeconds.get(second) ?? 0, late[k]));
    });
    const held = [...arrivalSeconds].filter(([, lateMs]) => lateMs > 5 * GENERATOR_GATE.sendLagP99Ms).map(([second]) => second);
    expect(held.length).toBeGreaterThanOrEqual(3);
    for (const second of held) {
      const point = stats.Series.find((p) => p.Time === second);
      expect({ second, limited: point?.Generator?.Limited, sendLagP99: point?.SendLagP99 }).toMatchObject({ limited: true });
    }
    figures.push(`generator-limited seconds: ${stats.Series.filter((p) => p.Generator?.Limited).length} of ${stats.Series.length}; the ${held.length} seconds with a send held over ${5 * GENERATOR_GATE.sendLagP99Ms} ms all among them`);

    // the text tables: the rows and the two rates
    expect(stdout).toMatch(/ClientQueueTime/);
    expect(stdout).toMatch(/E2ELWithQueue/);
    expect(stdout).toMatch(/Asked Request Rate\s*\|\s*total\s*\|\s*14 req\/s/);
    expect(stdout).toMatch(/Achieved Request Rate/);
    expect(stdout).toContain(`Client queue: maxConcurrency held requests for a slot, up to ${live.Total.ClientQueueTime?.Max} ms`);
  });

  test('an uncapped rate: every request went at its time, zero queue time; a closed-loop run has no queue row', async () => {
    const uncapped = await run(task({ testMode: 'rate', requestRate: RATE, burstiness: 1, seed: SEED }));
    const late = latenessFromLog(uncapped.arrivals, RATE, SEED);
    figures.push(`rate ${RATE}/s uncapped: sends at most ${Math.max(...late).toFixed(1)} ms off the schedule at the fixture; ClientQueueTime max ${uncapped.live.Total.ClientQueueTime?.Max} ms`);
    for (const llm of [uncapped.live, uncapped.exact]) {
      expect(llm.Total.ClientQueueTime).toMatchObject({ N: 100, Max: 0, Average: 0 });
      expect(llm.Total.E2ELWithQueue?.Average).toBeCloseTo(llm.Total.E2EL.Average, 3);
      expect(llm.Common.AskedRequestRate).toBe(RATE);
    }
    expect(uncapped.records.every((r: LlmRequestRecord) => r.queueMs === 0)).toBe(true);
    // the achieved rate is the schedule's own (a Poisson sample of 100 is not 14 req/s exactly)
    const schedule = arrivalTimesS(RATE, 1, SEED, 100);
    const scheduled = 99 / schedule[99];
    expect(Math.abs((uncapped.live.Common.AchievedRequestRate as number) - scheduled) / scheduled).toBeLessThan(0.02);

    const closed = await run(task({ testMode: 'concurrency', concurrency: 10 }));
    for (const llm of [closed.live, closed.exact]) {
      expect(llm.Total.ClientQueueTime).toBeUndefined();
      expect(llm.Total.E2ELWithQueue).toBeUndefined();
      expect(llm.Common.AskedRequestRate).toBeUndefined();
      expect(llm.Common.AchievedRequestRate).toBeUndefined();
    }
    expect(closed.records.every((r: LlmRequestRecord) => r.queueMs === undefined)).toBe(true);
    expect(closed.stdout).not.toMatch(/ClientQueueTime/);
    expect(uncapped.stdout).not.toMatch(/Client queue:/);
  });
});
