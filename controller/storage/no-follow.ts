import * as fs from 'node:fs';
import * as path from 'node:path';

/**
 * The controller never reads, writes or serves a file outside its data dir:
 * below the data dir (which may itself be a link the operator made) no
 * symbolic link is followed. Files are opened with O_NOFOLLOW (a link as the
 * last component fails with ELOOP), and the folders between the data dir and
 * a file are checked with lstat to be real folders.
 */

/** fs.constants.O_NOFOLLOW where the platform has it (not on Windows, which this does not protect). */
const NO_FOLLOW = fs.constants.O_NOFOLLOW ?? 0;

/** A path below the data dir that is a symbolic link (or not what it should be): refused, never followed. */
export class LinkRefused extends Error {
  readonly code = 'ELOOP';

  constructor(readonly file: string, what: string) {
    super(`${file} is ${what}, not followed: the controller reads and writes only inside its data dir`);
    this.name = 'LinkRefused';
  }
}

/**
 * Checks every folder from below `root` down to `dir` (included): each that
 * exists must be a real folder, not a link. Missing ones are fine (they are
 * made by the caller). Throws LinkRefused.
 */
export function assertRealDirs(root: string, dir: string): void {
  const rel = path.relative(root, dir);
  if (rel.startsWith('..') || path.isAbsolute(rel)) throw new LinkRefused(dir, 'outside the data dir');
  let at = root;
  for (const part of rel.split(path.sep).filter((p) => p !== '')) {
    at = path.join(at, part);
    let stat: fs.Stats;
    try {
      stat = fs.lstatSync(at);
    } catch {
      return;
    }
    if (stat.isSymbolicLink()) throw new LinkRefused(at, 'a symbolic link');
    if (!stat.isDirectory()) throw new LinkRefused(at, 'not a folder');
  }
}

/** mkdir -p of `dir` below `root`, refusing a link on the way. */
export function mkdirReal(root: string, dir: string): void {
  assertRealDirs(root, dir);
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  // made between the check and the mkdir by someone else: checked again
  assertRealDirs(root, dir);
}

/** The file's text, opened without following a link. */
export function readFileNoFollow(file: string, encoding: BufferEncoding = 'utf8'): string {
  const fd = fs.openSync(file, fs.constants.O_RDONLY | NO_FOLLOW);
  try {
    return fs.readFileSync(fd, encoding);
  } finally {
    fs.closeSync(fd);
  }
}

/** Opens a file for writing (`flags`: O_* of fs.constants) without following a link. */
export function openNoFollow(file: string, flags: number, mode = 0o600): number {
  return fs.openSync(file, flags | NO_FOLLOW, mode);
}

/** Appends, creating the file (0600) when missing, without following a link. */
export function appendFileNoFollow(file: string, text: string): void {
  const { O_WRONLY, O_APPEND, O_CREAT } = fs.constants;
  const fd = openNoFollow(file, O_WRONLY | O_APPEND | O_CREAT);
  try {
    fs.writeFileSync(fd, text);
  } finally {
    fs.closeSync(fd);
  }
}

/** The flag that makes fs.promises.open refuse a link as the last component. */
export const O_NOFOLLOW = NO_FOLLOW;

/** Write temp, fsync, rename: the file is the old one or the new one, never a part. */
export function writeFileAtomic(file: string, content: string | Uint8Array): void {
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    // a link planted where the temp file goes is not written through
    const fd = openNoFollow(tmp, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_TRUNC);
    try {
      fs.writeFileSync(fd, content);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, file);
  } catch (err) {
    // a full disk leaves a partial temp file: remove it, it only takes the space a retry needs
    fs.rmSync(tmp, { force: true });
    throw err;
  }
}
