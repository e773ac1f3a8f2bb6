import { startController } from '../__tests__/helpers/processes';
import { writeTruthChart } from './truth-chart';
import { autocannon, runScript, startNginx } from './tools';
import { fixedRate, log, runTask } from './tasks';

/** `[durationS] [qps...] [--svg FILE]`: the positional arguments, and where to write the last rate's chart. */
function parseArgs(argv: string[]): { durationS: number; rates: number[]; svgFile?: string } {
  const positional: string[] = [];
  let svgFile: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--svg') {
      svgFile = argv[++i];
      if (!svgFile) throw new Error('--svg needs a file name');
    } else {
      positional.push(argv[i]);
    }
  }
  const [durationArg, ...rateArgs] = positional;
  const durationS = Number(durationArg ?? 5);
  const rates = rateArgs.length > 0 ? rateArgs.map(Number) : [5000, 20000];
  for (const v of [durationS, ...rates]) if (!(v > 0)) throw new Error(`not a positive number: ${v} (usage: truth.js [durationS] [qps...] [--svg FILE])`);
  return { durationS, rates, svgFile };
}

/**
 * `node dist-bench/bench/truth.js [durationS] [qps...] [--svg FILE]`: open-loop
 * rates against nginx, with the per-second generator figures, beside
 * autocannon -R; `--svg` draws the last rate's seconds (bench/truth-chart.ts).
 * bench/run.ts runs the same measurement as one of its sections.
 */
async function main(): Promise<void> {
  const { durationS, rates, svgFile } = parseArgs(process.argv.slice(2));
  const controller = await startController({ args: ['--max-agents', '4'] });
  const nginx = await startNginx();
  try {
    await autocannon(nginx.url, 50, 2);
    for (const [i, qps] of rates.entries()) {
      const ours = await runTask(controller, fixedRate(nginx.url, qps, durationS));
      const r = ours.result;
      log(`${qps} QPS x ${durationS} s: sent ${r.TotalRequests} (R×D ${qps * durationS}), DurationS ${r.DurationS}, TP99 ${r.TP99} ms, SendLagP99 ${r.SendLagP99} ms, generator-limited ${r.GeneratorLimitedShare ?? 'n/a'}, warm-up ${r.WarmupRequests ?? 'n/a'}, start-up left out of latency ${r.WarmupExcludedS ?? 0} s`);
      for (const p of ours.series) log(`  +${p.Elapsed}s req ${p.Requests} TP99 ${p.RT.TP99} lag ${p.SendLagP99} ${p.Generator ? JSON.stringify(p.Generator) : ''}`);
      const ac = await autocannon(nginx.url, 100, durationS, qps);
      log(`  autocannon -c 100 -R ${qps}: p99 ${ac.p99Ms} ms, ${ac.rps} req/s`);
      if (svgFile && i === rates.length - 1) {
        const bytes = writeTruthChart(svgFile, { qps, durationS, series: ours.series, result: r, autocannonP99Ms: ac.p99Ms });
        log(`  chart of ${qps} QPS written to ${svgFile} (${(bytes / 1024).toFixed(1)} KB)`);
      }
    }
  } finally {
    await nginx.stop();
    await controller.stop();
  }
}

runScript('truth', main);
