/**
 * The suite runs its files in parallel jest workers, except the files that
 * measure time against a known truth (a TTFT within 5% of the service's, a
 * health check within 1 s): on a 2-core machine, a neighbour's CPU would be
 * part of what they measure. Such a file says `@runAlone` on a line of a
 * doc comment near its top; it waits until no other file runs, and no other file starts until
 * it is done. Every other file holds a shared hold for its whole run.
 *
 * The holds are files in a folder made for this jest run (global-setup.js
 * sets EAS_SUITE_LOCK_DIR), so they work across the workers' processes.
 */
import { holdAlone, holdShared, SuiteHold } from '../helpers/suite-lock';
import { runsAlone } from './runs-alone';

/** The longest a file waits for its turn: the whole suite's worst case, not a test's. */
const WAIT_FOR_TURN_MS = 30 * 60_000;

const lockDir = process.env.EAS_SUITE_LOCK_DIR;
const testPath = expect.getState().testPath;

if (lockDir && testPath) {
  let hold: SuiteHold | undefined;
  beforeAll(async () => {
    hold = runsAlone(testPath) ? await holdAlone(lockDir) : await holdShared(lockDir);
  }, WAIT_FOR_TURN_MS);
  afterAll(() => hold?.release());
}

