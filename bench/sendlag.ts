import { loneSenderAgainstNginx } from './driver';
import { runScript } from './tools';

/**
 * `node dist-bench/bench/sendlag.js QPS SECONDS`: the open-loop driver and
 * HTTP sender alone, in this process, against nginx: send lag p50/p99/max
 * after a 1 s warm-up, and the CPU this process used (share of one core).
 * Nothing else of the agent runs, so it shows the sender's timing floor.
 */
async function main(): Promise<void> {
  const qps = Number(process.argv[2] ?? 1000);
  const seconds = Number(process.argv[3] ?? 4);
  const sender = await loneSenderAgainstNginx(qps);
  const lags: number[] = [];
  let measuring = false;
  const driver = sender.start((_nowMs, lagUs) => {
    if (measuring) lags.push(lagUs / 1000);
  });
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
  await sender.close();
}

runScript('sendlag', main);
