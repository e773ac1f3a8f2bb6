import * as fs from 'node:fs';
import * as path from 'node:path';
import { formatTime } from '../../controller/tasks/naming';
import { isFinalStatus } from '../../src/contract';
import { createTask, idleLauncher, InProcessController, startInProcessController, waitForStatus } from '../helpers/controller';
import { FakeClock } from '../helpers/fake-clock';
import { waitFor } from '../helpers/processes';

/**
 * Retention in fake time: a controller whose clock is a FakeClock stamps its
 * tasks with it and sweeps them on it (every --retention-check-s), so days of
 * a controller's life pass in milliseconds. The defaults are the SPEC's:
 * Stopped 48 h, a failed task 10 min.
 */

const MINUTE_MS = 60_000;
const HOUR_MS = 60 * MINUTE_MS;
const CHECK_S = 30;
const task = { service: { serviceName: 'demo', url: 'http://127.0.0.1:1/x' }, optional: { mode: 'manual', agentCount: 1, concurrency: 1, duration: 60 } };

describe('retention, in fake time', () => {
  let clock: FakeClock;
  let c: InProcessController;

  beforeEach(async () => {
    clock = new FakeClock();
    // agents that never connect: a round fails at the connect timeout (on the clock), or is stopped while it waits
    c = await startInProcessController({ retentionCheckS: CHECK_S, agentConnectTimeoutS: 30 }, { launcher: idleLauncher, clock });
  });

  afterEach(async () => {
    await c.close();
  });

  /** A task whose round is on its way (its connect timer set on the clock). */
  async function startedTask(): Promise<string> {
    const name = await createTask(c, task);
    await waitFor(`${name}'s round`, () => c.controller.manager.entry(name).runner, 10_000, 5);
    return name;
  }

  /** A task whose round failed (no agent connected within the timeout): CreateFailed. */
  async function failedTask(): Promise<string> {
    const name = await startedTask();
    clock.advance(31_000);
    await waitForStatus(c, name, ['CreateFailed'], 10_000);
    return name;
  }

  /** A task stopped by the user: Stopped once its report is written. */
  async function stoppedTask(): Promise<string> {
    const name = await startedTask();
    await c.controller.manager.stop(name);
    // the round waits stopWaitMs for its agents (none here), on the clock
    clock.advance(10_000);
    await waitForStatus(c, name, ['Stopped'], 10_000);
    return name;
  }

  const present = (name: string): boolean => c.controller.manager.has(name);
  /** Present and not being deleted (a sweep's delete sets Deleting at once, and removes the task a little later). */
  const kept = (name: string): boolean => present(name) && c.controller.manager.entry(name).record.status !== 'Deleting';
  /** The sweep's delete reads and removes files in real time: waits for it to finish. */
  const gone = (name: string): Promise<true> => waitFor(`${name} to be deleted`, () => !present(name) || undefined, 10_000, 5);

  test('the task stamps are the clock\'s', async () => {
    const createdAt = clock.nowMs();
    const name = await failedTask();
    const record = c.controller.manager.entry(name).record;
    expect(record.createMs).toBe(createdAt);
    // failed at the connect timeout, 30 s after its round started
    expect(record.finalMs).toBe(createdAt + 30_000);
    expect(isFinalStatus(record.status)).toBe(true);
    expect(record.updateMs).toBeGreaterThanOrEqual(record.finalMs ?? 0);
  });

  test('a report is dated by the clock: its round\'s end and when it was generated', async () => {
    const name = await stoppedTask();
    const round = c.controller.manager.entry(name).record.rounds[0];
    const jsonKey = round.reportKeys?.find((k) => k.endsWith('.json'));
    expect(jsonKey).toBeDefined();
    const report = JSON.parse(fs.readFileSync(path.join(c.dataDir, 'reports', jsonKey ?? ''), 'utf8')) as { EndTime: string; GeneratedAt: string };
    // no agent to wait for: the round ended at the stop, and its report was written before the clock moved on
    expect(round.endMs).toBe(round.startMs);
    expect(report.EndTime).toBe(formatTime(round.startMs));
    expect(report.GeneratedAt).toBe(formatTime(round.startMs));
  });

  test('a failed task is swept after 10 minutes, a stopped one after 48 hours, a newer one kept', async () => {
    const failed = await failedTask();
    const stopped = await stoppedTask();
    const stoppedAt = c.controller.manager.entry(stopped).record.finalMs ?? 0;
    const failedAt = c.controller.manager.entry(failed).record.finalMs ?? 0;

    // a sweep before the failed task's 10 minutes keeps it
    clock.advanceTo(failedAt + 10 * MINUTE_MS - CHECK_S * 1000);
    expect(kept(failed)).toBe(true);
    // the first sweep at or past them deletes it, with its folder; the stopped task stays
    clock.advanceTo(failedAt + 10 * MINUTE_MS + CHECK_S * 1000);
    await gone(failed);
    expect(fs.existsSync(path.join(c.dataDir, 'tasks', failed))).toBe(false);
    expect(kept(stopped)).toBe(true);

    // a day later, another task stops
    clock.advanceTo(stoppedAt + 24 * HOUR_MS);
    const newer = await stoppedTask();
    expect(kept(stopped)).toBe(true);

    // just before its 48 hours the stopped task is kept; at the first sweep past them it goes, the newer one stays
    clock.advanceTo(stoppedAt + 48 * HOUR_MS - CHECK_S * 1000);
    expect(kept(stopped)).toBe(true);
    clock.advanceTo(stoppedAt + 48 * HOUR_MS + CHECK_S * 1000);
    await gone(stopped);
    expect(kept(newer)).toBe(true);

    // the newer task's own 48 hours
    const newerAt = c.controller.manager.entry(newer).record.finalMs ?? 0;
    clock.advanceTo(newerAt + 48 * HOUR_MS - CHECK_S * 1000);
    expect(kept(newer)).toBe(true);
    clock.advanceTo(newerAt + 48 * HOUR_MS + CHECK_S * 1000);
    await gone(newer);
    expect(c.controller.manager.entries()).toEqual([]);
  });

  test('a finished round stays in GET /metrics for --metrics-keep-s (600) on the clock, then goes', async () => {
    const name = await stoppedTask();
    const endedAt = c.controller.manager.entry(name).record.rounds[0].endMs ?? 0;
    const exported = async (): Promise<boolean> => (await c.controller.prometheus.scrape()).includes(`easbench_dropped_requests_total{task="${name}"`);
    expect(await exported()).toBe(true);
    clock.advanceTo(endedAt + 599_000);
    expect(await exported()).toBe(true);
    clock.advanceTo(endedAt + 600_000);
    expect(await exported()).toBe(false);
  });

  test('a task that is not final is never swept, however old', async () => {
    const name = await startedTask();
    await c.controller.manager.stop(name);
    // Stopping: its report not written yet (the round waits for its agents on the clock, not moved)
    expect(c.controller.manager.entry(name).record.status).toBe('Stopping');
    c.controller.manager.sweepRetention(clock.nowMs() + 30 * 24 * HOUR_MS);
    expect(kept(name)).toBe(true);
  });
});
