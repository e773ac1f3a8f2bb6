import { Connection } from '../api/connect';
import { ApiError } from '../api/errors';
import { exitCodeForVerdict, GetTaskResponse, ReportResponse, isFinalStatus } from '../contract';
import { createProgress } from '../output/progress';
import { renderSummary } from '../output/summary';
import { CliContext } from './context';
import { taskStatusError } from './errors';
import { watchInterrupt } from './interrupt';
import { getTaskPatiently } from './poll';

/**
 * `--wait` of create and start: stay until the round ends, showing progress,
 * then print the summary and the report URL. CTRL+C only stops the waiting;
 * the task keeps running on the controller.
 */

/** The round's report, allowing the controller a moment to publish it after Stopped. */
async function reportWhenReady(ctx: CliContext, conn: Connection, taskName: string, timeoutMs: number): Promise<ReportResponse> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await conn.client.getReport(conn.region, taskName);
    } catch (err) {
      if (!(err instanceof ApiError && err.code === 'ReportNotReady') || Date.now() >= deadline) throw err;
      await ctx.sleep(ctx.timing.pollIntervalMs);
    }
  }
}

async function followToEnd(ctx: CliContext, conn: Connection, first: GetTaskResponse): Promise<GetTaskResponse> {
  const progress = ctx.json
    ? undefined
    : createProgress({
        tty: ctx.stdoutIsTTY,
        stream: ctx.io.stdout,
        print: (line) => ctx.out.ok(line),
        plainEveryMs: ctx.timing.plainProgressEveryMs,
      });
  const interrupt = watchInterrupt(first.TaskName);
  let task = first;
  try {
    while (!isFinalStatus(task.Status)) {
      progress?.update(task);
      await Promise.race([ctx.sleep(ctx.timing.waitPollIntervalMs), interrupt.promise]);
      task = await Promise.race([getTaskPatiently(ctx, conn, task.TaskName), interrupt.promise]);
    }
    progress?.update(task);
  } finally {
    progress?.stop();
    interrupt.dispose();
  }
  return task;
}

/**
 * Follows the round to its end, prints the summary, the report URL and, last,
 * the round's verdict; returns the exit code the verdict gives (SPEC 7).
 */
export async function waitForEnd(ctx: CliContext, conn: Connection, first: GetTaskResponse): Promise<number> {
  const task = await followToEnd(ctx, conn, first);
  if (ctx.json) {
    ctx.out.json(task);
    if (task.Status !== 'Stopped') throw taskStatusError(task, true);
    return task.Verdict ? exitCodeForVerdict(task.Verdict) : 0;
  }
  ctx.out.print(renderSummary(task));
  if (task.Status === 'Stopped') {
    const report = await reportWhenReady(ctx, conn, task.TaskName, ctx.timing.reportTimeoutMs);
    ctx.out.ok(`Benchmark task ${task.TaskName} report url: ${report.ReportUrl}`);
    if (!task.Verdict) return 0;
    ctx.out.print(task.Verdict.Text);
    return exitCodeForVerdict(task.Verdict);
  }
  // Terminated/Error rounds may still have a report of what was recorded.
  const report = await conn.client.getReport(conn.region, task.TaskName).catch(() => undefined);
  if (report) ctx.out.ok(`Benchmark task ${task.TaskName} report url: ${report.ReportUrl}`);
  if (task.Verdict) ctx.out.print(task.Verdict.Text);
  throw taskStatusError(task, true);
}
