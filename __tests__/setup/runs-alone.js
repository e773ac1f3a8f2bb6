const fs = require('node:fs');

/** Whether a test file says `@runAlone` on a line of a doc comment near its top (see run-alone.ts). */
function runsAlone(file) {
  return /^\s*\*\s*@runAlone\b/m.test(fs.readFileSync(file, 'utf8').slice(0, 4000));
}

module.exports = { runsAlone };
