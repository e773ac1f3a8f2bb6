import { HttpWorkload } from '../agent/http-workload';
import type { LoadContext } from '../agent/load-driver';
import { OpenLoop } from '../agent/open-loop';
import { startNginx } from './tools';

/** Actual minus scheduled send time of one open-loop request, as `LoadContext.sendLag` reports it. */
export type SendLagListener = (nowMs: number, lagUs: number) => void;

/**
 * The open-loop driver and HTTP sender alone, in this process, against
 * nginx: nothing else of the agent runs (no lifecycle, no request limit, no
 * stats frames), so what is measured is the sender's and driver's own.
 */
export interface LoneSender {
  readonly workload: HttpWorkload;
  /** Starts sending at the rate asked; every send's lag goes to `onSendLag`. */
  start(onSendLag: SendLagListener): OpenLoop;
  /** Closes the sender's connections and stops nginx (stop the driver first). */
  close(): Promise<void>;
}

/**
 * nginx started and a prepared sender (connections opened, send path warmed)
 * for `qps`; `preconnect` overrides how many connections are opened before
 * the start.
 */
export async function loneSenderAgainstNginx(qps: number, preconnect?: number): Promise<LoneSender> {
  const nginx = await startNginx();
  const workload = new HttpWorkload({ url: nginx.url, method: 'GET', headers: [], bodies: [], timeoutMs: 5000 }, 0, { sent: () => undefined, response: () => undefined });
  const load = { kind: 'open' as const, qps, maxInFlight: 10_000 };
  workload.fit(load);
  if (preconnect !== undefined) workload.sender.setPreconnect(preconnect);
  await workload.sender.prepare();
  return {
    workload,
    start(onSendLag: SendLagListener): OpenLoop {
      // every send is accepted: no request limit, no stop, no in-flight cap but the load's
      const context: LoadContext = {
        get inFlight() {
          return workload.sender.inFlight;
        },
        trySend: (originMs, nowMs, done) => {
          workload.sender.send(originMs, nowMs, done);
          return true;
        },
        dropped: () => undefined,
        sendLag: onSendLag,
      };
      const driver = new OpenLoop(context, load);
      driver.start();
      return driver;
    },
    async close(): Promise<void> {
      await workload.sender.close();
      await nginx.stop();
    },
  };
}
