import { Connection } from '../api/connect';
import { isFinalStatus } from '../contract';
import { runStatsview } from '../statsview';
import { CliContext } from './context';
import { isFailureStatus, taskStatusError } from './errors';
import { watchInterrupt } from './interrupt';
import { pollTask } from './poll';
import { waitForEnd } from './wait';

/**
 * What create and start share once the controller accepted them: agents
 * coming up, Running, then the statsview or --wait. One function, so the two
 * commands cannot drift apart.
 */

/** Flags of create and start. */
export interface FollowFlags {
  wait: boolean;
  visualize: boolean;
}

/**
 * After create or start was accepted: follow the task until Running (or an
 * end), then either stay with --wait (progress, summary, report URL) or open
 * the statsview (on a terminal, or with --visualize). With --wait, returns
 * the exit code the round's verdict gives.
 */
export async function followStarted(ctx: CliContext, conn: Connection, taskName: string, flags: FollowFlags): Promise<number | undefined> {
  // CTRL+C before Running: the task keeps starting; the line says how to follow or stop it (exit 130)
  const interrupt = watchInterrupt(taskName);
  let task;
  try {
    task = await pollTask(ctx, conn, taskName, {
      done: (t) => t.Status === 'Running' || isFinalStatus(t.Status),
      agentLines: !ctx.json,
      goal: 'to Running',
      interrupt: interrupt.promise,
    });
  } finally {
    interrupt.dispose();
  }
  if (isFailureStatus(task.Status)) {
    // --json scripts still get the task's final state on stdout.
    if (ctx.json && flags.wait) ctx.out.json(task);
    throw taskStatusError(task, flags.wait);
  }
  if (!ctx.json) ctx.out.ok(`Benchmark task is ${task.Status}`);
  if (flags.wait) return waitForEnd(ctx, conn, task);
  // A task that already ended (tiny requestCount) has nothing live to show.
  if (task.Status === 'Running' && !ctx.json && (flags.visualize || ctx.stdoutIsTTY)) {
    await runStatsview({ client: conn.client, region: conn.region, taskName, configPath: conn.configPath, out: ctx.out });
  }
  return undefined;
}
