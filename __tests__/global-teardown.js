const fs = require('node:fs');

/** Removes this run's suite-hold folder (global-setup.js made it). */
module.exports = function afterTests() {
  const dir = process.env.EAS_SUITE_LOCK_DIR;
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
};
