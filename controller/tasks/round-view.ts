import { RoundRunner, RoundSnapshot } from './round';

/**
 * What the task side may read of a running round. Everything outside the
 * runner reads its state through this, never through its fields, so the
 * runner can change how it keeps that state without touching its readers.
 * Reading it grants the round its agents from the controller-wide budget
 * (desiredAgents), as the task's DesiredAgent must show.
 */
export type RoundView = RoundSnapshot;

export function viewRound(runner: RoundRunner): RoundView {
  return runner.snapshot();
}
