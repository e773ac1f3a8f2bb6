import { Session } from 'node:inspector/promises';
import { PerformanceObserver } from 'node:perf_hooks';
import { SENDER_ENV } from '../agent/sender-choice';
import { loneSenderAgainstNginx } from './driver';
import { runScript } from './tools';

/** A node of the sampling heap profiler's tree (the inspector's `HeapProfiler.SamplingHeapProfileNode`). */
interface SampleNode {
  callFrame: { functionName: string; url: string; lineNumber: number };
  selfSize: number;
  children: SampleNode[];
}

/** Frames of the send path: the senders, undici, and Node's socket writes and reads. */
const SEND_PATH = /controller\/agent\/(sender-core|http-client|raw-http\/)|node_modules\/undici|node:net|node:internal\/stream_base_commons|node:internal\/streams\//;

interface Tally {
  /** Bytes sampled per allocation site (function, file and line). */
  sites: Map<string, number>;
  total: number;
  /** Bytes allocated with a frame of the send path on the stack. */
  sendPath: number;
}

function tally(node: SampleNode, onSendPath: boolean, into: Tally): void {
  const frame = node.callFrame;
  const site = `${frame.functionName || '(anonymous)'} ${frame.url.replace(/^.*\/(node_modules|dist-bench)\//, '$1/')}:${frame.lineNumber + 1}`;
  const inPath = onSendPath || SEND_PATH.test(frame.url);
  if (node.selfSize > 0) into.sites.set(site, (into.sites.get(site) ?? 0) + node.selfSize);
  into.total += node.selfSize;
  if (inPath) into.sendPath += node.selfSize;
  for (const child of node.children) tally(child, inPath, into);
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
 * what survived: bytes per request sent, and the sites that allocate most.
 * `sendPathBytesPerRequest` counts what was allocated with the send path on
 * the stack (the sender, undici, Node's socket writes and reads); the rest
 * is mostly the open-loop driver's turns (an Immediate and a
 * performance.now() a turn; between requests 50 µs apart an idle driver
 * turns many times, more the quieter the machine).
 */
async function main(): Promise<void> {
  const qps = Number(process.argv[2] ?? 20000);
  const seconds = Number(process.argv[3] ?? 3);
  const sender = await loneSenderAgainstNginx(qps);
  let sends = 0;
  const driver = sender.start(() => {
    sends++;
  });
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
  const gcSends0 = sends;
  await sleep(seconds * 1000);
  gc.disconnect();
  const gcSends = sends - gcSends0;

  const session = new Session();
  session.connect();
  await session.post('HeapProfiler.startSampling', { samplingInterval: 512, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });
  const sampledSends0 = sends;
  await sleep(seconds * 1000);
  const { profile } = (await session.post('HeapProfiler.stopSampling')) as unknown as { profile: { head: SampleNode } };
  const sampledSends = sends - sampledSends0;
  session.disconnect();
  driver.stop();
  const inFlightAtEnd = sender.workload.sender.inFlight;

  const counted: Tally = { sites: new Map(), total: 0, sendPath: 0 };
  tally(profile.head, false, counted);
  const top = [...counted.sites].sort((a, b) => b[1] - a[1]).slice(0, 12);
  process.stdout.write(
    `${JSON.stringify({
      sender: process.env[SENDER_ENV] ?? 'default',
      qps,
      seconds,
      sendsPerS: Math.round(gcSends / seconds),
      gcPauseMsPerS: +(gcMs / seconds).toFixed(2),
      scavengesPerS: +(scavenges / seconds).toFixed(1),
      bytesPerRequest: Math.round(counted.total / sampledSends),
      sendPathBytesPerRequest: Math.round(counted.sendPath / sampledSends),
      inFlightAtEnd,
    })}\n`,
  );
  for (const [site, size] of top) process.stdout.write(`  ${String(Math.round(size / sampledSends)).padStart(5)} B/req  ${site}\n`);
  await sender.close();
}

runScript('sender-alloc', main);
