import * as fs from 'node:fs';
import { signedFetch } from '../__tests__/helpers/api';
import { startController, waitFor } from '../__tests__/helpers/processes';
import { startOpenAiService } from '../fixtures/openai-service';
import type { LlmRequestRecord } from '../src/contract';
import { machine, rssMb, runScript } from './tools';

/**
 * `npm run bench:llm-ceiling`: how many concurrent streams, and tokens a
 * second, one agent parses while its recorded token times stay within 1 ms
 * (p99) of when the simulator sent each token. The OpenAI fixture runs in
 * this process with a hook that logs every content chunk as it is handed to
 * its socket (one token a chunk); one agent runs a concurrency task against
 * it at each level of BENCH_LLM_STREAMS. Per token, the agent's time (send +
 * TTFT + the gaps before it) is compared with the fixture's: aligned on the
 * stream's first token (what TPOT and ITL are made of, free of any clock
 * offset between the two processes), and absolute (both clocks are
 * performance.timeOrigin + now on one machine; what TTFT's error is). The
 * agent's CPU and RSS are sampled beside. Prints docs/performance.md's table.
 */
const LEVELS = (process.env.BENCH_LLM_STREAMS ?? '16,64,200').split(',').map(Number);
const MEASURE_S = Number(process.env.BENCH_LLM_MEASURE_S ?? 10);
const TPOT_MS = Number(process.env.BENCH_LLM_TPOT_MS ?? 10);
const TTFT_MS = Number(process.env.BENCH_LLM_TTFT_MS ?? 50);
const OUTPUT_TOKENS = Number(process.env.BENCH_LLM_OUTPUT_TOKENS ?? 64);
/** How late after a send the fixture may have read the request and still be matched with it. */
const MATCH_WINDOW_MS = 1000;
/** Seconds of each level before the measured window: connections opened, the JIT warm. */
const WARM_S = 3;

const log = (line: string): void => {
  process.stdout.write(`${line}\n`);
};

/** utime + stime of a process, ms (Linux clock ticks are 10 ms). */
function cpuMs(pid: number): number {
  const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/** The processes whose parent is `ppid` (the controller's agents). */
function childrenOf(ppid: number): number[] {
  const out: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      if (Number(stat.split(') ')[1].split(' ')[1]) === ppid) out.push(Number(entry));
    } catch {
      // a process that ended while the list was read
    }
  }
  return out;
}

/** Streams per level: concurrency mode's 1..200, throughput mode's 100..1000 above. */
for (const n of LEVELS) if (!Number.isInteger(n) || n < 1 || n > 1000) throw new Error(`BENCH_LLM_STREAMS: ${n} is not a whole number of streams from 1 to 1000`);

const quantile = (sorted: readonly number[], q: number): number => (sorted.length === 0 ? Number.NaN : sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]);

/** One stream as the fixture sent it: arrival and each token's send time, Unix ms. */
interface SentStream {
  arrivedMs: number;
  tokens: number[];
}

interface Level {
  streams: number;
  tokensPerS: number;
  requestsPerS: number;
  matched: number;
  alignedP50: number;
  alignedP99: number;
  alignedMax: number;
  gatedP99: number;
  absoluteP99: number;
  ttftErrP99: number;
  agentCpuPct: number;
  /** Agent CPU time per 1000 tokens parsed, ms: what a token costs, whatever else the machine runs. */
  cpuPer1kTokensMs: number;
  agentRssMb: number;
  loopDelayMaxMs: number;
  generatorLimited: number;
  fixtureLagMs: number;
}

/** A record's token times, Unix ms on the agent's clock: send + TTFT, then each gap. */
function tokenTimes(r: LlmRequestRecord): number[] {
  const out = [r.sendMs + (r.ttftMs as number)];
  for (const gap of r.itlMs) out.push(out[out.length - 1] + gap);
  return out;
}

/** How far a record's token times are from a sent stream's, token by token (ms, summed). */
function distance(agent: readonly number[], sent: readonly number[]): number {
  let d = 0;
  for (let j = 0; j < agent.length; j++) d += Math.abs(agent[j] - sent[j]);
  return d;
}

/**
 * Each record to the fixture stream it was: among the streams that arrived
 * from 5 ms before its send to MATCH_WINDOW_MS after (not yet taken), the
 * one whose token times are nearest its own, token by token: the agent
 * reads a token after it was sent, so its own stream is the nearest, and
 * two streams sent in the same instant are told apart by their schedules'
 * own timer delays.
 */
function match(records: LlmRequestRecord[], sent: SentStream[]): [number[], SentStream][] {
  const rs = [...records].sort((a, b) => a.sendMs - b.sendMs);
  const ss = [...sent].sort((a, b) => a.arrivedMs - b.arrivedMs);
  const taken = new Set<SentStream>();
  const out: [number[], SentStream][] = [];
  let from = 0;
  for (const r of rs) {
    const agent = tokenTimes(r);
    while (from < ss.length && ss[from].arrivedMs < r.sendMs - 5) from++;
    let best: SentStream | undefined;
    let bestD = Number.POSITIVE_INFINITY;
    // a busy fixture reads a request late: its arrival can trail the send by its own loop's delay
    for (let j = from; j < ss.length && ss[j].arrivedMs <= r.sendMs + MATCH_WINDOW_MS; j++) {
      const s = ss[j];
      if (taken.has(s) || s.tokens.length !== agent.length) continue;
      const d = distance(agent, s.tokens);
      if (d < bestD) {
        bestD = d;
        best = s;
      }
    }
    if (!best) continue;
    taken.add(best);
    out.push([agent, best]);
  }
  return out;
}

async function runLevel(streams: number): Promise<Level> {
  const sent = new Map<number, SentStream>();
  let lagMaxMs = 0;
  const fixture = await startOpenAiService({
    ttftMs: TTFT_MS,
    tpotMs: TPOT_MS,
    tokensPerChunk: 1,
    onContentChunk: (c) => {
      let s = sent.get(c.n);
      if (!s) sent.set(c.n, (s = { arrivedMs: c.arrivedMs, tokens: [] }));
      s.tokens[c.firstToken] = c.sentMs;
      // how late the fixture itself sent it: its own loop's delay, which bounds the rate it can offer
      const due = c.arrivedMs + TTFT_MS + c.firstToken * TPOT_MS;
      lagMaxMs = Math.max(lagMaxMs, c.sentMs - due);
    },
  });
  const controller = await startController({ args: ['--max-agents', '1'] });
  const api = (method: string, p: string, body?: string) => signedFetch(controller.url, controller.accessId, controller.secret, method, p, body);
  try {
    const task = {
      service: { serviceName: 'llm_ceiling', url: fixture.url },
      // concurrency mode takes up to 200 streams; throughput mode's requestCount streams, 100..1000, resend as they end
      llm: { api: 'chat', model: 'bench', ...(streams <= 200 ? { testMode: 'concurrency', concurrency: streams } : { testMode: 'throughput', requestCount: streams }), continuous: true, duration: 60, dataset: { type: 'synthetic', inputTokens: [16, 16], outputTokens: [OUTPUT_TOKENS, OUTPUT_TOKENS] } },
    };
    const created = await api('POST', '/api/v2/benchmark-tasks', JSON.stringify(task));
    if (created.status !== 200) throw new Error(`create failed: ${JSON.stringify(created.json)}`);
    const path = `/api/v2/benchmark-tasks/cn-local/${created.json.TaskName as string}`;
    await waitFor('Running', async () => (await api('GET', path)).json.Status === 'Running', 60000);
    await new Promise((r) => setTimeout(r, WARM_S * 1000));
    const agents = childrenOf(controller.proc.pid ?? 0);
    if (agents.length !== 1) throw new Error(`expected one agent process, found ${agents.length}`);
    const agent = agents[0];
    const fromMs = performance.timeOrigin + performance.now();
    const cpu0 = cpuMs(agent);
    let rss = 0;
    for (let i = 0; i < MEASURE_S; i++) {
      await new Promise((r) => setTimeout(r, 1000));
      rss = Math.max(rss, rssMb(agent));
    }
    const toMs = performance.timeOrigin + performance.now();
    const cpu = cpuMs(agent) - cpu0;
    await api('PUT', `${path}/stop`);
    await waitFor('Stopped', async () => (await api('GET', path)).json.Status === 'Stopped', 60000, 500);
    const detail = (await api('GET', `${path}/stats`)).json as { Series?: { Time: number; Generator?: { LoopDelayMaxMs: number; Limited: boolean } }[] };
    const window = (detail.Series ?? []).filter((p) => p.Time * 1000 >= fromMs && (p.Time + 1) * 1000 <= toMs);
    const records = ((await api('GET', `${path}/records?format=json`)).json.Records as LlmRequestRecord[]).filter((r) => r.success && r.sendMs >= fromMs && r.endMs <= toMs);
    const limited = new Set(window.filter((p) => p.Generator?.Limited).map((p) => p.Time));
    const aligned: number[] = [];
    /** The same, of the tokens the agent read in seconds the generator gate passed. */
    const gated: number[] = [];
    const absolute: number[] = [];
    const ttftErr: number[] = [];
    let tokens = 0;
    // one token a chunk: a record with fewer gaps was cut or merged chunks, and is not compared
    const whole = records.filter((r) => r.ttftMs !== null && r.itlMs.length === OUTPUT_TOKENS - 1);
    for (const [agentTimes, s] of match(whole, [...sent.values()])) {
      ttftErr.push(Math.abs(agentTimes[0] - s.tokens[0]));
      for (let j = 0; j < OUTPUT_TOKENS; j++) {
        const error = Math.abs(agentTimes[j] - agentTimes[0] - (s.tokens[j] - s.tokens[0]));
        aligned.push(error);
        if (!limited.has(Math.floor(agentTimes[j] / 1000))) gated.push(error);
        absolute.push(Math.abs(agentTimes[j] - s.tokens[j]));
      }
      tokens += OUTPUT_TOKENS;
    }
    aligned.sort((a, b) => a - b);
    gated.sort((a, b) => a - b);
    absolute.sort((a, b) => a - b);
    ttftErr.sort((a, b) => a - b);
    const spanS = (toMs - fromMs) / 1000;
    const ended = records.length;
    return {
      streams,
      tokensPerS: (ended * OUTPUT_TOKENS) / spanS,
      requestsPerS: ended / spanS,
      matched: tokens,
      alignedP50: quantile(aligned, 0.5),
      alignedP99: quantile(aligned, 0.99),
      alignedMax: aligned[aligned.length - 1] ?? Number.NaN,
      gatedP99: quantile(gated, 0.99),
      absoluteP99: quantile(absolute, 0.99),
      ttftErrP99: quantile(ttftErr, 0.99),
      agentCpuPct: (cpu / (spanS * 1000)) * 100,
      cpuPer1kTokensMs: ended > 0 ? cpu / ((ended * OUTPUT_TOKENS) / 1000) : Number.NaN,
      agentRssMb: rss,
      loopDelayMaxMs: Math.max(0, ...window.map((p) => p.Generator?.LoopDelayMaxMs ?? 0)),
      generatorLimited: window.filter((p) => p.Generator?.Limited).length,
      fixtureLagMs: lagMaxMs,
    };
  } finally {
    await controller.stop();
    await fixture.close();
    fs.rmSync(controller.dataDir, { recursive: true, force: true });
  }
}

const loadAverage = (): string => fs.readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');

const f = (v: number, digits = 2): string => (Number.isFinite(v) ? v.toFixed(digits) : '-');

async function main(): Promise<void> {
  log(`LLM ceiling of one agent: ${LEVELS.join(', ')} streams, TTFT ${TTFT_MS} ms, TPOT ${TPOT_MS} ms, ${OUTPUT_TOKENS} tokens a request (one a chunk), ${MEASURE_S} s measured after ${WARM_S} s; ${machine()}; load average ${loadAverage()}`);
  const levels: Level[] = [];
  for (const streams of LEVELS) {
    const level = await runLevel(streams);
    levels.push(level);
    log(`${streams} streams: ${f(level.tokensPerS, 0)} tokens/s, token error p99 ${f(level.alignedP99, 3)} ms (aligned), ${f(level.absoluteP99, 3)} ms (absolute), agent CPU ${f(level.agentCpuPct, 0)}%, RSS ${f(level.agentRssMb, 0)} MB`);
  }
  log('');
  log('| streams | tokens/s | req/s | tokens compared | token error p50 | p99 | max | p99, seconds the gate passed | absolute p99 | TTFT error p99 | agent CPU | CPU per 1k tokens | agent RSS | loop delay max | generator-limited s | fixture late (max) | p99 < 1 ms |');
  log('|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|');
  for (const l of levels) {
    log(`| ${l.streams} | ${f(l.tokensPerS, 0)} | ${f(l.requestsPerS, 1)} | ${l.matched} | ${f(l.alignedP50, 3)} ms | ${f(l.alignedP99, 3)} ms | ${f(l.alignedMax, 2)} ms | ${f(l.gatedP99, 3)} ms | ${f(l.absoluteP99, 3)} ms | ${f(l.ttftErrP99, 3)} ms | ${f(l.agentCpuPct, 0)}% | ${f(l.cpuPer1kTokensMs, 1)} ms | ${f(l.agentRssMb, 0)} MB | ${f(l.loopDelayMaxMs, 1)} ms | ${l.generatorLimited} | ${f(l.fixtureLagMs, 1)} ms | ${l.alignedP99 < 1 ? 'yes' : 'no'} |`);
  }
  log(`load average at the end: ${loadAverage()} (other processes on the machine take the CPU the agent and the fixture wait for)`);
  const within = levels.filter((l) => l.alignedP99 < 1);
  const top = within[within.length - 1];
  log('');
  log(top ? `ceiling: ${top.streams} streams, ${f(top.tokensPerS, 0)} tokens/s with token error p99 ${f(top.alignedP99, 3)} ms (the highest level tried that stays under 1 ms)` : 'ceiling: below the lowest level tried');
}

runScript('llm-ceiling', main);
