import { monitorEventLoopDelay } from 'node:perf_hooks';
import { loneSenderAgainstNginx } from './driver';
import { runScript } from './tools';

interface Slice {
  sends: number;
  maxLagMs: number;
  maxInFlight: number;
}

/**
 * `node dist-bench/bench/startup.js QPS [PRECONNECT]`: the open-loop driver
 * and HTTP sender alone, in this process, against nginx, from a prepared
 * (pre-connected, warmed) sender: sends, worst send lag and most requests in
 * flight per 100 ms of the first 2 s. Without the controller or the round,
 * it shows whether a start-up transient is the sender's own.
 */
async function main(): Promise<void> {
  const qps = Number(process.argv[2] ?? 20000);
  const sender = await loneSenderAgainstNginx(qps, process.argv[3] ? Number(process.argv[3]) : undefined);
  await new Promise((r) => setTimeout(r, 200));
  const sliceMs = 100;
  const slices: Slice[] = [];
  const loopDelay = monitorEventLoopDelay({ resolution: 1 });
  loopDelay.enable();
  const startMs = performance.now();
  const driver = sender.start((nowMs, lagUs) => {
    const slice = (slices[Math.floor((nowMs - startMs) / sliceMs)] ??= { sends: 0, maxLagMs: 0, maxInFlight: 0 });
    slice.sends++;
    slice.maxLagMs = Math.max(slice.maxLagMs, lagUs / 1000);
    slice.maxInFlight = Math.max(slice.maxInFlight, sender.workload.sender.inFlight);
  });
  await new Promise((r) => setTimeout(r, 2000));
  driver.stop();
  loopDelay.disable();
  process.stdout.write(`per ${sliceMs} ms: sends / max send lag ms / max in flight; event-loop delay max ${(loopDelay.max / 1e6).toFixed(1)} ms\n`);
  process.stdout.write(`${slices.map((s, i) => `+${i * sliceMs}: ${s.sends}/${s.maxLagMs.toFixed(1)}/${s.maxInFlight}`).join('  ')}\n`);
  await sender.close();
}

runScript('startup', main);
