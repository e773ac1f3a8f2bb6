import type { Capacity, EndReason, RoundResult, ThresholdResult, Verdict, VerdictOutcome } from '../../src/contract';
import { describeThreshold } from '../metrics/thresholds';
import { fmtCapacity, fmtStatusCodes } from '../modes/window';

/**
 * The one place a round's verdict is made (SPEC 7, docs/modes.md). desc's
 * Message, the report, the stats stream, `--wait` and `bench check` all show
 * what this returns, so they cannot say different things.
 */
export interface VerdictInput {
  /** False while the round runs: the verdict so far, without an end. */
  ended: boolean;
  /** The task could not start its round: why (CreateFailed). */
  startFailed?: string;
  /** scan and auto (not llm): a round that ends without a capacity has `no capacity`. */
  searchesCapacity: boolean;
  result?: RoundResult;
  capacity?: Capacity;
  /** scan and auto: why there is no capacity (`no capacity: error rate ... at the lowest rate`), when they said. */
  noCapacityWhy?: string;
  thresholds: readonly ThresholdResult[];
  endReason?: EndReason;
  /** Why the round ended, in words: `duration of 30 s reached`. */
  endedWords?: string;
}

function noResultWhy(input: VerdictInput): string | undefined {
  if (input.startFailed !== undefined) return `the task failed to start: ${input.startFailed}`;
  const result = input.result;
  if (!result || result.TotalRequests === 0) return input.ended ? 'no request was answered' : undefined;
  if (result.SuccessRequests > 0) return undefined;
  return `no request succeeded (${result.TotalRequests} requests, status codes ${fmtStatusCodes(result.StatusCodes ?? {})})`;
}

function thresholdsWords(thresholds: readonly ThresholdResult[], ended: boolean): string[] {
  if (thresholds.length === 0) return [];
  const failed = thresholds.filter((t) => !t.Passed);
  const held = thresholds.length - failed.length;
  const verb = ended ? 'held' : 'holding';
  const count = `${held} of ${thresholds.length} threshold${thresholds.length === 1 ? '' : 's'} ${verb}`;
  return failed.length === 0 ? [count] : [...failed.map((t) => `threshold ${describeThreshold(t)}`), count];
}

function outcomeOf(input: VerdictInput, noResult: string | undefined): VerdictOutcome {
  if (noResult !== undefined) return 'no result';
  if (input.thresholds.some((t) => !t.Passed)) return 'failed';
  if (input.ended && input.searchesCapacity && !input.capacity) return 'no capacity';
  return 'passed';
}

/**
 * The round's verdict: `no result` when nothing succeeded (with or without
 * thresholds), `failed` when a threshold failed, `no capacity` when scan or
 * auto ended without one, else `passed`; and the same in one line.
 */
export function buildVerdict(input: VerdictInput): Verdict {
  const noResult = noResultWhy(input);
  const outcome = outcomeOf(input, noResult);
  const words: string[] = [];
  if (noResult !== undefined) words.push(noResult);
  words.push(...thresholdsWords(input.thresholds, input.ended));
  if (input.capacity) words.push(fmtCapacity(input.capacity));
  else if (input.noCapacityWhy) words.push(input.noCapacityWhy);
  else if (input.ended && outcome === 'no capacity') words.push('no capacity found');
  if (input.ended && input.endedWords && input.startFailed === undefined) words.push(`ended: ${input.endedWords}`);
  const head = input.ended ? 'Verdict' : 'Verdict so far';
  return {
    Outcome: outcome,
    ...(input.capacity ? { Capacity: input.capacity } : {}),
    ...(input.ended && input.endReason ? { EndReason: input.endReason } : {}),
    ...(input.ended && input.endedWords ? { Ended: input.endedWords } : {}),
    Thresholds: [...input.thresholds],
    Text: `${head}: ${[outcome, ...words].join('; ')}`,
  };
}
