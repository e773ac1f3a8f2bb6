import { RoundResult, TaskStatus, Verdict } from '../../src/contract';
import { RoundFigures } from './entry';
import { RoundRecord, TaskRecord } from './record';
import { RoundEndInfo, RoundSnapshot } from './round-snapshot';
import { buildVerdict, VerdictInput } from './verdict';

/**
 * A round's verdict from what the task knows of it: live from the runner,
 * final at its end (kept on the round record, so a restart keeps it), or
 * judged again from the stored round (`bench check`). All three go through
 * buildVerdict.
 */

/** scan and auto look for a capacity; an llm task runs its own load whatever the mode. */
export function searchesCapacity(task: TaskRecord): boolean {
  const mode = task.options.mode;
  return !task.spec.llm && (mode === 'scan' || mode === 'auto');
}

/** The verdict so far of a running round; `result`: its figures (`live.result`, which costs a fold to read). */
export function liveVerdict(task: TaskRecord, live: RoundSnapshot, result: RoundResult): Verdict {
  return buildVerdict({
    ended: false,
    searchesCapacity: searchesCapacity(task),
    result: measured(result),
    capacity: live.capacity,
    thresholds: live.thresholds,
  });
}

/**
 * The verdict of a round that just ended, written on its record with what
 * judging it again needs (why it ended, why there is no capacity).
 */
export function settleVerdict(task: TaskRecord, round: RoundRecord, info: RoundEndInfo, status: TaskStatus, last: RoundSnapshot | undefined): Verdict {
  round.endReason = status === 'CreateFailed' ? 'createFailed' : info.endReason;
  round.ended = info.reason;
  if (!last?.capacity && last?.outcome) round.noCapacityWhy = last.outcome;
  const result = measured(last?.result);
  if (result) round.summary = { QPS: result.QPS, TP99: result.TP99, ErrorRate: result.ErrorRate };
  round.verdict = endedVerdict(task, round, { result, capacity: last?.capacity, thresholds: last?.thresholds ?? [] }, status === 'CreateFailed' ? info.reason : undefined);
  return round.verdict;
}

/** A round that could not start: nothing ran, nothing to judge. */
export function startFailedVerdict(round: RoundRecord, message: string): Verdict {
  round.endReason = 'createFailed';
  round.ended = message;
  round.verdict = buildVerdict({ ended: true, startFailed: message, searchesCapacity: false, thresholds: [], endReason: 'createFailed', endedWords: message });
  return round.verdict;
}

/**
 * A finished round judged again from its stored figures (the thresholds
 * evaluated anew on its seconds, read back from disk) and what its record
 * says of its end. A round stored before verdicts existed says its end by
 * its Message. `figures` is read only when there is a round to judge.
 */
export function judgedAgain(task: TaskRecord, round: RoundRecord, figures: () => RoundFigures): Verdict {
  if (round.endReason === 'createFailed') return startFailedVerdict({ ...round }, round.ended ?? round.message ?? 'the task failed to start');
  const result = figures().result;
  return endedVerdict(task, round, { result: measured(result), capacity: round.capacity, thresholds: result.Thresholds ?? [] });
}

/** A round's figures, when it measured anything: a verdict judges no result rather than one of zero requests. */
function measured(result: RoundResult | undefined): RoundResult | undefined {
  return result && result.TotalRequests > 0 ? result : undefined;
}

/**
 * The verdict of an ended round from its record (why it ended, in words and as
 * a reason; why there is no capacity) and its figures: the one form both a
 * round's end and a judgement of its stored figures take.
 */
function endedVerdict(
  task: TaskRecord,
  round: RoundRecord,
  figures: Pick<VerdictInput, 'result' | 'capacity' | 'thresholds'>,
  startFailed?: string,
): Verdict {
  return buildVerdict({
    ended: true,
    ...(startFailed !== undefined ? { startFailed } : {}),
    searchesCapacity: searchesCapacity(task),
    ...figures,
    noCapacityWhy: round.noCapacityWhy,
    endReason: round.endReason,
    endedWords: round.ended ?? round.message,
  });
}
