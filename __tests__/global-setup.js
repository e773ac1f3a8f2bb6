const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

/**
 * Before any test: bring dist/ up to date with the sources, since the
 * integration tests spawn bin/*, which load dist/ (and in-process controllers
 * start agents from it). A run after an edit must never test the old build.
 *
 * Fast path: when no source file or folder (a deleted file changes its
 * folder) is newer than the stamp of the last build, nothing runs. Otherwise
 * an incremental tsc build, whose build info lives in dist/ (so a deleted
 * dist/ is a full build).
 */

const ROOT = path.join(__dirname, '..');
const SOURCES = ['src', 'controller', 'agent', 'fixtures', 'tsconfig.json', 'tsconfig.build.json', 'package-lock.json'];
const STAMP = path.join(ROOT, 'dist', '.build-stamp');

/** The newest modification time (ms) of `p` and everything under it. */
function newestMtimeMs(p) {
  const stat = fs.statSync(p, { throwIfNoEntry: false });
  if (!stat) return 0;
  let newest = stat.mtimeMs;
  if (stat.isDirectory()) for (const entry of fs.readdirSync(p)) newest = Math.max(newest, newestMtimeMs(path.join(p, entry)));
  return newest;
}

/** The folder of this run's suite holds (see setup/run-alone.ts); the workers inherit the variable. */
function makeSuiteLockDir() {
  const dir = fs.mkdtempSync(path.join(require('node:os').tmpdir(), 'eas-bench-suite-'));
  process.env.EAS_SUITE_LOCK_DIR = dir;
}

module.exports = function beforeTests() {
  makeSuiteLockDir();
  buildBeforeTests();
};

function buildBeforeTests() {
  const stampMs = fs.statSync(STAMP, { throwIfNoEntry: false })?.mtimeMs ?? 0;
  const sourcesMs = Math.max(...SOURCES.map((s) => newestMtimeMs(path.join(ROOT, s))));
  if (sourcesMs < stampMs) return;
  // stamped with the time the build started: a file saved during the build is newer, so the next run builds again
  const startedMs = Date.now();
  const tsc = require.resolve('typescript/bin/tsc');
  execFileSync(process.execPath, [tsc, '-p', 'tsconfig.build.json', '--incremental', '--tsBuildInfoFile', 'dist/.tsbuildinfo'], { cwd: ROOT, stdio: 'inherit' });
  fs.writeFileSync(STAMP, '');
  fs.utimesSync(STAMP, startedMs / 1000, startedMs / 1000);
}
