import { startController } from '../__tests__/helpers/processes';
import { SENDER_ENV } from '../agent/sender-choice';
import { CONCURRENCY, log, manual, runTask } from './tasks';
import { autocannon, ensureDebianPackages, machine, startNginx, wrk } from './tools';

/**
 * `npm run bench:senders`: the agent's two HTTP senders (undici and raw) in
 * the same run, one agent at concurrency 50 against nginx, alternated so that
 * drift on a shared machine hits both, beside autocannon and wrk -t1.
 */
const DURATION_S = Number(process.env.BENCH_DURATION_S ?? 5);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);

const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const n0 = (v: number): string => Math.round(v).toLocaleString('en-US');

async function main(): Promise<void> {
  ensureDebianPackages({ nginx: 'nginx-light', wrk: 'wrk' });
  const nginx = await startNginx();
  const controllers = {
    undici: await startController({ args: ['--max-agents', '1'], env: { ...process.env, [SENDER_ENV]: 'undici' } }),
    raw: await startController({ args: ['--max-agents', '1'], env: { ...process.env, [SENDER_ENV]: 'raw' } }),
  };
  const rps: Record<'undici' | 'raw' | 'autocannon' | 'wrk', number[]> = { undici: [], raw: [], autocannon: [], wrk: [] };
  try {
    await autocannon(nginx.url, CONCURRENCY, 2); // nobody meets a cold target first
    for (let round = 0; round < ROUNDS; round++) {
      for (const kind of round % 2 === 0 ? (['undici', 'raw'] as const) : (['raw', 'undici'] as const)) {
        const result = await runTask(controllers[kind], manual(nginx.url, DURATION_S));
        rps[kind].push(result.result.TotalRequests / DURATION_S);
        const others = Object.entries(result.result.StatusCodes).filter(([code]) => code !== '200');
        if (others.length > 0) log(`${kind}: statuses other than 200: ${JSON.stringify(Object.fromEntries(others))}`);
      }
      rps.autocannon.push((await autocannon(nginx.url, CONCURRENCY, DURATION_S)).rps);
      rps.wrk.push((await wrk(nginx.url, CONCURRENCY, DURATION_S)).rps);
      log(`round ${round + 1}: undici ${n0(rps.undici[round])}, raw ${n0(rps.raw[round])}, autocannon ${n0(rps.autocannon[round])}, wrk ${n0(rps.wrk[round])}`);
    }
    const m = { undici: median(rps.undici), raw: median(rps.raw), autocannon: median(rps.autocannon), wrk: median(rps.wrk) };
    log(`Machine: ${machine()}; ${ROUNDS} rounds of ${DURATION_S} s, medians (requests/s):`);
    log(`| sender | requests/s | / undici | / autocannon | / wrk -t1 |`);
    log(`|---|---|---|---|---|`);
    for (const kind of ['undici', 'raw'] as const) {
      log(`| ${kind} | ${n0(m[kind])} | ${(m[kind] / m.undici).toFixed(2)}x | ${(m[kind] / m.autocannon).toFixed(2)}x | ${(m[kind] / m.wrk).toFixed(2)}x |`);
    }
    log(`| autocannon | ${n0(m.autocannon)} | | | |`);
    log(`| wrk -t1 | ${n0(m.wrk)} | | | |`);
  } finally {
    await Promise.all([controllers.undici.stop(), controllers.raw.stop()]);
    await nginx.stop();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
