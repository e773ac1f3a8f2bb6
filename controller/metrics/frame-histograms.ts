import { LLM_METRICS, type AgentStatsFrame, type LlmMetricKey } from '../../src/contract';
import { DecodeBudget, decodeHistogram, FRAME_INFLATE_BUDGET_BYTES, HistogramRefused, type LatencyHistogram } from '../../src/measure/histogram';
import { LLM_HIGHEST } from '../../src/measure/llm-second';

/** Why one frame of an agent was refused: the field, and what is wrong with it. */
export class FrameRefused extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field} ${message}`);
    this.name = 'FrameRefused';
  }
}

/** A frame's histograms, decoded once, before anything of the frame is merged. */
export interface DecodedFrame {
  rt?: LatencyHistogram;
  lag?: LatencyHistogram;
  llm: Map<LlmMetricKey, LatencyHistogram>;
  /** Named requests' response times, by name. */
  named: Map<string, LatencyHistogram>;
}

function decodeField(field: string, encoded: string, highest: number | undefined, budget: DecodeBudget): LatencyHistogram {
  try {
    return decodeHistogram(encoded, 32, highest, budget);
  } catch (err) {
    if (err instanceof HistogramRefused) throw new FrameRefused(field, err.message);
    throw err;
  }
}

/**
 * Decodes every histogram of a frame within one budget (FRAME_INFLATE_BUDGET_BYTES)
 * and checks each against the counts the frame gives: the response-time
 * histogram holds one sample per response, an LLM metric's histogram one per
 * value of its `n`. A frame that fails throws FrameRefused and is merged
 * nowhere.
 */
export function decodeFrame(frame: AgentStatsFrame, spent?: (inflatedBytes: number) => void): DecodedFrame {
  const budget = new DecodeBudget();
  try {
    return decodeWithin(frame, budget);
  } finally {
    spent?.(FRAME_INFLATE_BUDGET_BYTES - budget.bytesLeft);
  }
}

function decodeWithin(frame: AgentStatsFrame, budget: DecodeBudget): DecodedFrame {
  const decoded: DecodedFrame = { llm: new Map(), named: new Map() };
  if (frame.rtHistogram !== '') decoded.rt = decodeField('frame.rtHistogram', frame.rtHistogram, undefined, budget);
  const samples = decoded.rt?.totalCount ?? 0;
  if (samples !== frame.requests) throw new FrameRefused('frame.rtHistogram', `holds ${samples} samples but the frame counts ${frame.requests} responses`);
  if (frame.lagHistogram !== '') decoded.lag = decodeField('frame.lagHistogram', frame.lagHistogram, undefined, budget);
  for (const [name, n] of Object.entries(frame.byName ?? {})) {
    const field = `frame.byName.${name}.rtHistogram`;
    const h = decodeField(field, n.rtHistogram, undefined, budget);
    if (h.totalCount !== n.requests) throw new FrameRefused(field, `holds ${h.totalCount} samples but the name counts ${n.requests} responses`);
    decoded.named.set(name, h);
  }
  for (const key of LLM_METRICS) {
    const m = frame.llm?.metrics[key];
    if (!m) continue;
    const field = `frame.llm.metrics.${key}.h`;
    const h = decodeField(field, m.h, LLM_HIGHEST, budget);
    if (h.totalCount !== m.n) throw new FrameRefused(field, `holds ${h.totalCount} samples but n is ${m.n}`);
    decoded.llm.set(key, h);
  }
  return decoded;
}
