import { HttpWorkload } from '../controller/agent/http-workload';
import type { LoadContext } from '../controller/agent/load-driver';
import { OpenLoop } from '../controller/agent/open-loop';
import { startNginx } from './tools';

/**
 * `node dist-bench/bench/sendlag.js QPS SECONDS`: the open-loop driver and
 * HTTP sender alone, in this process, against nginx: send lag p50/p99/max
 * after a 1 s warm-up, and the CPU this process used (share of one core).
 * Nothing else of the agent runs, so it shows the sender's timing floor.
 */
async function main(): Promise<void> {
  const qps = Number(process.argv[2] ?? 1000);
  const seconds = Number(process.argv[3] ?? 4);
  const nginx = await startNginx();
  const lags: number[] = [];
  let measuring = false;
  const workload = new HttpWorkload({ url: nginx.url, method: 'GET', headers: [], bodies: [], timeoutMs: 5000 }, 0, { sent: () => undefined, response: () => undefined });
  const load = { kind: 'open' as const, qps, maxInFlight: 10_000 };
  workload.fit(load);
  await workload.sender.prepare();
  const context: LoadContext = {
    get inFlight() {
      return workload.sender.inFlight;
    },
    trySend: (originMs, nowMs, done) => {
      workload.sender.send(originMs, nowMs, done);
      return true;
    },
    dropped: () => undefined,
    sendLag: (_nowMs, lagUs) => {
      if (measuring) lags.push(lagUs / 1000);
    },
  };
  const driver = new OpenLoop(context, load);
  driver.start();
  await new Promise((r) => setTimeout(r, 1000));
  measuring = true;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, seconds * 1000));
  const cpu = process.cpuUsage(cpu0);
  const wallMs = performance.now() - t0;
  driver.stop();
  lags.sort((a, b) => a - b);
  const q = (p: number): string => (lags[Math.min(lags.length - 1, Math.floor(p * lags.length))] ?? 0).toFixed(3);
  process.stdout.write(
    `${JSON.stringify({ qps, sends: lags.length, lagP50Ms: q(0.5), lagP99Ms: q(0.99), lagMaxMs: q(1), cpuOfOneCore: `${(((cpu.user + cpu.system) / 1000 / wallMs) * 100).toFixed(0)}%` })}\n`,
  );
  await workload.sender.close();
  await nginx.stop();
}

main().then(
  () => process.exit(0),
  (err: Error) => {
    process.stderr.write(`sendlag failed: ${err.stack ?? err.message}\n`);
    process.exit(1);
  },
);
