import { LLM_MODE_DEFAULTS } from '../../src/contract';
import { REPLACE_DELAY_MS } from '../fleet/pool';

/**
 * The times a round waits, as options with the controller's defaults, so
 * that a test in fake time can shorten or lengthen them (RoundDeps.timing).
 */
export interface RoundTiming {
  /** Seconds a second waits for late agents before it is finalized without them. */
  finalizeGraceS: number;
  /** After a stop, agents get this long to send their last frame and `done`. */
  stopWaitMs: number;
  /**
   * Agents end their schedule at the round's duration by themselves and say
   * `done`; the round stops once all have, or this long after the duration
   * (agents that do not end by themselves are then stopped as before).
   */
  durationEndGraceS: number;
  /** A lost agent's replacement is launched this long after the loss. */
  replaceDelayMs: number;
  /** LLM runs longer than this get a drift section. */
  driftMinRunS: number;
}

export const ROUND_TIMING: Readonly<RoundTiming> = {
  finalizeGraceS: 2,
  stopWaitMs: 6000,
  durationEndGraceS: 2,
  replaceDelayMs: REPLACE_DELAY_MS,
  driftMinRunS: LLM_MODE_DEFAULTS.driftMinRunS,
};
