import * as fs from 'node:fs';
import { openStatsStream, signedFetch } from '../__tests__/helpers/api';
import { startController, startOpenAiFixture, waitFor } from '../__tests__/helpers/processes';
import { machine, rssMb, runScript } from './tools';

/**
 * `npm run bench:llm-memory`: one LLM task against the OpenAI fixture with
 * zero delays until BENCH_LLM_REQUESTS requests (default 1,000,000) have
 * completed, sampling each second the controller's RSS and CPU time, the
 * time GET task takes (the same detail view the stats stream sends every
 * second, LLM tables included) and the size of the stream's frames. Prints
 * the figures as the markdown of docs/performance.md's LLM section.
 */
const TARGET = Number(process.env.BENCH_LLM_REQUESTS ?? 1_000_000);
const CONCURRENCY = Number(process.env.BENCH_LLM_CONCURRENCY ?? 32);
const AGENTS = Number(process.env.BENCH_LLM_AGENTS ?? 1);
/** Output tokens per request: 10 (the synthetic dataset's least) by default; fewer uses one custom body with that max_tokens, which lets a busy machine go faster. */
const OUTPUT_TOKENS = Number(process.env.BENCH_LLM_OUTPUT_TOKENS ?? 10);
/** The task's own limit (llm.duration's maximum); the run is stopped once TARGET requests have completed. */
const DURATION_S = 1200;

interface Sample {
  s: number;
  requests: number;
  rssMb: number;
  cpuMs: number;
  getMs: number;
  frameBytes: number;
}

const log = (line: string): void => {
  process.stdout.write(`${line}\n`);
};

/** utime + stime of a process, ms (Linux clock ticks are 10 ms). */
function cpuMs(pid: number): number {
  const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/** Least-squares slope of y over x. */
function slope(points: [number, number][]): number {
  const n = points.length;
  if (n < 2) return 0;
  const mx = points.reduce((s, [x]) => s + x, 0) / n;
  const my = points.reduce((s, [, y]) => s + y, 0) / n;
  let num = 0;
  let den = 0;
  for (const [x, y] of points) {
    num += (x - mx) * (y - my);
    den += (x - mx) ** 2;
  }
  return den === 0 ? 0 : num / den;
}

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length === 0 ? 0 : sorted[Math.floor(sorted.length / 2)];
};

async function main(): Promise<void> {
  const fixture = await startOpenAiFixture(['--ttft-ms', '0', '--tpot-ms', '0']);
  const controller = await startController();
  const pid = controller.proc.pid ?? 0;
  const api = (method: string, p: string, body?: string) => signedFetch(controller.url, controller.accessId, controller.secret, method, p, body);
  const samples: Sample[] = [];
  try {
    const body = { messages: [{ role: 'user', content: 'one two three four five six seven eight nine ten' }], max_tokens: OUTPUT_TOKENS };
    const dataset = OUTPUT_TOKENS >= 10 ? { dataset: { type: 'synthetic', inputTokens: [10, 10], outputTokens: [OUTPUT_TOKENS, OUTPUT_TOKENS] } } : { dataset: { type: 'custom' } };
    const task = {
      service: { serviceName: 'llm_bench', url: fixture.url },
      ...(OUTPUT_TOKENS >= 10 ? {} : { data: { content: Buffer.from(JSON.stringify(body)).toString('base64') } }),
      optional: { agentCount: AGENTS },
      llm: { api: 'chat', model: 'bench', testMode: 'concurrency', concurrency: CONCURRENCY, continuous: true, duration: DURATION_S, ...dataset },
    };
    const created = await api('POST', '/api/v2/benchmark-tasks', JSON.stringify(task));
    if (created.status !== 200) throw new Error(`create failed: ${JSON.stringify(created.json)}`);
    const name = created.json.TaskName as string;
    const path = `/api/v2/benchmark-tasks/cn-local/${name}`;
    await waitFor('Running', async () => (await api('GET', path)).json.Status === 'Running', 60000);
    const stream = openStatsStream(controller.url, controller.accessId, controller.secret, name);
    let lastFrameBytes = 0;
    stream.on('message', (data: Buffer) => {
      lastFrameBytes = data.length;
    });
    const started = Date.now();
    const cpu0 = cpuMs(pid);
    log(`LLM memory benchmark: ${TARGET} requests, ${AGENTS} agent(s) x concurrency ${CONCURRENCY}, fixture with zero delays, ${OUTPUT_TOKENS} output tokens each; ${machine()}`);
    for (;;) {
      await new Promise((resolve) => setTimeout(resolve, 1000));
      const t0 = performance.now();
      // a GET that fails (the controller paused, e.g. for a heap snapshot) skips this sample
      const answer = await api('GET', path).catch(() => undefined);
      if (!answer) continue;
      const detail = answer.json as { Status: string; LLM?: { Common: { TotalRequests: number } } };
      const getMs = performance.now() - t0;
      const requests = detail.LLM?.Common.TotalRequests ?? 0;
      const sample = { s: (Date.now() - started) / 1000, requests, rssMb: rssMb(pid), cpuMs: cpuMs(pid) - cpu0, getMs, frameBytes: lastFrameBytes };
      samples.push(sample);
      if (samples.length % 30 === 0) log(`${sample.s.toFixed(0)} s: ${requests} requests, controller RSS ${sample.rssMb.toFixed(1)} MB, GET task ${getMs.toFixed(1)} ms, stream frame ${lastFrameBytes} bytes`);
      if (requests >= TARGET || detail.Status !== 'Running') break;
    }
    await api('PUT', `${path}/stop`);
    await waitFor('Stopped', async () => (await api('GET', path)).json.Status === 'Stopped', 60000, 500);
    stream.close();
    const final = (await api('GET', path)).json as { LLM: { Common: { TotalRequests: number; RequestThroughput: number }; Total: { TTFT: { N: number } } } };
    report(samples, final.LLM.Common.TotalRequests, final.LLM.Common.RequestThroughput);
  } finally {
    await controller.stop();
    await fixture.stop();
    fs.rmSync(controller.dataDir, { recursive: true, force: true });
  }
}

function report(samples: Sample[], total: number, rate: number): void {
  const at = (share: number): Sample => samples[Math.min(samples.length - 1, Math.floor(share * samples.length))];
  const second = samples.slice(Math.floor(samples.length / 2));
  // RSS growth per 100,000 requests over the second half, and per minute
  const mbPer100k = slope(second.map((x) => [x.requests / 100_000, x.rssMb]));
  const mbPerMin = slope(second.map((x) => [x.s / 60, x.rssMb]));
  const peak = Math.max(...samples.map((x) => x.rssMb));
  // controller CPU per second and per request, in windows of a tenth of the run
  const windows: string[] = [];
  for (let i = 0; i < 10; i++) {
    const a = samples[Math.floor((i * samples.length) / 10)];
    const b = samples[Math.min(samples.length - 1, Math.floor(((i + 1) * samples.length) / 10))];
    if (!a || !b || b.s <= a.s) continue;
    const cpuPerS = (b.cpuMs - a.cpuMs) / (b.s - a.s);
    const perReq = b.requests > a.requests ? ((b.cpuMs - a.cpuMs) * 1000) / (b.requests - a.requests) : 0;
    const win = samples.slice(Math.floor((i * samples.length) / 10), Math.floor(((i + 1) * samples.length) / 10));
    windows.push(`| ${i * 10}-${(i + 1) * 10}% | ${b.requests.toLocaleString('en-US')} | ${((b.requests - a.requests) / (b.s - a.s)).toFixed(0)} | ${cpuPerS.toFixed(0)} ms/s | ${perReq.toFixed(1)} µs | ${median(win.map((x) => x.getMs)).toFixed(1)} ms | ${median(win.map((x) => x.frameBytes)).toFixed(0)} B | ${median(win.map((x) => x.rssMb)).toFixed(1)} MB |`);
  }
  log('');
  log(`### ${total.toLocaleString('en-US')} LLM requests against the fixture (zero delays), ${samples.length} s, ${rate.toFixed(0)} req/s`);
  log('');
  log('| controller RSS at 10% | at 50% | at 90% | at the end | peak | slope, second half |');
  log('|---|---|---|---|---|---|');
  log(`| ${at(0.1).rssMb.toFixed(1)} MB | ${at(0.5).rssMb.toFixed(1)} MB | ${at(0.9).rssMb.toFixed(1)} MB | ${at(1).rssMb.toFixed(1)} MB | ${peak.toFixed(1)} MB | ${mbPer100k.toFixed(2)} MB per 100k requests (${mbPerMin.toFixed(2)} MB/min) |`);
  log('');
  log('| share of the run | requests by then | req/s | controller CPU | CPU per request | GET task (median) | stream frame (median) | RSS (median) |');
  log('|---|---|---|---|---|---|---|---|');
  for (const w of windows) log(w);
  log('');
  log(`verdict: RSS ${peak < 200 ? '<' : '>='} 200 MB (peak ${peak.toFixed(1)} MB), second-half slope ${mbPer100k.toFixed(2)} MB per 100k requests`);
}

runScript('llm-memory', main);
