import * as fs from 'node:fs';
import { spawn } from 'node:child_process';
import fc from 'fast-check';
import { WebSocket } from 'ws';
import { AgentStatsFrame, isScheduledLlmMetric, LLM_METRICS, PROTOCOL_VERSION, signPoolHello } from '../../src/contract';
import { hostileHistogram, LLM_RECORD } from './agent-frames';

/**
 * A pool agent holding a valid pool key that misbehaves: it joins the pool,
 * takes the seats it is offered, says hello and `ready` like an agent, and
 * then sends hostile frames (seeded, so a failure replays), and a watch on a
 * controller process (its /healthz answer times, its resident memory).
 */

/** One compressed histogram that inflates to `mb` MB, under the parser's 256K characters. */
export function bombHistogram(mb: number): string {
  return hostileHistogram({ words: Buffer.alloc(mb * 1024 * 1024) });
}

/** A frame with nine bombs: its RT and lag histograms and the seven LLM metrics' (the issue's stall, frame by frame). */
export function bombFrame(second: number, bomb: string): AgentStatsFrame {
  const metric = { h: bomb, n: 1, sum: 1, min: 1, max: 1 };
  return {
    ...zeroFrame(second),
    rtHistogram: bomb,
    lagHistogram: bomb,
    llm: {
      // consistent with its metrics, so that the parser lets it through to the decoder
      requests: 1, success: 1, usage: 0, maxInFlight: 0, busyMs: 0, maxFromMs: null, maxUntilMs: null, firstSendMs: null, lastEndMs: null,
      // the scheduled metrics (a rate schedule's queue) must add up with E2EL: left out, as an unscheduled agent sends
      metrics: Object.fromEntries(LLM_METRICS.filter((k) => !isScheduledLlmMetric(k)).map((k) => [k, metric])),
    },
  };
}

/** A frame that counts nothing: what a hostile agent may send and have taken without changing any figure. */
export function zeroFrame(second: number): AgentStatsFrame {
  return {
    second, requests: 0, sent: 0, statusCodes: {}, bytesIn: 0, bytesOut: 0, dropped: 0, inFlight: 0,
    rtHistogram: '', lagHistogram: '', totalSent: 0, eventLoopLagMs: 0,
  };
}

/** The hostile frames, by kind; each is text as sent. */
function hostileFrames(bomb: string): fc.Arbitrary<string> {
  const nowS = (): number => Math.floor(Date.now() / 1000);
  const stats = (frame: unknown): string => JSON.stringify({ type: 'stats', frame });
  const longRecords = (n: number, itl: number) => Array.from({ length: n }, (_, seq) => ({ ...LLM_RECORD, seq, itlMs: new Array<number>(itl).fill(1.25) }));
  const kinds: fc.Arbitrary<() => string>[] = [
    fc.constant(() => stats(bombFrame(nowS(), bomb))),
    // far ahead of the clock: in the old code they waited, with their records, until the round ended
    fc.constantFrom(3600, 86_400 * 365, 2 ** 53 - 11).map((ahead) => () => stats({ ...zeroFrame(Math.min(2 ** 53 - 11, nowS() + ahead)), llmRecords: longRecords(20, 20_000) })),
    // huge and inconsistent counts
    fc.constant(() => stats({ ...zeroFrame(nowS()), requests: 2 ** 53 - 1, sent: 2 ** 53 - 1, statusCodes: { '200': 2 ** 53 - 1, '500': 2 ** 53 - 1 } })),
    fc.integer({ min: 1, max: 1000 }).map((n) => () => stats({ ...zeroFrame(nowS()), requests: n, statusCodes: { '200': n + 1 } })),
    fc.integer({ min: 1, max: 1000 }).map((n) => () => stats({ ...zeroFrame(nowS()), requests: n, statusCodes: { '200': n } })),
    // records with a bad usage: left out, the rest of the frame stands (it counts nothing)
    fc.constantFrom(1.5, -1, 1e308).map((v) => () => stats({ ...zeroFrame(nowS()), llmRecords: [{ ...LLM_RECORD, inputTokens: v }, LLM_RECORD] })),
    // many records of the current second, within every limit: held until the second is final, then bounded
    fc.constant(() => stats({ ...zeroFrame(nowS()), llmRecords: longRecords(50, 10_000) })),
    // a field mutated at random
    fc.tuple(fc.constantFrom('second', 'requests', 'sent', 'statusCodes', 'rtHistogram', 'lagHistogram', 'totalSent', 'inFlight', 'eventLoopLagMs', 'generator', 'llm', 'llmRecords'), fc.jsonValue({ maxDepth: 3 }))
      .map(([key, value]) => () => stats({ ...zeroFrame(nowS()), [key]: value })),
    // logs by the thousand
    fc.constant(() => JSON.stringify({ type: 'log', level: 'error', message: 'x'.repeat(60_000) })),
    // frames of the protocol that count nothing
    fc.constantFrom(() => JSON.stringify({ type: 'ready' }), () => stats(zeroFrame(nowS()))),
  ];
  return fc.oneof(...kinds).map((make) => make());
}

/** Frames that break the protocol: each ends the seat's socket. */
const CLOSING = [
  (): string => 'not json at all',
  (): string => JSON.stringify({ type: 'log', level: 'error', message: 'y'.repeat(33 * 1024 * 1024) }),
  (): string => JSON.stringify({ type: 'dance' }),
];

export interface HostileAgent {
  /** Seats it was given, and frames it sent. */
  readonly seats: string[];
  readonly sent: number;
  stop(): void;
}

/**
 * Joins the pool at `wsUrl` as `agentId` and serves every seat it is given
 * with hostile frames, `framesPerTick` every 20 ms once the round starts;
 * from `closeAfterMs` on, each seat ends with a frame that breaks the protocol.
 */
export function hostilePoolAgent(opts: { wsUrl: string; key: { id: string; secret: string }; agentId: string; seed: number; closeAfterMs: number }): HostileAgent {
  const bomb = bombHistogram(100);
  let seed = opts.seed;
  const frames = (): string[] => fc.sample(hostileFrames(bomb), { numRuns: 4, seed: seed++ });
  const seats: string[] = [];
  let sent = 0;
  let stopped = false;
  const startedMs = Date.now();
  const link = new WebSocket(opts.wsUrl);
  link.on('error', () => undefined);
  link.on('open', () => link.send(JSON.stringify(signPoolHello(opts.key, { agentId: opts.agentId, host: 'hostile', pid: process.pid, version: PROTOCOL_VERSION }))));
  link.on('message', (data) => {
    const message = JSON.parse(data.toString()) as { type: string; agentId: string; token: string };
    if (message.type !== 'seat') return;
    seats.push(message.agentId);
    const seat = new WebSocket(opts.wsUrl);
    seat.on('error', () => undefined);
    seat.on('open', () => seat.send(JSON.stringify({ type: 'hello', agentId: message.agentId, token: message.token, pid: process.pid, host: 'hostile', version: PROTOCOL_VERSION })));
    let timer: NodeJS.Timeout | undefined;
    seat.on('message', (raw) => {
      const m = JSON.parse(raw.toString()) as { type: string; assignment?: { waitForStart?: boolean } };
      if (m.type === 'assign') seat.send(JSON.stringify({ type: 'ready' }));
      if ((m.type === 'start' || (m.type === 'assign' && m.assignment?.waitForStart === false)) && !timer) {
        timer = setInterval(() => {
          if (stopped || seat.readyState !== WebSocket.OPEN) return;
          if (Date.now() - startedMs > opts.closeAfterMs) {
            seat.send(CLOSING[seats.length % CLOSING.length]());
            clearInterval(timer);
            return;
          }
          for (const text of frames()) {
            seat.send(text);
            sent++;
          }
        }, 20);
      }
    });
    seat.on('close', () => {
      clearInterval(timer);
      if (link.readyState === WebSocket.OPEN) link.send(JSON.stringify({ type: 'seat-ended', agentId: message.agentId }));
    });
  });
  return {
    seats,
    get sent() {
      return sent;
    },
    stop: () => {
      stopped = true;
      link.terminate();
    },
  };
}

/** The controller process watched: every /healthz answer's time, and its resident memory, sampled every 100 ms. */
export interface ProcessWatch {
  /** Slowest /healthz answer so far, ms (a check that got no answer within 5 s counts as 5000). */
  readonly maxHealthMs: number;
  readonly healthChecks: number;
  readonly maxRssMb: number;
  stop(): Promise<void>;
}

/** Resident memory of a process, MB (Linux). */
export function rssMb(pid: number): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
}

// runs in its own process, so that what the test itself does (building hostile frames) never delays a check
const WATCHER = `
const http = require('node:http');
const fs = require('node:fs');
const [url, pid] = process.argv.slice(1);
const rss = () => Number(/VmRSS:\\s+(\\d+)/.exec(fs.readFileSync('/proc/' + pid + '/status', 'utf8'))[1]) / 1024;
function check() {
  const started = performance.now();
  const done = (ok) => {
    let mb = 0;
    try { mb = rss(); } catch {}
    process.stdout.write(JSON.stringify({ ms: ok ? performance.now() - started : 5000, mb }) + '\\n');
    setTimeout(check, 100);
  };
  const req = http.get(url + '/healthz', { timeout: 5000 }, (res) => { res.resume(); res.on('end', () => done(res.statusCode === 200)); });
  req.on('timeout', () => req.destroy());
  req.on('error', () => done(false));
}
check();
`;

export function watchProcess(url: string, pid: number): ProcessWatch {
  let maxHealthMs = 0;
  let healthChecks = 0;
  let maxRssMb = rssMb(pid);
  const child = spawn(process.execPath, ['-e', WATCHER, url, String(pid)], { stdio: ['ignore', 'pipe', 'inherit'] });
  let pending = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk: string) => {
    pending += chunk;
    const lines = pending.split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) {
      const sample = JSON.parse(line) as { ms: number; mb: number };
      healthChecks++;
      maxHealthMs = Math.max(maxHealthMs, sample.ms);
      maxRssMb = Math.max(maxRssMb, sample.mb);
    }
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    get maxHealthMs() {
      return maxHealthMs;
    },
    get healthChecks() {
      return healthChecks;
    },
    get maxRssMb() {
      return maxRssMb;
    },
    stop: async () => {
      child.kill('SIGKILL');
      await exited;
    },
  };
}
