import { TaskEvent } from '../../src/contract';
import { signedFetch } from './api';
import { ControllerProcess, FixtureProcess, killAllStarted, lastJson, runEascmd, startController, startFixture, tempDir, waitFor, writeTask } from './processes';

/**
 * scan and auto run to a verdict against fixture services of known capacity,
 * through the real eascmd and controller processes. The cases are split over
 * several files, each with its own controller and fixtures, so that they run
 * side by side.
 */

export interface ModeDetail {
  TaskName: string;
  Status: string;
  Message: string;
  Capacity?: { QPS: number; TP99: number; ErrorRate: number; Reason: string };
  Events: TaskEvent[];
  Result?: { TotalRequests: number };
}

export interface ModeSeries {
  Series: { Elapsed: number; TargetQPS?: number; Requests: number; Errors: number; RT: { TP99: number } }[];
  Events: TaskEvent[];
}

/** Capacity of the queue fixture: W workers x 1000/S ms. */
export const QUEUE_WORKERS = 4;
export const QUEUE_SERVICE_MS = 20;
export const QUEUE_CAPACITY = (QUEUE_WORKERS * 1000) / QUEUE_SERVICE_MS; // 200 QPS

/** The errors fixture answers errors to what is above this rate. */
export const ERRORS_ABOVE_QPS = 150;

/** The controller and the fixtures named in `services` for a describe block, and the ways to run a task on them. */
export function useModeServices(services: { queue?: boolean; errors?: boolean }): {
  controller(): ControllerProcess;
  queueUrl(): string;
  errorsUrl(): string;
  /** `bench create --wait --json`, run to the task's end: its detail and its stats series. */
  runTask(task: unknown): Promise<{ detail: ModeDetail; series: ModeSeries }>;
  /**
   * Creates the task and, once it holds a rate (its first `hold` event) and
   * has sent at that rate for `heldS` seconds, stops it (`bench stop`): what
   * the search found and the hold's first seconds, without waiting out the
   * rest of its duration. The detail is `bench desc --json`'s.
   */
  runUntilHeld(task: unknown, heldS: number): Promise<{ detail: ModeDetail; series: ModeSeries }>;
} {
  let controller: ControllerProcess | undefined;
  let queue: FixtureProcess | undefined;
  let errors: FixtureProcess | undefined;
  const dir = tempDir('modes');
  const need = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error('a mode service is used before its beforeAll ran, or was not asked for');
    return value;
  };

  beforeAll(async () => {
    controller = await startController();
    if (services.queue) queue = await startFixture(['--workers', String(QUEUE_WORKERS), '--service-ms', String(QUEUE_SERVICE_MS)]);
    if (services.errors) errors = await startFixture(['--latency-ms', '1', '--error-above-qps', String(ERRORS_ABOVE_QPS)]);
  });
  afterAll(async () => {
    await controller?.stop();
    await queue?.stop();
    await errors?.stop();
    killAllStarted();
  });

  const eascmd = async (args: string[], timeoutMs?: number): Promise<string> => {
    const res = await runEascmd(['-c', need(controller).configFile, ...args], { timeoutMs });
    if (res.code !== 0) throw new Error(`eascmd ${args.join(' ')} failed (${res.code}):\n${res.stdout}\n${res.stderr}`);
    return res.stdout;
  };
  const api = async (method: string, name: string, suffix = ''): Promise<Record<string, unknown>> => {
    const c = need(controller);
    return (await signedFetch(c.url, c.accessId, c.secret, method, `/api/v2/benchmark-tasks/cn-local/${name}${suffix}`)).json;
  };
  const seriesOf = async (name: string): Promise<ModeSeries> => (await api('GET', name, '/stats')) as unknown as ModeSeries;

  return {
    controller: () => need(controller),
    queueUrl: () => need(queue).url,
    errorsUrl: () => need(errors).url,
    async runTask(task) {
      const detail = lastJson<ModeDetail>(await eascmd(['bench', 'create', writeTask(dir, task), '--wait', '--json'], 240000));
      return { detail, series: await seriesOf(detail.TaskName) };
    },
    async runUntilHeld(task, heldS) {
      const created = lastJson<ModeDetail>(await eascmd(['bench', 'create', writeTask(dir, task), '--json']));
      const name = created.TaskName;
      await stopOnceHeld({ series: () => seriesOf(name), status: async () => String((await api('GET', name)).Status), stop: async () => void (await api('PUT', name, '/stop')) }, heldS);
      const detail = lastJson<ModeDetail>(await eascmd(['bench', 'desc', name, '--json']));
      return { detail, series: await seriesOf(name) };
    },
  };
}

/** A running scan or auto task, as `stopOnceHeld` reads and stops it. */
export interface HeldTask {
  series(): Promise<ModeSeries>;
  status(): Promise<string>;
  stop(): Promise<void>;
}

/**
 * Once the task holds a rate (its first `hold` event) and has sent at that
 * rate for `heldS` seconds, stops it, and waits until it is Stopped (or
 * Error); a task that ends before either is left to end. What the search
 * found and a hold judged again are then known, without waiting out the
 * rest of the duration.
 */
export async function stopOnceHeld(task: HeldTask, heldS: number): Promise<void> {
  const ended = async (): Promise<boolean> => ['Stopped', 'Error'].includes(await task.status());
  // the seconds before the hold: the hold's own are those after them at a rate above 0 (a drain sends nothing)
  const holdFrom = await waitFor('a rate held', async () => {
    const series = await task.series();
    if (series.Events.some((e) => e.Kind === 'hold')) return series.Series.length;
    return (await ended()) ? Number.POSITIVE_INFINITY : undefined;
  }, 180000, 250);
  if (holdFrom !== Number.POSITIVE_INFINITY) {
    await waitFor(`${heldS} s at the held rate`, async () => (await task.series()).Series.slice(holdFrom).filter((s) => (s.TargetQPS ?? 0) > 0).length >= heldS || (await ended()), 120000, 250);
    if (!(await ended())) await task.stop();
  }
  await waitFor('the task stopped', ended, 60000, 250);
}
