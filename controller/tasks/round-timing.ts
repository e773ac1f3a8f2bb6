import { LLM_MODE_DEFAULTS } from '../../src/contract';
import type { RoundTiming } from '../config';
import { REPLACE_DELAY_MS } from '../fleet/pool';

export type { RoundTiming } from '../config';

/** The controller's round waits, where nothing sets them. */
export const ROUND_TIMING: Readonly<RoundTiming> = {
  finalizeGraceS: 2,
  stopWaitMs: 6000,
  durationEndGraceS: 2,
  replaceDelayMs: REPLACE_DELAY_MS,
  driftMinRunS: LLM_MODE_DEFAULTS.driftMinRunS,
};
