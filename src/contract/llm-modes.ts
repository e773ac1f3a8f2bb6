import type { FieldError } from './errors';
import type { LlmSessionsSpec, LlmSpec, LogNormalSpec } from './llm-spec';

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
