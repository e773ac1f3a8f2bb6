import type { FieldError } from './errors';
import type { LlmSessionsSpec, LlmSpec, LlmSweepSpec, LogNormalSpec } from './llm-spec';

/**
 * Defaults and cross-field rules of the llm run modes and options (pressure,
 * retries, token-sweep, consistency, sessions, tools): kept beside the task
 * schema, which holds their fields' ranges.
 */
export const LLM_MODE_DEFAULTS = {
  retries: 0,
  /** pressure: the ramp starts at one stream and lasts a minute unless told. */
  startConcurrency: 1,
  rampTimeS: 60,
  /** The stress tester's token-sweep lengths. */
  promptLengths: [500, 1000, 2000, 5000, 10000] as readonly number[],
  /** The stress tester's realistic-user numbers: turns log-normal(2.5, 0.6), think time log-normal(2.0, 0.4) s. */
  sessionTurns: { mu: 2.5, sigma: 0.6 } as LogNormalSpec,
  sessionThinkTime: { mu: 2.0, sigma: 0.4 } as LogNormalSpec,
  sessionMaxTurns: 50,
  /** Runs at least this long get a drift section. */
  driftMinRunS: 60,
  /** A first-half to second-half change worse than this is flagged. */
  driftThresholdPct: 10,
};

/** llm.sweep with every default applied (docs/llm.md, "Capacity under an SLO"). */
export type ResolvedSweep = Required<LlmSweepSpec>;

/**
 * The sweep's defaults: steps from `start` by `start` (so `max` = 10·start is
 * ten steps), 10 s each, three bisections after the first failure (the
 * capacity to within an eighth of a step); SLO bounds judged at p90, as
 * GuideLLM and vLLM's goodput search name them; goodput must grow by at least
 * half the load's relative growth.
 */
export const SWEEP_DEFAULTS = { by: 'rate' as const, stepS: 10, bisections: 3, sloPercentile: 90, minGoodputGain: 0.5 };

export function resolveSweep(spec: LlmSweepSpec): ResolvedSweep {
  const by = spec.by ?? SWEEP_DEFAULTS.by;
  const start = spec.start ?? (by === 'rate' ? Math.min(1, spec.max) : 1);
  return {
    by,
    start,
    max: spec.max,
    step: spec.step ?? start,
    stepS: spec.stepS ?? SWEEP_DEFAULTS.stepS,
    bisections: spec.bisections ?? SWEEP_DEFAULTS.bisections,
    sloPercentile: spec.sloPercentile ?? SWEEP_DEFAULTS.sloPercentile,
    minGoodputGain: spec.minGoodputGain ?? SWEEP_DEFAULTS.minGoodputGain,
  };
}

/** testMode sweep and llm.sweep go together; the loads are whole streams by concurrency, and an SLO is what is searched under. */
function sweepChecks(llm: LlmSpec, errors: FieldError[]): void {
  const sweep = llm.sweep;
  if (llm.testMode !== 'sweep') {
    if (sweep !== undefined) errors.push({ field: 'llm.sweep', message: 'applies only to llm.testMode sweep' });
    return;
  }
  if (!sweep) {
    errors.push({ field: 'llm.sweep', message: 'is required when llm.testMode is sweep (at least llm.sweep.max)' });
    return;
  }
  const r = resolveSweep(sweep);
  if (r.start > r.max) errors.push({ field: 'llm.sweep.start', message: `must be <= llm.sweep.max (${r.max})` });
  if (r.by === 'concurrency') {
    for (const key of ['start', 'max', 'step'] as const) {
      if (!Number.isInteger(r[key])) errors.push({ field: `llm.sweep.${key}`, message: `must be a whole number of streams when llm.sweep.by is concurrency, got ${r[key]}` });
    }
    if (r.max > 200) errors.push({ field: 'llm.sweep.max', message: 'must be <= 200 streams when llm.sweep.by is concurrency (as llm.concurrency)' });
  }
  const slo = llm.slo;
  if (!slo || (slo.ttft === undefined && slo.tpot === undefined && slo.e2el === undefined)) {
    errors.push({ field: 'llm.slo', message: 'needs at least one bound (ttft, tpot or e2el) in llm.testMode sweep: the sweep looks for the highest load that meets it' });
  }
  for (const key of ['concurrency', 'requestRate'] as const) {
    if (llm[key] !== undefined) errors.push({ field: `llm.${key}`, message: 'does not apply in llm.testMode sweep: llm.sweep gives the loads' });
  }
  if (r.by === 'concurrency' && llm.maxConcurrency !== undefined) errors.push({ field: 'llm.maxConcurrency', message: 'applies only when llm.sweep.by is rate' });
}

/**
 * The reference's three depth profiles, as turn distributions: one-shot
 * (always 1 turn), short (median 4, mostly 3–5) and long (median 11, mostly
 * 8–15). The think time stays the reference's.
 */
const PROFILE_TURNS: Record<NonNullable<LlmSessionsSpec['profile']>, LogNormalSpec> = {
  'one-shot': { mu: 0, sigma: 0 },
  short: { mu: Math.log(4), sigma: 0.2 },
  long: { mu: Math.log(11), sigma: 0.2 },
};

/** A sessions section with every default applied: explicit turns win over the profile. */
export function resolveSessions(spec: LlmSessionsSpec | undefined): Required<Omit<LlmSessionsSpec, 'profile'>> {
  return {
    turns: spec?.turns ?? (spec?.profile ? PROFILE_TURNS[spec.profile] : LLM_MODE_DEFAULTS.sessionTurns),
    thinkTime: spec?.thinkTime ?? LLM_MODE_DEFAULTS.sessionThinkTime,
    maxTurns: spec?.maxTurns ?? LLM_MODE_DEFAULTS.sessionMaxTurns,
  };
}

/** The rules between the llm fields of the modes; each problem names its field. */
export function llmModeChecks(llm: LlmSpec, agentCount: number, errors: FieldError[]): void {
  const mode = llm.mode ?? 'standard';
  sweepChecks(llm, errors);
  if (llm.testMode === 'sweep' && mode !== 'standard') errors.push({ field: 'llm.mode', message: 'must be standard in llm.testMode sweep (the sweep is its own search)' });
  if (llm.testMode === 'pressure') {
    const start = llm.startConcurrency ?? LLM_MODE_DEFAULTS.startConcurrency;
    const target = llm.concurrency ?? 1;
    if (start > target) errors.push({ field: 'llm.startConcurrency', message: `must be <= llm.concurrency (${target})` });
    const ramp = llm.rampTime ?? LLM_MODE_DEFAULTS.rampTimeS;
    if (llm.duration !== undefined && ramp >= llm.duration) errors.push({ field: 'llm.rampTime', message: `must be shorter than llm.duration (${llm.duration}): the steady stage is found in the hold after the ramp` });
  } else {
    if (llm.startConcurrency !== undefined) errors.push({ field: 'llm.startConcurrency', message: 'applies only to llm.testMode pressure' });
    if (llm.rampTime !== undefined) errors.push({ field: 'llm.rampTime', message: 'applies only to llm.testMode pressure' });
  }
  if (llm.promptLengths !== undefined && mode !== 'token-sweep') errors.push({ field: 'llm.promptLengths', message: 'applies only to llm.mode token-sweep' });
  if (llm.sessions !== undefined && mode !== 'sessions') errors.push({ field: 'llm.sessions', message: 'applies only to llm.mode sessions' });
  const dataset = llm.dataset?.type ?? 'synthetic';
  switch (mode) {
    case 'token-sweep':
      if (llm.testMode !== 'concurrency') errors.push({ field: 'llm.testMode', message: 'must be concurrency in llm.mode token-sweep (the same concurrency at every prompt length)' });
      if (dataset !== 'synthetic') errors.push({ field: 'llm.dataset.type', message: 'must be synthetic in llm.mode token-sweep (prompts are built at each length)' });
      if (llm.requestCount === undefined || llm.continuous) errors.push({ field: 'llm.requestCount', message: 'is required (and continuous off) in llm.mode token-sweep: it is shared equally between the prompt lengths' });
      break;
    case 'consistency':
      if (llm.testMode !== 'concurrency') errors.push({ field: 'llm.testMode', message: 'must be concurrency in llm.mode consistency (one prompt sent serially)' });
      if ((llm.concurrency ?? 1) !== 1) errors.push({ field: 'llm.concurrency', message: 'must be 1 in llm.mode consistency (one prompt sent serially)' });
      if (agentCount !== 1) errors.push({ field: 'optional.agentCount', message: 'must be 1 in llm.mode consistency (one prompt sent serially)' });
      break;
    case 'sessions':
      if (llm.testMode !== 'rate') errors.push({ field: 'llm.testMode', message: 'must be rate in llm.mode sessions (llm.requestRate is the session arrival rate)' });
      if (dataset === 'custom') errors.push({ field: 'llm.dataset.type', message: 'must be synthetic or sharegpt in llm.mode sessions (each turn adds a user prompt to the conversation)' });
      if (llm.api !== 'chat') errors.push({ field: 'llm.api', message: 'must be chat in llm.mode sessions (a session is a conversation)' });
      break;
    case 'tools':
      if (llm.api !== 'chat') errors.push({ field: 'llm.api', message: 'must be chat in llm.mode tools (OpenAI tools are a chat completions feature)' });
      break;
    case 'standard':
      break;
  }
}
