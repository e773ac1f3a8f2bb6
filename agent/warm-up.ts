import type { RequestTemplate } from '../src/contract';
import { CAUSE } from './error-cause';
import { LocalServer, startLocalServer } from './local-server';
import { createSender, SenderChoice } from './sender-choice';
import { StatsRecorder } from './stats-recorder';

/** Requests sent to the agent's own throwaway server before `ready`, and how many at once. */
const WARM_REQUESTS = 500;
const WARM_CONCURRENCY = 8;
/** The warm-up never delays `ready` by more than this. */
const WARM_MAX_MS = 1000;
/**
 * Frames built before `ready`, each from this many made-up latencies spread
 * over the histogram's range: the frame's histogram compression runs cold
 * for its first three or four frames (3-6 ms each, then under 0.5 ms), and
 * a round's first whole seconds are where that would land.
 */
const WARM_FRAMES = 5;
const WARM_FRAME_SAMPLES = 2000;
/** Made-up LLM records each warm LLM frame carries: about a busy second of 32 streams. */
const WARM_LLM_RECORDS = 150;
/** A throwaway recorder's gauges: nothing in flight, nothing sent. */
const NO_GAUGES = { inFlight: () => 0, totalSent: () => 0, takeConnectionWaitMaxMs: () => 0 };
/** Bodies over this are not sent in the warm-up (the path is the same; only the copy is bigger). */
const WARM_MAX_BODY_BYTES = 64 * 1024;

/**
 * Warms the send path before the schedule starts: the first requests of a
 * fresh process run cold code (the HTTP parser is compiled on first use,
 * functions are interpreted until the JIT has seen them), which at a high
 * rate makes the round's first second the agent's, not the service's. The
 * same sender and recorder code is run against a server inside the agent,
 * on 127.0.0.1, so the service under test sees none of it. Never rejects.
 */
export async function warmSendPath(template: RequestTemplate, choice: SenderChoice): Promise<void> {
  let server: LocalServer | null = null;
  try {
    server = await startLocalServer('{"ok":true}', 'application/json');
    const url = new URL(template.url);
    const local: RequestTemplate = {
      ...template,
      url: `${server.origin}${url.pathname}${url.search}`,
      bodies: template.bodies.filter((b) => b.length * 0.75 <= WARM_MAX_BODY_BYTES).slice(0, 1),
      timeoutMs: WARM_MAX_MS,
    };
    // the frames of the warm-up are built (then dropped): their encoding is part of the path
    const recorder = new StatsRecorder(NO_GAUGES, (frame) => JSON.stringify(frame));
    recorder.start();
    // the sender the load will use: it is the path to warm
    const sender = createSender(choice, local, 0, recorder);
    sender.setMaxIdleConnections(WARM_CONCURRENCY);
    const deadline = performance.now() + WARM_MAX_MS;
    let left = WARM_REQUESTS;
    await new Promise<void>((resolve) => {
      let running = 0;
      const next = (): void => {
        if (left <= 0 || performance.now() > deadline) {
          if (running === 0) resolve();
          return;
        }
        left--;
        running++;
        const now = performance.now();
        sender.send(now, now, () => {
          running--;
          next();
        });
      };
      for (let i = 0; i < WARM_CONCURRENCY; i++) next();
    });
    recorder.flush();
    warmFrames(recorder);
    await sender.close();
  } catch {
    // a warm-up that cannot run leaves the path cold, nothing worse
  } finally {
    await server?.close();
  }
}

/** Builds WARM_FRAMES frames from made-up figures (latencies from 50 µs to about 3 s, log-spread). */
function warmFrames(recorder: StatsRecorder): void {
  for (let frame = 0; frame < WARM_FRAMES; frame++) {
    recorder.start();
    const nowMs = performance.now();
    for (let i = 0; i < WARM_FRAME_SAMPLES; i++) {
      recorder.sent(nowMs, 100);
      recorder.response(nowMs, 200, 50 * Math.exp((i / WARM_FRAME_SAMPLES) * 11), 100, CAUSE.none);
    }
    recorder.flush();
  }
}

/**
 * An LLM agent's frames, before `ready`: their records and per-second LLM
 * histograms encode cold the first times (a frame of 150 records took
 * 5.7 ms cold, then 1.2 to 2 ms), which would land on the token times of the
 * round's first second. Built on a throwaway recorder from made-up records,
 * then dropped.
 */
export function warmLlmFrames(): void {
  const recorder = new StatsRecorder(NO_GAUGES, (frame) => JSON.stringify(frame));
  recorder.enableLlmRecords();
  const wallMs = performance.timeOrigin + performance.now();
  for (let frame = 0; frame < WARM_FRAMES; frame++) {
    recorder.start();
    for (let i = 0; i < WARM_LLM_RECORDS; i++) {
      const nowMs = performance.now();
      recorder.llmSent(nowMs);
      recorder.response(nowMs, 200, 500_000 + i * 1000, 4000, CAUSE.none);
      const itlMs = Array.from({ length: 63 }, (_, k) => 5 + ((i + k) % 11) / 4);
      recorder.llmRecord(nowMs, { agent: 0, seq: i, sendMs: wallMs, endMs: wallMs + 500, ttftMs: 40 + (i % 9), e2elMs: 500 + (i % 13), itlMs, inputTokens: 20, outputTokens: 64, tokenSource: 'usage', success: true, status: 200 });
    }
    recorder.flush();
  }
}
