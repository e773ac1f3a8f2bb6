import * as fs from 'node:fs';
import * as path from 'node:path';
import { Controller, createController } from '../controller/app';
import { AgentLauncher } from '../controller/fleet/launcher';
import { signedFetch } from '../__tests__/helpers/api';
import { tempDir } from '../__tests__/helpers/processes';

/**
 * `npm run bench:key-holder`: what an API key holder can make the controller
 * hold (docs/reliability.md, security table), with the controller in this
 * process (run with --expose-gc):
 *
 * - BENCH_FAILED_TASKS (8) tasks with a 64 MB data.content that end
 *   CreateFailed (their agents never connect): memory after a full GC.
 * - BENCH_RECOMPUTES (4) recomputes at once on a BENCH_RECORDS_MB (28) MB
 *   records file, /healthz asked every 50 ms meanwhile: their answers, the
 *   peak RSS and the slowest /healthz.
 */
const FAILED_TASKS = Number(process.env.BENCH_FAILED_TASKS ?? 8);
const RECOMPUTES = Number(process.env.BENCH_RECOMPUTES ?? 4);
const RECORDS_MB = Number(process.env.BENCH_RECORDS_MB ?? 28);

/** Agents that never connect: every round fails after it was prepared (the tests' idle launcher, without jest). */
const idleLauncher: AgentLauncher = {
  capacity: Number.POSITIVE_INFINITY,
  launch: (spec) => ({ agentId: spec.agentId, kill: () => undefined }),
  shutdown: () => Promise.resolve(),
};

const mb = (bytes: number): string => `${(bytes / 1048576).toFixed(0)} MB`;

function collect(): NodeJS.MemoryUsage {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('run with node --expose-gc');
  gc();
  gc();
  return process.memoryUsage();
}

/** Creates task `i` with 64 MB of its own content; only its name is kept here, so what stays is what the controller keeps. */
async function createFailing(c: Controller, i: number): Promise<string> {
  const content = Buffer.alloc(48 * 1024 * 1024, i + 1).toString('base64');
  const record = await c.manager.create({ service: { serviceName: 'demo', url: 'http://127.0.0.1:1/x' }, data: { content }, optional: { mode: 'manual', agentCount: 1, concurrency: 1, duration: 60 } });
  return record.taskName;
}

async function failedTasks(): Promise<void> {
  const dataDir = tempDir('bench-failed');
  const c = await createController({ port: 0, dataDir, agentConnectTimeoutS: 1, maxCreatesPerMinute: FAILED_TASKS }, { launcher: idleLauncher, log: () => undefined });
  try {
    const before = collect();
    for (let i = 0; i < FAILED_TASKS; i++) {
      const name = await createFailing(c, i);
      while (c.manager.entry(name).record.status !== 'CreateFailed') await new Promise((r) => setTimeout(r, 100));
    }
    const after = collect();
    process.stdout.write(`${FAILED_TASKS} tasks with 64 MB of data.content, all CreateFailed: RSS ${mb(before.rss)} -> ${mb(after.rss)}, heap ${mb(before.heapUsed)} -> ${mb(after.heapUsed)}, external ${mb(before.external)} -> ${mb(after.external)}\n`);
  } finally {
    await c.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

async function recomputes(): Promise<void> {
  const dataDir = tempDir('bench-recompute');
  const c = await createController({ port: 0, dataDir }, { launcher: idleLauncher, log: () => undefined });
  const [[id, secret]] = [...c.credentials.keys.entries()];
  try {
    const record = await c.manager.create({ service: { serviceName: 'demo', url: 'http://127.0.0.1:1/x' }, llm: { model: 'm', api: 'chat', testMode: 'concurrency', concurrency: 2, duration: 60 } });
    const file = fs.openSync(path.join(dataDir, 'tasks', record.taskName, 'round-10001.llm.ndjson'), 'w');
    let n = 0;
    let size = 0;
    const t0 = Date.now();
    while (size < RECORDS_MB * 1048576) {
      const itlMs = Array.from({ length: 40 }, (_, j) => 10 + ((n * 7 + j) % 13));
      const line = `${JSON.stringify({ agent: n % 4, seq: n, sendMs: t0 + n * 5, endMs: t0 + n * 5 + 900 + (n % 50), ttftMs: 100 + (n % 30), e2elMs: 900, itlMs, inputTokens: 100, outputTokens: 41, tokenSource: 'usage', success: true, status: 200 })}\n`;
      fs.writeSync(file, line);
      size += line.length;
      n++;
    }
    fs.closeSync(file);
    const base = collect().rss;
    let peak = base;
    let slowest = 0;
    let done = false;
    const sampler = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage().rss);
    }, 20);
    const pinger = (async () => {
      while (!done) {
        const start = performance.now();
        await (await fetch(`${c.url}/healthz`)).text();
        slowest = Math.max(slowest, performance.now() - start);
        await new Promise((r) => setTimeout(r, 50));
      }
    })();
    const start = performance.now();
    const answers = await Promise.all(Array.from({ length: RECOMPUTES }, () => signedFetch(c.url, id, secret, 'GET', `/api/v2/benchmark-tasks/cn-local/${record.taskName}/recompute`)));
    const tookMs = performance.now() - start;
    done = true;
    await pinger;
    clearInterval(sampler);
    const codes = answers.map((a) => (a.status === 200 ? `200 (${String(a.json.Records)} records)` : `${a.status} ${String(a.json.Code)}`));
    process.stdout.write(`${RECOMPUTES} recomputes at once on a ${RECORDS_MB} MB records file (${n} records): ${codes.join(', ')}; all answered in ${tookMs.toFixed(0)} ms; RSS ${mb(base)} -> peak ${mb(peak)}; slowest /healthz ${slowest.toFixed(0)} ms\n`);
  } finally {
    await c.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  await failedTasks();
  await recomputes();
}

main().catch((err: Error) => {
  process.stderr.write(`${err.stack ?? err.message}\n`);
  process.exit(1);
});
