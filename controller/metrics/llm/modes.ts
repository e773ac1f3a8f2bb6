import {
  LLM_MODE_DEFAULTS,
  roundTo,
  type HalfDrift,
  type LlmDatasetSection,
  type LlmModeSections,
  type LlmRequestRecord,
  type LlmRunMode,
  type LlmSweepPoint,
  type LlmTokenSweep,
  type MeanStd,
} from '../../../src/contract';
import { sumInto } from '../fold';
import { percentile, tokenSourceText } from './result';

/** What the run needs besides its records: which sections to give, and which tokenizer counted. */
export interface LlmModeContext {
  mode: LlmRunMode;
  /** llm.retries: above 0, the Retries section is given. */
  retries: number;
  /** How the report names the tokenizer that counted what `usage` did not give. */
  tokenizer: string;
  /** llm.warmupRequests: above 0, the Warmup section says they were left out. */
  warmupRequests?: number;
  /** A trace or prefix dataset, as the result names it. */
  dataset?: LlmDatasetSection;
  /** llm.driftMinRunS: records spanning more than this many seconds get a Drift section (default LLM_MODE_DEFAULTS.driftMinRunS). */
  driftMinRunS?: number;
}

/** Sums of one second's successful requests (by send time), for the drift halves. */
interface SecondSums {
  ttft: number;
  ttftN: number;
  tpot: number;
  tpotN: number;
  decode: number;
  decodeN: number;
}

const emptySums = (): SecondSums => ({ ttft: 0, ttftN: 0, tpot: 0, tpotN: 0, decode: 0, decodeN: 0 });

const SUM_KEYS = ['ttft', 'ttftN', 'tpot', 'tpotN', 'decode', 'decodeN'] as const satisfies readonly (keyof SecondSums)[];

/** TPOT of a request, ms, and its decode rate, tokens/s (1000 / TPOT): only with more than one output token. */
function decodeFigures(r: LlmRequestRecord): { tpot: number; decode: number } | null {
  if (!r.success || r.e2elMs === null || r.ttftMs === null || r.outputTokens <= 1) return null;
  const tpot = (r.e2elMs - r.ttftMs) / (r.outputTokens - 1);
  return tpot > 0 ? { tpot, decode: 1000 / tpot } : null;
}

const mean = (values: readonly number[]): number => (values.length ? values.reduce((s, v) => s + v, 0) / values.length : 0);

export function meanStd(values: readonly number[]): MeanStd {
  const m = mean(values);
  const variance = values.length ? values.reduce((s, v) => s + (v - m) ** 2, 0) / values.length : 0;
  const sd = Math.sqrt(variance);
  return { Mean: roundTo(m, 4), Stddev: roundTo(sd, 4), CvPct: m > 0 ? roundTo((sd / m) * 100, 2) : 0, N: values.length };
}

/** `higherIsWorse`: TTFT and TPOT degrade upwards, tokens/s downwards. */
export function halfDrift(first: number, second: number, higherIsWorse: boolean, thresholdPct = LLM_MODE_DEFAULTS.driftThresholdPct): HalfDrift {
  const change = first > 0 ? ((second - first) / first) * 100 : 0;
  return { FirstHalf: roundTo(first, 4), SecondHalf: roundTo(second, 4), ChangePct: roundTo(change, 2), Flagged: higherIsWorse ? change > thresholdPct : change < -thresholdPct };
}

const sorted = (values: readonly number[]): number[] => [...values].sort((a, b) => a - b);

/** Most values a latency sample keeps: beyond it, a uniform reservoir of that many. */
export const MAX_SAMPLES = 100_000;

/**
 * Latencies of one kind (session turns, tool calls): the exact mean, and
 * percentiles exact up to MAX_SAMPLES values, then from a uniform reservoir
 * sample of them (Algorithm R, seeded), so memory stays bounded in long runs.
 */
export class LatencySample {
  private readonly values: number[] = [];
  private count = 0;
  private sum = 0;
  private seed = 0x2545f491;

  add(value: number): void {
    this.count++;
    this.sum += value;
    if (this.values.length < MAX_SAMPLES) {
      this.values.push(value);
      return;
    }
    // xorshift32: deterministic, no Math.random
    this.seed ^= this.seed << 13;
    this.seed ^= this.seed >>> 17;
    this.seed ^= this.seed << 5;
    const slot = (this.seed >>> 0) % this.count;
    if (slot < MAX_SAMPLES) this.values[slot] = value;
  }

  get mean(): number {
    return this.count > 0 ? this.sum / this.count : 0;
  }

  percentiles(ps: readonly number[]): number[] {
    const ordered = sorted(this.values);
    return ps.map((p) => roundTo(percentile(ordered, p), 4));
  }
}

/**
 * TTFT ∝ L^b by least squares on the logs of the points' median TTFT (a few
 * slow requests, such as those opening connections, do not bend it): b ≈ 1 is
 * linear (within 0.1), below sub-linear, above super-linear; fewer than two
 * lengths say nothing.
 */
export function sweepScaling(points: readonly LlmSweepPoint[]): Pick<LlmTokenSweep, 'Exponent' | 'Scaling'> {
  const usable = points.filter((p) => p.N > 0 && p.TTFTMedian > 0 && p.PromptTokens > 0);
  if (usable.length < 2) return { Exponent: 0, Scaling: 'unknown' };
  const xs = usable.map((p) => Math.log(p.PromptTokens));
  const ys = usable.map((p) => Math.log(p.TTFTMedian));
  const mx = mean(xs);
  const my = mean(ys);
  const sxx = xs.reduce((s, x) => s + (x - mx) ** 2, 0);
  if (sxx === 0) return { Exponent: 0, Scaling: 'unknown' };
  const b = xs.reduce((s, x, i) => s + (x - mx) * (ys[i] - my), 0) / sxx;
  const scaling = Math.abs(b - 1) <= 0.1 ? 'linear' : b < 1 ? 'sub-linear' : 'super-linear';
  return { Exponent: roundTo(b, 3), Scaling: scaling };
}

/**
 * The result sections of the run modes and options, fed one record at a time
 * (as they arrive, or read back from disk). What it keeps is bounded: per-second
 * sums for drift, counters, per-length TTFTs of token-sweep (requestCount
 * <= 1000), and at most MAX_SAMPLES values for consistency, session turns and
 * tool calls.
 */
export class LlmModeAccumulator {
  private readonly seconds = new Map<number, SecondSums>();
  private firstSendMs = Number.POSITIVE_INFINITY;
  private lastEndMs = Number.NEGATIVE_INFINITY;
  private retried = 0;
  private retryAttempts = 0;
  private recovered = 0;
  private readonly sweep = new Map<number, number[]>();
  /** consistency: [sendMs, ttft, decode] of each successful request (a serial run: at most a duration's worth, capped at MAX_SAMPLES). */
  private readonly serial: [number, number, number | null][] = [];
  /** Turns at position 1, and successful last turns: each session has one of each at most. */
  private sessionsStarted = 0;
  private sessionsCompleted = 0;
  private turns = 0;
  private readonly turnLatency = new LatencySample();
  private readonly byTurn = new Map<number, { ttft: number; n: number; input: number }>();
  private toolRequests = 0;
  private toolCalled = 0;
  private toolParsed = 0;
  private readonly toolLatency = new LatencySample();
  /** Successful requests, and those of them counted by `usage`: TokenSource names the tokenizer that counted the others. */
  private success = 0;
  private usage = 0;
  private version = 0;
  private cache?: { version: number; result: LlmModeSections };

  constructor(private readonly context: LlmModeContext) {}

  add(r: LlmRequestRecord): void {
    this.version++;
    if (r.success) {
      this.success++;
      if (r.tokenSource === 'usage') this.usage++;
    }
    this.firstSendMs = Math.min(this.firstSendMs, r.sendMs);
    this.lastEndMs = Math.max(this.lastEndMs, r.endMs);
    const attempts = r.tags?.attempts ?? 1;
    if (attempts > 1) {
      this.retried++;
      this.retryAttempts += attempts - 1;
      if (r.success) this.recovered++;
    }
    const figures = decodeFigures(r);
    if (r.success) this.addSecond(r, figures);
    const tags = r.tags;
    if (tags?.promptLength !== undefined && r.success && r.ttftMs !== null) {
      const list = this.sweep.get(tags.promptLength) ?? [];
      list.push(r.ttftMs);
      this.sweep.set(tags.promptLength, list);
    }
    if (this.context.mode === 'consistency' && r.success && r.ttftMs !== null && this.serial.length < MAX_SAMPLES) this.serial.push([r.sendMs, r.ttftMs, figures?.decode ?? null]);
    if (tags?.session !== undefined && tags.turn !== undefined) this.addTurn(r, tags.turn, tags.lastTurn === true);
    if (tags?.tool !== undefined) {
      this.toolRequests++;
      if (tags.tool !== 'none') {
        this.toolCalled++;
        if (r.e2elMs !== null) this.toolLatency.add(r.e2elMs);
      }
      if (tags.tool === 'parsed') this.toolParsed++;
    }
  }

  private addSecond(r: LlmRequestRecord, figures: { tpot: number; decode: number } | null): void {
    const key = Math.floor(r.sendMs / 1000);
    const s = this.seconds.get(key) ?? emptySums();
    if (r.ttftMs !== null) {
      s.ttft += r.ttftMs;
      s.ttftN++;
    }
    if (figures) {
      s.tpot += figures.tpot;
      s.tpotN++;
      s.decode += figures.decode;
      s.decodeN++;
    }
    this.seconds.set(key, s);
  }

  private addTurn(r: LlmRequestRecord, turn: number, last: boolean): void {
    if (turn === 1) this.sessionsStarted++;
    this.turns++;
    if (!r.success) return;
    if (last) this.sessionsCompleted++;
    if (r.e2elMs !== null) this.turnLatency.add(r.e2elMs);
    const position = this.byTurn.get(turn) ?? { ttft: 0, n: 0, input: 0 };
    position.ttft += r.ttftMs ?? 0;
    position.input += r.inputTokens;
    position.n++;
    this.byTurn.set(turn, position);
  }

  /** The sections (computed again only after a new record). */
  result(): LlmModeSections {
    if (this.cache?.version !== this.version) this.cache = { version: this.version, result: this.compute() };
    return this.cache.result;
  }

  private compute(): LlmModeSections & { TokenSource: string } {
    const sections: LlmModeSections & { TokenSource: string } = { Tokenizer: this.context.tokenizer, TokenSource: tokenSourceText(this.usage, this.success, this.context.tokenizer) };
    if (this.context.dataset) sections.Dataset = this.context.dataset;
    if (this.context.warmupRequests) sections.Warmup = { RequestsPerAgent: this.context.warmupRequests, Excluded: 'every figure and record' };
    if (this.context.retries > 0) sections.Retries = { RetriedRequests: this.retried, RetryAttempts: this.retryAttempts, RecoveredRequests: this.recovered };
    const drift = this.drift();
    if (drift) sections.Drift = drift;
    switch (this.context.mode) {
      case 'token-sweep':
        sections.TokenSweep = this.tokenSweep();
        break;
      case 'consistency':
        sections.Consistency = this.consistency();
        break;
      case 'sessions':
        sections.Sessions = this.sessions();
        break;
      default:
        break;
    }
    if (this.context.mode === 'tools' || this.toolRequests > 0) sections.ToolCalls = this.toolCalls();
    return sections;
  }

  /** Runs longer than a minute (llm.driftMinRunS): the seconds before the run's midpoint against those from it. */
  private drift(): LlmModeSections['Drift'] {
    const spanMs = this.lastEndMs - this.firstSendMs;
    if (!(spanMs > (this.context.driftMinRunS ?? LLM_MODE_DEFAULTS.driftMinRunS) * 1000)) return undefined;
    const midS = (this.firstSendMs + spanMs / 2) / 1000;
    const halves = [emptySums(), emptySums()];
    for (const [second, s] of this.seconds) sumInto(halves[second < Math.floor(midS) ? 0 : 1], s, SUM_KEYS);
    const avg = (sum: number, n: number): number => (n > 0 ? sum / n : 0);
    const [a, b] = halves;
    const ttft = halfDrift(avg(a.ttft, a.ttftN), avg(b.ttft, b.ttftN), true);
    const tpot = halfDrift(avg(a.tpot, a.tpotN), avg(b.tpot, b.tpotN), true);
    const decode = halfDrift(avg(a.decode, a.decodeN), avg(b.decode, b.decodeN), false);
    return { ThresholdPct: LLM_MODE_DEFAULTS.driftThresholdPct, TTFT: ttft, TPOT: tpot, DecodeTokensPerSecond: decode, Flagged: ttft.Flagged || tpot.Flagged || decode.Flagged };
  }

  private tokenSweep(): LlmTokenSweep {
    const points: LlmSweepPoint[] = [...this.sweep.entries()]
      .sort((a, b) => a[0] - b[0])
      .map(([length, ttfts]) => {
        const m = mean(ttfts);
        return { PromptTokens: length, N: ttfts.length, TTFTMean: roundTo(m, 4), TTFTMedian: roundTo(percentile(sorted(ttfts), 50), 4), TTFTPer1kTokens: roundTo((m / length) * 1000, 4) };
      });
    return { Points: points, ...sweepScaling(points) };
  }

  private consistency(): LlmModeSections['Consistency'] {
    const ordered = [...this.serial].sort((a, b) => a[0] - b[0]);
    const ttft = ordered.map((e) => e[1]);
    const decode = ordered.map((e) => e[2]).filter((v): v is number => v !== null);
    const halfOf = (values: number[]): [number, number] => {
      const cut = Math.floor(values.length / 2);
      return [mean(values.slice(0, cut)), mean(values.slice(cut))];
    };
    const [t1, t2] = halfOf(ttft);
    const [d1, d2] = halfOf(decode);
    return { TTFT: meanStd(ttft), DecodeTokensPerSecond: meanStd(decode), TTFTDrift: halfDrift(t1, t2, true), DecodeDrift: halfDrift(d1, d2, false) };
  }

  private sessions(): LlmModeSections['Sessions'] {
    const [p50, p95, p99] = this.turnLatency.percentiles([50, 95, 99]);
    return {
      SessionsStarted: this.sessionsStarted,
      SessionsCompleted: this.sessionsCompleted,
      Turns: this.turns,
      TurnLatencyP50: p50,
      TurnLatencyP95: p95,
      TurnLatencyP99: p99,
      ByTurn: [...this.byTurn.entries()]
        .sort((a, b) => a[0] - b[0])
        .map(([turn, p]) => ({ Turn: turn, N: p.n, TTFTMean: roundTo(p.ttft / p.n, 4), InputTokensMean: roundTo(p.input / p.n, 2) })),
    };
  }

  private toolCalls(): LlmModeSections['ToolCalls'] {
    const [p50, p99] = this.toolLatency.percentiles([50, 99]);
    const pct = (a: number, b: number): number => (b > 0 ? roundTo((a / b) * 100, 2) : 0);
    return {
      Requests: this.toolRequests,
      CalledTool: this.toolCalled,
      Parsed: this.toolParsed,
      CallRatePct: pct(this.toolCalled, this.toolRequests),
      ParseRatePct: pct(this.toolParsed, this.toolCalled),
      CallLatencyMean: roundTo(this.toolLatency.mean, 4),
      CallLatencyP50: p50,
      CallLatencyP99: p99,
    };
  }
}
