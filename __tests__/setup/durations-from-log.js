const fs = require('node:fs');
const path = require('node:path');

/**
 * Writes durations.json from a whole run's jest output (`npm test > log
 * 2>&1`): each file's seconds as jest printed them, 2 for the files it
 * printed none for (those under 5 s).
 */
const log = process.argv[2];
if (!log) throw new Error('usage: node __tests__/setup/durations-from-log.js <jest output>');
const durations = {};
for (const line of fs.readFileSync(log, 'utf8').split('\n')) {
  const m = /^(?:PASS|FAIL) (?:\S+ )?(__tests__\/\S+\.test\.ts)(?: \(([0-9.]+) s\))?/.exec(line);
  if (m) durations[m[1]] = m[2] ? Math.round(Number(m[2])) : 2;
}
const sorted = Object.fromEntries(Object.entries(durations).sort((a, b) => b[1] - a[1]));
fs.writeFileSync(path.join(__dirname, 'durations.json'), `${JSON.stringify(sorted, null, 2)}\n`);
console.log(`${Object.keys(sorted).length} files`);
