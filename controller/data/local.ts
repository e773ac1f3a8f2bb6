import { BenchError } from '../../src/contract';
import { constants } from 'node:fs';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DataLimits, reasonOf, sourceError, tooBig } from './limits';
import { DataPolicy, isWithin, NO_LOCAL_DATA, OUTSIDE_ROOTS, refused } from './policy';

interface Roots {
  /** Each root as given (absolute) and as resolved: a path is first matched lexically, before it is touched. */
  given: string[];
  real: string[];
  excluded: string[];
  /** dev:ino of the excluded files: a hard link inside a root has its own path but the same inode. */
  excludedFiles: Set<string>;
}

const inode = (stat: { dev: number; ino: number }): string => `${stat.dev}:${stat.ino}`;

async function realOrResolved(p: string): Promise<string> {
  try {
    return await fs.realpath(p);
  } catch {
    return path.resolve(p);
  }
}

// resolved at every read, so a root replaced by a symlink after start is judged by where it leads now
async function resolveRoots(policy: DataPolicy): Promise<Roots> {
  const given = policy.roots.map((r) => path.resolve(r));
  const real: string[] = [];
  for (const root of given) {
    try {
      real.push(await fs.realpath(root));
    } catch {
      // a missing root allows nothing
    }
  }
  const excludedFiles = new Set<string>();
  for (const p of policy.excluded) {
    const stat = await fs.stat(p).catch(() => undefined);
    if (stat?.isFile()) excludedFiles.add(inode(stat));
  }
  return { given, real, excluded: await Promise.all(policy.excluded.map(realOrResolved)), excludedFiles };
}

function allowed(roots: Roots, real: string): boolean {
  return roots.real.some((r) => isWithin(real, r)) && !roots.excluded.some((e) => isWithin(real, e));
}

/** The nearest existing ancestor of `p`, resolved: where a missing path would really be. */
async function realAncestor(p: string): Promise<string> {
  for (let dir = path.dirname(p); ; dir = path.dirname(dir)) {
    try {
      return await fs.realpath(dir);
    } catch {
      if (path.dirname(dir) === dir) return dir;
    }
  }
}

/**
 * Where `file` really is, if the policy allows it. Refusals come before any
 * error that would tell whether the file exists: a path outside every root is
 * refused without being touched, and a missing one is refused when the
 * folder it would be in lies outside.
 */
async function confine(source: string, file: string, policy: DataPolicy): Promise<{ real: string; roots: Roots }> {
  if (policy.roots.length === 0) throw refused(source, NO_LOCAL_DATA);
  const roots = await resolveRoots(policy);
  const wanted = path.resolve(file);
  if (!roots.given.some((r) => isWithin(wanted, r)) && !roots.real.some((r) => isWithin(wanted, r))) throw refused(source, OUTSIDE_ROOTS);
  let real: string;
  try {
    real = await fs.realpath(wanted);
  } catch (err) {
    if (!allowed(roots, await realAncestor(wanted))) throw refused(source, OUTSIDE_ROOTS);
    throw localError(source, err);
  }
  if (!allowed(roots, real)) throw refused(source, OUTSIDE_ROOTS);
  return { real, roots };
}

function localError(source: string, err: unknown): BenchError {
  const code = (err as NodeJS.ErrnoException).code;
  return sourceError(source, code === 'ENOENT' || code === 'ENOTDIR' ? 'no such file' : code === 'EACCES' ? 'permission denied' : reasonOf(err));
}

/**
 * Where an open descriptor really points (Linux), to catch a folder on the
 * resolved path swapped for a symlink between the check and the open.
 */
async function openedPath(fd: number): Promise<string | undefined> {
  try {
    return await fs.readlink(`/proc/self/fd/${fd}`);
  } catch {
    return undefined;
  }
}

/** A local path or `file://` URL (an extension: the reference reads only remote sources), under the policy's roots. */
export async function readLocal(source: string, limits: DataLimits, policy: DataPolicy): Promise<Buffer> {
  let file = source;
  try {
    if (source.startsWith('file://')) file = fileURLToPath(source);
  } catch (err) {
    throw sourceError(source, reasonOf(err));
  }
  const { real, roots } = await confine(source, file, policy);
  let handle: fs.FileHandle | undefined;
  try {
    // O_NONBLOCK: a FIFO under a root must not hang the open; it fails the regular-file check below
    handle = await fs.open(real, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
    const opened = await openedPath(handle.fd);
    if (opened !== undefined && !allowed(roots, opened)) throw refused(source, OUTSIDE_ROOTS);
    const stat = await handle.stat();
    if (roots.excludedFiles.has(inode(stat))) throw refused(source, OUTSIDE_ROOTS);
    if (!stat.isFile()) throw sourceError(source, 'not a file');
    if (stat.size > limits.maxSourceBytes) throw sourceError(source, tooBig(limits.maxSourceBytes));
    return await handle.readFile();
  } catch (err) {
    if (err instanceof BenchError) throw err;
    // ELOOP: the last component became a symlink after it was resolved
    if ((err as NodeJS.ErrnoException).code === 'ELOOP') throw refused(source, OUTSIDE_ROOTS);
    throw localError(source, err);
  } finally {
    await handle?.close();
  }
}
