import type { LoadContext } from '../../agent/load-driver';
import { PromptSource } from '../../agent/llm/prompts';
import { LlmWorkload } from '../../agent/llm/workload';
import { TRACE_START_LEAD_MS, type AgentAssignment, type LlmLoad, type LlmWork } from '../../src/contract';

/*
 * A trace lane on the agent, on jest's fake clock (it fakes performance.now()
 * and the timers): the agent of seat 1 of 2 sends records 1, 3, 5, ... at
 * their offsets; one that takes the seat over mid-round (load.trace) goes on
 * from the lane's next record on the round's clock, with that record's prompt.
 */

// 11 records 100 ms apart; record i asks for a prompt of 10 + i tokens, so a prompt says which record it is
const records = Array.from({ length: 11 }, (_, i) => ({ atMs: i * 100, inputTokens: 10 + i }));
const work: LlmWork = { api: 'completions', model: 'm', ignoreEos: false, maxTokens: null, source: { kind: 'trace', records, seed: 7 } };
const load: LlmLoad = { kind: 'llm', testMode: 'rate', concurrency: 1, ratePerS: 0, maxInFlight: null, burstiness: 1, seed: 1 };

function workload(): LlmWorkload {
  const assignment: AgentAssignment = {
    taskId: 't', roundId: 1, agentIndex: 1, agentCount: 2, startOffset: 0, requestLimit: null, llm: work, load,
    request: { url: 'http://127.0.0.1:9/v1/completions', method: 'POST', headers: [], bodies: [], timeoutMs: 1000 },
  };
  const sink = { sent: () => undefined, response: () => undefined, enableLlmRecords: () => undefined, llmSent: () => undefined, llmRecord: () => undefined };
  return new LlmWorkload(assignment, work, sink, () => undefined);
}

/** Runs a driver for `ms` of fake time and returns when each send went, ms from its start. */
function sendTimes(driverLoad: LlmLoad, ms: number, w = workload()): number[] {
  const startMs = performance.now();
  const sends: number[] = [];
  const context: LoadContext = {
    inFlight: 0,
    trySend: () => {
      sends.push(performance.now() - startMs);
      return true;
    },
    dropped: () => undefined,
    sendLag: () => undefined,
  };
  const driver = w.createDriver(driverLoad, context);
  driver.start();
  jest.advanceTimersByTime(ms);
  driver.stop();
  return sends;
}

const promptTokens = (source: PromptSource): number => {
  const body = JSON.parse(source.next().body.toString()) as { prompt: string };
  return body.prompt.split(' ').length;
};

describe('a trace lane on the agent', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  test('from the start: its records 1, 3, 5, 7, 9 at 100, 300, 500, 700, 900 ms of the trace, which starts TRACE_START_LEAD_MS in; then nothing', () => {
    expect(TRACE_START_LEAD_MS).toBe(100);
    expect(sendTimes(load, 2000)).toEqual([200, 400, 600, 800, 1000]);
  });

  test('taken over 550 ms into the round after its seat sent 2 records: records 5, 7 and 9, at their own times on the round\'s clock', () => {
    expect(sendTimes({ ...load, trace: { atMs: 550, sent: 2 } }, 2000)).toEqual([50, 250, 450]);
  });

  test('taken over late, after records fell due unsent: they go at once, then the rest on time', () => {
    // the lost agent sent 1 (record 1); records 3 and 5 fell due by 720 ms into the round (620 ms of the trace)
    expect(sendTimes({ ...load, trace: { atMs: 720, sent: 1 } }, 2000)).toEqual([0, 0, 80, 280]);
  });

  test('the prompts go on with the lane: its third entry is record 5', () => {
    const source = new PromptSource(work, 1, 2);
    expect(source.startAt(2)).toBe(2);
    expect(promptTokens(source)).toBe(15);
    expect(promptTokens(source)).toBe(17);
    // an agent further on than the seat's earlier agents keeps its own place
    expect(source.startAt(1)).toBe(4);
  });

  test('a load that differs only in where the lane stands keeps the running lane', () => {
    const driver = workload().createDriver(load, { inFlight: 0, trySend: () => true, dropped: () => undefined, sendLag: () => undefined });
    expect(driver.update({ ...load, trace: { atMs: 900, sent: 3 } })).toBe(true);
    expect(driver.update({ ...load, maxInFlight: 4 })).toBe(false);
  });
});
