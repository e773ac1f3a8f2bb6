import type { GeneratorSecond } from '../../src/contract';
import type { FinalizedSecond } from '../metrics/aggregate';
import { fmtMs, StepWindow } from './window';

/**
 * The validity gate (docs/performance.md): a second in which the agents
 * themselves fell behind is *generator-limited*, and its latency is the
 * generator's, not the service's. Over either limit, in any agent:
 * - send-lag p99 (actual minus scheduled send, open loop): requests left late,
 *   so their latency, counted from the schedule, includes the agent's delay;
 * - event-loop delay, p99 or max: the agent could not read responses on
 *   time either, which also holds in closed loop, where there is no
 *   schedule. The max counts because one long block (a collection, a stall
 *   of the machine) is a single sample of the monitor however long it lasts,
 *   so the p99 of the samples hides it while every response in it waited.
 * A service that answers slowly never raises either: the agent sends on time
 * and waits on its sockets.
 */
export const GENERATOR_GATE = {
  sendLagP99Ms: 10,
  loopDelayP99Ms: 20,
  loopDelayMaxMs: 30,
} as const;

/** The gate's verdict on a second, written into its point (`Generator.Limited`), which the report and every view read. */
export function applyGeneratorGate(second: FinalizedSecond): boolean {
  const point = second.point;
  const loopP99Ms = second.agentLoad.maxEventLoopLagMs;
  const loopMaxMs = point.Generator?.LoopDelayMaxMs ?? 0;
  const over = point.SendLagP99 > GENERATOR_GATE.sendLagP99Ms || loopP99Ms > GENERATOR_GATE.loopDelayP99Ms || loopMaxMs > GENERATOR_GATE.loopDelayMaxMs;
  const limited = point.Requests + second.agentLoad.sent > 0 && over;
  const figures: GeneratorSecond = point.Generator ?? { LoopDelayP99Ms: loopP99Ms, LoopDelayMaxMs: 0, GcPauseMs: 0, GcPauseMaxMs: 0, FrameMs: 0, ConnectionWaitMaxMs: 0, Limited: false };
  point.Generator = { ...figures, Limited: limited };
  return limited;
}

/** One line saying why seconds were generator-limited and what that means. */
export function describeGeneratorLimited(w: StepWindow): string {
  return `send lag p99 ${fmtMs(w.maxSendLagP99Ms)} ms, event-loop delay p99 ${fmtMs(w.maxEventLoopLagMs)} ms: the latency of those seconds is the generator's, not the service's`;
}

/** What to change when the agents cannot send a rate cleanly. */
export const GENERATOR_ADVICE = 'run more agents (controller --max-agents) or fewer requests per agent (--max-agent-qps), or give the agents a less busy machine';

/**
 * The TP99 that maxRT may be judged on: the service's seconds only. Undefined
 * when every second of the window was generator-limited: nothing in it tells
 * the service's latency.
 */
export function serviceTp99Ms(w: StepWindow): number | undefined {
  return w.serviceSeconds > 0 ? w.serviceTp99Ms() : undefined;
}
