import { startController } from '../__tests__/helpers/processes';
import { autocannon, runScript, startNginx } from './tools';
import { fixedRate, log, runTask } from './tasks';

/**
 * `node dist-bench/bench/truth.js [durationS] [qps...]`: open-loop rates
 * against nginx, with the per-second generator figures, beside autocannon -R.
 * bench/run.ts runs the same measurement as one of its sections.
 */
async function main(): Promise<void> {
  const [durationArg, ...rateArgs] = process.argv.slice(2);
  const durationS = Number(durationArg ?? 5);
  const rates = rateArgs.length > 0 ? rateArgs.map(Number) : [5000, 20000];
  const controller = await startController({ args: ['--max-agents', '4'] });
  const nginx = await startNginx();
  try {
    await autocannon(nginx.url, 50, 2);
    for (const qps of rates) {
      const ours = await runTask(controller, fixedRate(nginx.url, qps, durationS));
      const r = ours.result;
      log(`${qps} QPS x ${durationS} s: sent ${r.TotalRequests} (R×D ${qps * durationS}), DurationS ${r.DurationS}, TP99 ${r.TP99} ms, SendLagP99 ${r.SendLagP99} ms, generator-limited ${r.GeneratorLimitedShare ?? 'n/a'}, warm-up ${r.WarmupRequests ?? 'n/a'}, start-up left out of latency ${r.WarmupExcludedS ?? 0} s`);
      for (const p of ours.series) log(`  +${p.Elapsed}s req ${p.Requests} TP99 ${p.RT.TP99} lag ${p.SendLagP99} ${p.Generator ? JSON.stringify(p.Generator) : ''}`);
      const ac = await autocannon(nginx.url, 100, durationS, qps);
      log(`  autocannon -c 100 -R ${qps}: p99 ${ac.p99Ms} ms, ${ac.rps} req/s`);
    }
  } finally {
    await nginx.stop();
    await controller.stop();
  }
}

runScript('truth', main);
