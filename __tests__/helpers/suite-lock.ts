import * as fs from 'node:fs';
import * as path from 'node:path';

/**
 * A readers-writer lock across processes, made of files: shared holders each
 * write `shared/<pid>`; the one alone holder makes the folder `alone` (mkdir
 * is atomic) and then waits until no shared holder is left. A shared holder
 * that sees `alone` steps back, so a waiting alone holder is never starved.
 * A holder whose process died is ignored, so a crashed worker cannot stall
 * the suite.
 */
export interface SuiteHold {
  release(): void;
}

const POLL_MS = 100;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function alive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function aloneHeldByOther(lockDir: string, me: number): boolean {
  const owner = Number(fs.readFileSync(path.join(lockDir, 'alone', 'pid'), { encoding: 'utf8', flag: 'r' }).trim() || NaN);
  if (Number.isNaN(owner)) return true; // being made right now
  if (alive(owner)) return owner !== me;
  fs.rmSync(path.join(lockDir, 'alone'), { recursive: true, force: true });
  return false;
}

function aloneExists(lockDir: string, me: number): boolean {
  try {
    return aloneHeldByOther(lockDir, me);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return fs.existsSync(path.join(lockDir, 'alone'));
    throw err;
  }
}

function sharedHolders(lockDir: string, me: number): number[] {
  const dir = path.join(lockDir, 'shared');
  return fs
    .readdirSync(dir)
    .map(Number)
    .filter((pid) => pid !== me && alive(pid));
}

/** `me`: the holder's process (a test may name another live one). */
export async function holdShared(lockDir: string, me = process.pid): Promise<SuiteHold> {
  const mine = path.join(lockDir, 'shared', String(me));
  fs.mkdirSync(path.dirname(mine), { recursive: true });
  for (;;) {
    if (!aloneExists(lockDir, me)) {
      fs.writeFileSync(mine, '');
      if (!aloneExists(lockDir, me)) return { release: () => fs.rmSync(mine, { force: true }) };
      fs.rmSync(mine, { force: true });
    }
    await sleep(POLL_MS);
  }
}

export async function holdAlone(lockDir: string, me = process.pid): Promise<SuiteHold> {
  const alone = path.join(lockDir, 'alone');
  fs.mkdirSync(path.join(lockDir, 'shared'), { recursive: true });
  for (;;) {
    try {
      fs.mkdirSync(alone);
      fs.writeFileSync(path.join(alone, 'pid'), String(me));
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      aloneExists(lockDir, me); // clears a dead holder's folder
      await sleep(POLL_MS);
    }
  }
  while (sharedHolders(lockDir, me).length > 0) await sleep(POLL_MS);
  return { release: () => fs.rmSync(alone, { recursive: true, force: true }) };
}
