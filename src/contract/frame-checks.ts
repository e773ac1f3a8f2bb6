import { AGENT_LIMITS } from './agent-limits';
import type { AgentStatsFrame } from './stats-frame';

/** Most any LLM metric's value may be (a token count, ms, token/s): far beyond any request, short of absurd sums. */
const MAX_LLM_VALUE = 1e12;

/**
 * The checks of a stats frame's figures against each other, which its
 * fields' own checks cannot make: an agent counts every response once, in
 * its status code, so a frame whose parts disagree is not an agent's
 * measurement. What needs the histograms decoded (a histogram's samples
 * against the responses) or the controller's clock and the agent's share
 * is checked by the controller (docs/distributed.md, "Frames an agent may
 * send").
 */
export function checkFrameFigures(frame: AgentStatsFrame, recordCount: number): string | undefined {
  for (const key of ['requests', 'sent', 'dropped', 'inFlight'] as const) {
    if (frame[key] > AGENT_LIMITS.frameCount) return `frame.${key} of ${frame[key]} is over ${AGENT_LIMITS.frameCount}, more than an agent sends in a second`;
  }
  for (const key of ['bytesIn', 'bytesOut'] as const) {
    if (frame[key] > AGENT_LIMITS.frameTrafficBytes) return `frame.${key} of ${frame[key]} is over ${AGENT_LIMITS.frameTrafficBytes}`;
  }
  if (recordCount > AGENT_LIMITS.frameCount) return `frame.llmRecords holds ${recordCount} records, over ${AGENT_LIMITS.frameCount}`;
  let coded = 0;
  for (const n of Object.values(frame.statusCodes)) coded += n;
  if (coded !== frame.requests) return `frame.statusCodes add up to ${coded} but frame.requests is ${frame.requests}`;
  if (frame.byName) {
    // every response of a task with named requests is one name's: the names add up to the frame
    let requests = 0;
    let errors = 0;
    for (const n of Object.values(frame.byName)) {
      requests += n.requests;
      errors += n.errors;
    }
    if (requests !== frame.requests) return `frame.byName's requests add up to ${requests} but frame.requests is ${frame.requests}`;
    const failed = frame.requests - (frame.statusCodes['200'] ?? 0);
    if (errors !== failed) return `frame.byName's errors add up to ${errors} but ${failed} responses of the frame failed`;
  }
  const llm = frame.llm;
  if (llm) {
    if (llm.requests > AGENT_LIMITS.frameCount) return `frame.llm.requests of ${llm.requests} is over ${AGENT_LIMITS.frameCount}`;
    if (llm.success > llm.requests) return `frame.llm.success (${llm.success}) is over frame.llm.requests (${llm.requests})`;
    if (llm.usage > llm.success) return `frame.llm.usage (${llm.usage}) is over frame.llm.success (${llm.success})`;
    for (const [key, m] of Object.entries(llm.metrics)) {
      const where = `frame.llm.metrics.${key}`;
      if (key === 'ITLGap') {
        // one value per token gap, not per request: bounded by what any second can stream
        if (m.n > AGENT_LIMITS.frameGaps) return `${where}.n (${m.n}) is over ${AGENT_LIMITS.frameGaps}, more gaps than an agent streams in a second`;
      } else if (m.n > llm.success) {
        // one value per successful request
        return `${where}.n (${m.n}) is over frame.llm.success (${llm.success})`;
      }
      if (m.max > MAX_LLM_VALUE) return `${where}.max of ${m.max} is over ${MAX_LLM_VALUE}`;
      if (m.n > 0 && m.min > m.max) return `${where}.min (${m.min}) is over its max (${m.max})`;
      // n values between min and max add up to between n*min and n*max (rounding aside)
      const slack = 1e-9 * m.n * m.max + 1e-6;
      if (m.sum > m.n * m.max + slack || m.sum < m.n * m.min - slack) return `${where}.sum (${m.sum}) is not what ${m.n} values between ${m.min} and ${m.max} add up to`;
    }
    return checkQueueFigures(llm.metrics);
  }
  return undefined;
}

type LlmMetrics = NonNullable<AgentStatsFrame['llm']>['metrics'];

/**
 * E2ELWithQueue is, request by request, E2EL plus ClientQueueTime (>= 0) of
 * the same successful requests: so as many values as the queue times, no
 * more than the E2ELs, each at least E2EL's min and the queue's, their max
 * at most the two maxes together, their sum the queue times' sum and, when
 * every E2EL had a queue time, the E2ELs' sum too.
 */
function checkQueueFigures(metrics: LlmMetrics): string | undefined {
  const queue = metrics.ClientQueueTime;
  const withQueue = metrics.E2ELWithQueue;
  if (!queue && !withQueue) return undefined;
  const where = 'frame.llm.metrics.E2ELWithQueue';
  const n = withQueue?.n ?? 0;
  if (n !== (queue?.n ?? 0)) return `${where}.n (${n}) is not frame.llm.metrics.ClientQueueTime.n (${queue?.n ?? 0}): each request with a queue time has both`;
  const e2el = metrics.E2EL;
  if (!queue || !withQueue || n === 0) return undefined;
  if (!e2el || n > e2el.n) return `${where}.n (${n}) is over frame.llm.metrics.E2EL.n (${e2el?.n ?? 0})`;
  const slack = 1e-9 * n * (e2el.max + queue.max) + 1e-3;
  if (withQueue.min < Math.max(e2el.min, queue.min) - slack) return `${where}.min (${withQueue.min}) is under E2EL's min (${e2el.min}) or the queue time's (${queue.min})`;
  if (withQueue.max > e2el.max + queue.max + slack || withQueue.max < queue.max - slack) return `${where}.max (${withQueue.max}) is not between the queue time's max (${queue.max}) and that plus E2EL's max (${e2el.max})`;
  if (withQueue.sum < queue.sum - slack) return `${where}.sum (${withQueue.sum}) is under the queue times' sum (${queue.sum})`;
  if (n === e2el.n && Math.abs(withQueue.sum - (e2el.sum + queue.sum)) > slack * n) return `${where}.sum (${withQueue.sum}) is not E2EL's sum (${e2el.sum}) plus the queue times' (${queue.sum})`;
  return undefined;
}
