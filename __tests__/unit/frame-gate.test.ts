import type { AgentStatsFrame } from '../../src/contract';
import { FrameRefused } from '../../controller/metrics/frame-histograms';
import { createLatencyHistogram, encodeHistogram, FRAME_INFLATE_BUDGET_BYTES, maxInflatedBytes } from '../../src/measure/histogram';
import { CLOCK_AHEAD_S, CLOCK_BEHIND_S, FrameGate, INFLATE_BYTES_PER_AGENT_S, PENDING_VALUES_PER_AGENT } from '../../controller/tasks/frame-gate';
import { hostileHistogram, LLM_RECORD } from '../helpers/agent-frames';
import { FakeClock } from '../helpers/fake-clock';

const START_MS = 1_700_000_000_000;
const START_S = START_MS / 1000;

function rtOf(n: number): string {
  const h = createLatencyHistogram();
  if (n > 0) h.recordValueWithCount(2000, n);
  return n > 0 ? encodeHistogram(h) : '';
}

function frameAt(second: number, requests = 3, extra: Partial<AgentStatsFrame> = {}): AgentStatsFrame {
  return {
    second, requests, sent: requests, statusCodes: requests ? { '200': requests } : {}, bytesIn: 0, bytesOut: 0, dropped: 0, inFlight: 0,
    rtHistogram: rtOf(requests), lagHistogram: '', totalSent: requests, eventLoopLagMs: 0, ...extra,
  };
}

/** A gate on a clock the test moves. */
function gateAt(nowMs = START_MS): { gate: FrameGate; clock: FakeClock } {
  const clock = new FakeClock(nowMs);
  return { gate: new FrameGate(clock, START_MS), clock };
}

function refusal(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (err instanceof FrameRefused) return err.message;
    throw err;
  }
  throw new Error('not refused');
}

describe('FrameGate: an agent\'s frame against the clock, its own figures and its budgets', () => {
  test(`a second more than ${CLOCK_AHEAD_S} s ahead of the clock, or ${CLOCK_BEHIND_S} s before the round, is refused; within them it is taken`, () => {
    const { gate, clock } = gateAt(START_MS + 10_000);
    const nowS = START_S + 10;
    expect(refusal(() => gate.admit('a', frameAt(2 ** 53 - 11), 2 ** 53 - 11))).toBe(`frame.second ${2 ** 53 - 11} is ${2 ** 53 - 11 - nowS} s ahead of the controller's clock (at most ${CLOCK_AHEAD_S})`);
    expect(refusal(() => gate.admit('a', frameAt(nowS + CLOCK_AHEAD_S + 1), nowS + CLOCK_AHEAD_S + 1))).toMatch(/^frame\.second \d+ is 6 s ahead/);
    expect(refusal(() => gate.admit('a', frameAt(1), 1))).toMatch(/^frame\.second 1 is \d+ s before the round began/);
    expect(gate.admit('a', frameAt(nowS + CLOCK_AHEAD_S), nowS + CLOCK_AHEAD_S).rt?.totalCount).toBe(3);
    expect(gate.admit('a', frameAt(START_S - CLOCK_BEHIND_S), START_S - CLOCK_BEHIND_S).rt?.totalCount).toBe(3);
    // the clock moves on: a second refused as too far ahead is taken once it is near
    clock.advance(2000);
    expect(gate.admit('a', frameAt(nowS + CLOCK_AHEAD_S + 1), nowS + CLOCK_AHEAD_S + 1).rt?.totalCount).toBe(3);
  });

  test('a histogram that does not hold one sample per response is refused, naming the field', () => {
    const { gate } = gateAt();
    expect(refusal(() => gate.admit('a', frameAt(START_S, 3, { rtHistogram: rtOf(5) }), START_S))).toBe('frame.rtHistogram holds 5 samples but the frame counts 3 responses');
    expect(refusal(() => gate.admit('a', frameAt(START_S, 3, { lagHistogram: hostileHistogram({ highest: 2 ** 40 }) }), START_S))).toMatch(/^frame\.lagHistogram has a range/);
  });

  test('an agent\'s frames for one second add up to at most the frame limit; another agent is not affected', () => {
    const { gate } = gateAt();
    for (let i = 0; i < 10; i++) gate.admit('a', frameAt(START_S, 100_000), START_S);
    expect(refusal(() => gate.admit('a', frameAt(START_S, 1), START_S))).toBe(`frame.requests brings this agent's responses of second ${START_S} to 1000001, over 1000000`);
    expect(gate.admit('b', frameAt(START_S, 100_000), START_S).rt?.totalCount).toBe(100_000);
    // once the second is final, what it held is freed
    gate.finalized(START_S);
    expect(gate.admit('a', frameAt(START_S + 1, 1), START_S + 1).rt?.totalCount).toBe(1);
  });

  test('records waiting in seconds not final are bounded per agent, and freed when their seconds are', () => {
    const { gate } = gateAt();
    const long = { ...LLM_RECORD, itlMs: new Array<number>(250_000).fill(1) };
    const records = (n: number): Partial<AgentStatsFrame> => ({ llmRecords: new Array(n).fill(long) as (typeof long)[] });
    let taken = 0;
    const refused = refusal(() => {
      for (;; taken++) gate.admit('a', frameAt(START_S + (taken % 3), 0, records(1)), START_S + (taken % 3));
    });
    expect(refused).toMatch(new RegExp(`^frame\\.llmRecords would have this agent hold \\d+ record values in seconds not final yet, over ${PENDING_VALUES_PER_AGENT}`));
    expect(taken).toBe(Math.floor(PENDING_VALUES_PER_AGENT / 250_001));
    expect(gate.admit('b', frameAt(START_S, 0, records(1)), START_S)).toBeDefined();
    gate.finalized(START_S + 2);
    expect(gate.admit('a', frameAt(START_S + 3, 0, records(1)), START_S + 3)).toBeDefined();
  });

  test('histogram bombs spend the agent\'s decode budget: further frames are refused until it refills, other agents are not', () => {
    const { gate, clock } = gateAt();
    const bomb = frameAt(START_S, 0, { lagHistogram: hostileHistogram({ words: Buffer.alloc(10 * 1024 * 1024) }) });
    let refusedBombs = 0;
    for (let i = 0; i < 200; i++) {
      const why = refusal(() => gate.admit('a', bomb, START_S));
      if (why.startsWith('frame.lagHistogram inflates')) refusedBombs++;
      else expect(why).toBe(`frame histograms come faster than ${INFLATE_BYTES_PER_AGENT_S} inflated bytes a second from this agent`);
    }
    // the bucket holds two seconds' worth; each bomb is inflated no further than a histogram's size, which it spends
    expect(refusedBombs).toBeGreaterThan(0);
    expect(refusedBombs).toBeLessThanOrEqual(Math.ceil((2 * INFLATE_BYTES_PER_AGENT_S - FRAME_INFLATE_BUDGET_BYTES) / maxInflatedBytes()) + 1);
    expect(refusal(() => gate.admit('a', frameAt(START_S), START_S))).toMatch(/come faster than/);
    expect(gate.admit('b', frameAt(START_S), START_S).rt?.totalCount).toBe(3);
    clock.advance(2000);
    expect(gate.admit('a', frameAt(START_S), START_S).rt?.totalCount).toBe(3);
  });
});
