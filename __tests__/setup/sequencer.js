const path = require('node:path');
const { runsAlone } = require('./runs-alone');
const Sequencer = require('@jest/test-sequencer').default;

/**
 * Seconds each file took in a quiet run of the whole suite, by path from the
 * repository root: what orders the files of a fresh clone, which has no jest
 * cache of their times (jest would go by file size, and a short file that
 * waits out a service's capacity for a minute would start last and hold the
 * run's end). Refresh it when files are added or slowed:
 * `node __tests__/setup/durations-from-log.js <jest output>`.
 */
const DURATIONS = require('./durations.json');
const ROOT = path.join(__dirname, '..', '..');

/**
 * Longest first (jest's cached times, else the recorded ones, else the file
 * size), with the files that run alone (`@runAlone`, see run-alone.ts) moved
 * to the end: by then no other file is left to start, so waiting for their
 * turn idles no worker that had work, and they run one after another as the
 * last files end.
 */
class LongestFirstAloneLast extends Sequencer {
  time(test) {
    return super.time(test) ?? DURATIONS[path.relative(ROOT, test.path)];
  }

  sort(tests) {
    const sorted = super.sort(tests);
    return [...sorted.filter((t) => !runsAlone(t.path)), ...sorted.filter((t) => runsAlone(t.path))];
  }
}

module.exports = LongestFirstAloneLast;
