import type { AgentStatsFrame } from '../../src/contract';
import { StatsRecorder } from '../../agent/stats-recorder';

/** Wall clock minus monotonic clock, ms: the recorder must keep to it. */
const WALL_OFFSET_MS = 1_700_000_000_000 - 10_000;

describe('StatsRecorder seconds', () => {
  let monotonicMs = 0;
  let recorder: StatsRecorder;
  const frames: AgentStatsFrame[] = [];

  beforeEach(() => {
    frames.length = 0;
    jest.spyOn(performance, 'now').mockImplementation(() => monotonicMs);
    jest.spyOn(Date, 'now').mockImplementation(() => Math.floor(monotonicMs + WALL_OFFSET_MS));
    const gauges = { inFlight: () => 0, totalSent: () => 0, takeConnectionWaitMaxMs: () => 0 };
    recorder = new StatsRecorder(gauges, (frame) => frames.push(frame));
  });

  afterEach(() => {
    recorder.stop();
    jest.restoreAllMocks();
  });

  test('a stale caller time does not move the boundaries of later seconds', () => {
    monotonicMs = 10_500;
    recorder.start();
    const firstSecond = Math.floor((10_500 + WALL_OFFSET_MS) / 1000);

    // The loop was busy: a send scheduled 80 ms ago (after the boundary) is recorded only now.
    monotonicMs = 11_100;
    recorder.sent(11_020, 100);
    expect(frames.map((f) => f.second)).toEqual([firstSecond]);

    // 50 ms before the next wall-clock boundary the second is still open...
    monotonicMs = 11_950;
    recorder.sent(11_950, 100);
    expect(frames).toHaveLength(1);

    // ...and it closes at the boundary, holding both sends.
    monotonicMs = 12_000;
    recorder.sent(12_000, 100);
    expect(frames.map((f) => f.second)).toEqual([firstSecond, firstSecond + 1]);
    expect(frames[1].sent).toBe(2);
  });

  test('a stepped wall clock moves the boundaries once it is past the resync threshold', () => {
    monotonicMs = 10_500;
    recorder.start();
    const firstSecond = Math.floor((10_500 + WALL_OFFSET_MS) / 1000);
    // The wall clock jumps 200 ms ahead: the second after the next boundary follows it.
    jest.spyOn(Date, 'now').mockImplementation(() => Math.floor(monotonicMs + WALL_OFFSET_MS + 200));
    monotonicMs = 11_000;
    recorder.sent(11_000, 100);
    expect(frames.map((f) => f.second)).toEqual([firstSecond]);
    monotonicMs = 11_800;
    recorder.sent(11_800, 100);
    expect(frames.map((f) => f.second)).toEqual([firstSecond, firstSecond + 1]);
  });
});
