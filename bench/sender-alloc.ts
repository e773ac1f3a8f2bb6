import { Session } from 'node:inspector/promises';
import { PerformanceObserver } from 'node:perf_hooks';
import { HttpWorkload } from '../controller/agent/http-workload';
import type { LoadContext } from '../controller/agent/load-driver';
import { OpenLoop } from '../controller/agent/open-loop';
import { SENDER_ENV } from '../controller/agent/sender-choice';
import { startNginx } from './tools';

/** A node of the sampling heap profiler's tree (the inspector's `HeapProfiler.SamplingHeapProfileNode`). */
interface SampleNode {
  callFrame: { functionName: string; url: string; lineNumber: number };
  selfSize: number;
  children: SampleNode[];
}

/** Bytes sampled per allocation site (function, file and line), over the whole tree. */
function sitesOf(node: SampleNode, into: Map<string, number>): number {
  const frame = node.callFrame;
  const site = `${frame.functionName || '(anonymous)'} ${frame.url.replace(/^.*\/(node_modules|dist-bench)\//, '$1/')}:${frame.lineNumber + 1}`;
  if (node.selfSize > 0) into.set(site, (into.get(site) ?? 0) + node.selfSize);
  let total = node.selfSize;
  for (const child of node.children) total += sitesOf(child, into);
  return total;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * `node dist-bench/bench/sender-alloc.js [QPS] [SECONDS]`: the open-loop
 * driver and the HTTP sender the agent would choose (EAS_AGENT_HTTP_SENDER
 * picks one) alone in this process against nginx, GET with no body, after a
 * 1 s warm-up. Two windows of SECONDS each: the first counts GC pauses
 * (perf_hooks `gc` entries: ms per second, scavenges per second), the second
 * runs V8's sampling heap profiler with the objects that minor and major GCs
 * collected included, so the bytes it reports are what was allocated, not
 * what survived: bytes per request, and the sites that allocate most. The
 * driver's turns (open-loop.ts and Node's timers: an Immediate a turn, and
 * an idle sender turns many times between requests at 20 000 QPS) are
 * counted apart from the rest (sending, reading, recording a request).
 */
async function main(): Promise<void> {
  const qps = Number(process.argv[2] ?? 20000);
  const seconds = Number(process.argv[3] ?? 3);
  const nginx = await startNginx();
  let sends = 0;
  let responses = 0;
  const workload = new HttpWorkload({ url: nginx.url, method: 'GET', headers: [], bodies: [], timeoutMs: 5000 }, 0, {
    sent: () => {
      sends++;
    },
    response: () => {
      responses++;
    },
  });
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
    sendLag: () => undefined,
  };
  const driver = new OpenLoop(context, load);
  driver.start();
  await sleep(1000);

  let gcMs = 0;
  let scavenges = 0;
  const gc = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      gcMs += entry.duration;
      if ((entry as unknown as { detail?: { kind?: number } }).detail?.kind === 1) scavenges++; // NODE_PERFORMANCE_GC_MINOR
    }
  });
  gc.observe({ entryTypes: ['gc'] });
  const gcResponses0 = responses;
  await sleep(seconds * 1000);
  gc.disconnect();
  const gcResponses = responses - gcResponses0;

  const session = new Session();
  session.connect();
  await session.post('HeapProfiler.startSampling', { samplingInterval: 512, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });
  const sampledResponses0 = responses;
  await sleep(seconds * 1000);
  const { profile } = (await session.post('HeapProfiler.stopSampling')) as unknown as { profile: { head: SampleNode } };
  const sampledResponses = responses - sampledResponses0;
  session.disconnect();
  driver.stop();

  const sites = new Map<string, number>();
  const bytes = sitesOf(profile.head, sites);
  const top = [...sites].sort((a, b) => b[1] - a[1]).slice(0, 12);
  // the open-loop driver's own turns (its Immediates and timers), apart from what sending and reading a request costs
  let driverBytes = 0;
  for (const [site, size] of sites) if (/open-loop\.js|node:internal\/timers/.test(site)) driverBytes += size;
  process.stdout.write(
    `${JSON.stringify({
      sender: process.env[SENDER_ENV] ?? 'default',
      qps,
      seconds,
      responsesPerS: Math.round(gcResponses / seconds),
      gcPauseMsPerS: +(gcMs / seconds).toFixed(2),
      scavengesPerS: +(scavenges / seconds).toFixed(1),
      bytesPerRequest: Math.round(bytes / sampledResponses),
      driverTurnsBytesPerRequest: Math.round(driverBytes / sampledResponses),
      restBytesPerRequest: Math.round((bytes - driverBytes) / sampledResponses),
      sent: sends,
      answered: responses,
    })}\n`,
  );
  for (const [site, size] of top) process.stdout.write(`  ${String(Math.round(size / sampledResponses)).padStart(5)} B/req  ${site}\n`);
  await workload.sender.close();
  await nginx.stop();
}

main().then(
  () => process.exit(0),
  (err: Error) => {
    process.stderr.write(`sender-alloc failed: ${err.stack ?? err.message}\n`);
    process.exit(1);
  },
);
