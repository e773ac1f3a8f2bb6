const { runsAlone } = require('./runs-alone');
const Sequencer = require('@jest/test-sequencer').default;

/**
 * jest's order (slowest known first, else largest first), with the files that
 * run alone (`@runAlone`, see run-alone.ts) moved to the end: by then no other
 * file is left to start, so waiting for their turn idles no worker that had
 * work, and they run one after another as the last files end.
 */
class RunAloneLast extends Sequencer {
  sort(tests) {
    const sorted = super.sort(tests);
    return [...sorted.filter((t) => !runsAlone(t.path)), ...sorted.filter((t) => runsAlone(t.path))];
  }
}

module.exports = RunAloneLast;
