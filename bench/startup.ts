import { monitorEventLoopDelay } from 'node:perf_hooks';
import { HttpWorkload } from '../controller/agent/http-workload';
import type { LoadContext } from '../controller/agent/load-driver';
import { OpenLoop } from '../controller/agent/open-loop';
import { startNginx } from './tools';

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
  const nginx = await startNginx();
  const workload = new HttpWorkload({ url: nginx.url, method: 'GET', headers: [], bodies: [], timeoutMs: 5000 }, 0, { sent: () => undefined, response: () => undefined });
  const load = { kind: 'open' as const, qps, maxInFlight: 10_000 };
  workload.fit(load);
  if (process.argv[3]) workload.sender.setPreconnect(Number(process.argv[3]));
  await workload.sender.prepare();
  await new Promise((r) => setTimeout(r, 200));
  const sliceMs = 100;
  const slices: Slice[] = [];
  let startMs = 0;
  const context: LoadContext = {
    get inFlight() {
      return workload.sender.inFlight;
    },
    trySend: (originMs, nowMs, done) => {
      workload.sender.send(originMs, nowMs, done);
      return true;
    },
    dropped: () => undefined,
    sendLag: (nowMs, lagUs) => {
      const slice = (slices[Math.floor((nowMs - startMs) / sliceMs)] ??= { sends: 0, maxLagMs: 0, maxInFlight: 0 });
      slice.sends++;
      slice.maxLagMs = Math.max(slice.maxLagMs, lagUs / 1000);
      slice.maxInFlight = Math.max(slice.maxInFlight, workload.sender.inFlight);
    },
  };
  const loopDelay = monitorEventLoopDelay({ resolution: 1 });
  loopDelay.enable();
  const driver = new OpenLoop(context, load);
  startMs = performance.now();
  driver.start();
  await new Promise((r) => setTimeout(r, 2000));
  driver.stop();
  loopDelay.disable();
  process.stdout.write(`per ${sliceMs} ms: sends / max send lag ms / max in flight; event-loop delay max ${(loopDelay.max / 1e6).toFixed(1)} ms\n`);
  process.stdout.write(`${slices.map((s, i) => `+${i * sliceMs}: ${s.sends}/${s.maxLagMs.toFixed(1)}/${s.maxInFlight}`).join('  ')}\n`);
  await workload.sender.close();
  await nginx.stop();
}

main().then(
  () => process.exit(0),
  (err: Error) => {
    process.stderr.write(`startup failed: ${err.stack ?? err.message}\n`);
    process.exit(1);
  },
);
