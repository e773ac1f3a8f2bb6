import { signedFetch } from '../__tests__/helpers/api';
import { ControllerProcess, waitFor } from '../__tests__/helpers/processes';

/** Concurrency of the closed-loop throughput comparisons (ours, autocannon, wrk). */
export const CONCURRENCY = 50;

export interface Result {
  TotalRequests: number;
  QPS: number;
  TP99: number;
  SendLagP99: number;
  Dropped: number;
  DurationS: number;
  StatusCodes: Record<string, number>;
  GeneratorLimitedShare?: number;
  WarmupRequests?: number;
  WarmupExcludedS?: number;
}
export interface Point {
  Elapsed: number;
  Requests: number;
  SendLagP99: number;
  RT: { TP99: number };
  Generator?: { LoopDelayP99Ms: number; LoopDelayMaxMs: number; GcPauseMs: number; GcPauseMaxMs: number; FrameMs: number; ConnectionWaitMaxMs: number; Limited: boolean };
}

export const log = (line: string): void => {
  process.stdout.write(`${line}\n`);
};

/** Creates a task, waits for it to stop, and returns its round's result and per-second series. */
export async function runTask(c: ControllerProcess, task: unknown, onRunning?: (name: string) => void): Promise<{ result: Result; series: Point[]; name: string }> {
  const res = await signedFetch(c.url, c.accessId, c.secret, 'POST', '/api/v2/benchmark-tasks', JSON.stringify(task));
  if (res.status !== 200) throw new Error(`create failed: ${JSON.stringify(res.json)}`);
  const name = res.json.TaskName as string;
  const get = async (p: string) => (await signedFetch(c.url, c.accessId, c.secret, 'GET', `/api/v2/benchmark-tasks/cn-local/${name}${p}`)).json;
  await waitFor('Running', async () => (await get('')).Status === 'Running', 60000);
  onRunning?.(name);
  await waitFor('Stopped', async () => (await get('')).Status === 'Stopped', 3_600_000, 500);
  const stats = (await get('/stats')) as { Series: Point[]; Result: Result };
  return { result: stats.Result, series: stats.Series, name };
}

export const manual = (url: string, durationS: number, concurrency = CONCURRENCY, maxQPS?: number, agentCount = 1) => ({
  service: { serviceName: 'bench', url },
  optional: { mode: 'manual', agentCount, concurrency, duration: durationS, ...(maxQPS ? { maxQPS } : {}) },
});
/** A fixed open-loop rate: a scan whose first step is also its last. */
export const fixedRate = (url: string, qps: number, durationS: number) => ({
  service: { serviceName: 'bench', url },
  optional: { mode: 'scan', minQPS: qps, maxQPS: qps, qpsGrowthDelta: 1, adjustInterval: 1200, duration: durationS, faultTolerate: 1 },
});
