import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { holdAlone, holdShared } from '../helpers/suite-lock';

/** Two live processes to hold with (the lock keys holders by pid), and one that has ended. */
const ME = process.pid;
const OTHER = process.ppid;
const DEAD = spawnSync(process.execPath, ['-e', '']).pid ?? 0;

const settledWithin = async (p: Promise<unknown>, ms: number): Promise<boolean> =>
  Promise.race([p.then(() => true), new Promise<boolean>((resolve) => setTimeout(() => resolve(false), ms))]);

describe('the suite lock: files that run alone, and the rest', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'suite-lock-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('an alone holder waits for the shared holders to leave, and shared holders wait for it', async () => {
    const shared = await holdShared(dir, OTHER);
    const alone = holdAlone(dir, ME);
    expect(await settledWithin(alone, 400)).toBe(false);
    shared.release();
    const aloneHold = await alone;
    const sharedAgain = holdShared(dir, OTHER);
    expect(await settledWithin(sharedAgain, 400)).toBe(false);
    aloneHold.release();
    (await sharedAgain).release();
  });

  test('shared holders do not wait for each other; a second alone holder waits for the first', async () => {
    const a = await holdShared(dir, ME);
    const b = await holdShared(dir, OTHER);
    a.release();
    b.release();
    const first = await holdAlone(dir, ME);
    const second = holdAlone(dir, OTHER);
    expect(await settledWithin(second, 400)).toBe(false);
    first.release();
    (await second).release();
  });

  test('a holder whose process ended is ignored, alone or shared', async () => {
    expect(DEAD).toBeGreaterThan(0);
    fs.mkdirSync(path.join(dir, 'shared'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'shared', String(DEAD)), '');
    const alone = await holdAlone(dir, ME);
    alone.release();
    fs.mkdirSync(path.join(dir, 'alone'));
    fs.writeFileSync(path.join(dir, 'alone', 'pid'), String(DEAD));
    (await holdShared(dir, OTHER)).release();
  });
});
