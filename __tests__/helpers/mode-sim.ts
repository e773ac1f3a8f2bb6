import { resolveOptional, StatsPoint, Step, TaskEvent, TaskSpec } from '../../src/contract';
import { FinalizedSecond } from '../../controller/metrics/aggregate';
import { createLatencyHistogram, encodeHistogram, quantilesMs } from '../../src/measure/histogram';
import { ModeContext, ModeDriver } from '../../controller/modes/base';
import { createMode } from '../../controller/modes';

/**
 * A simulated service, second by second: `capacity` requests/s served in
 * `serviceMs`; above it a backlog builds and waiting time grows; errors above
 * `errorAboveQps`. The mode sees what the controller would: finalized seconds,
 * and a new load reaching the agents from the next whole second.
 */
export interface Service {
  capacity: number;
  serviceMs: number;
  errorAboveQps?: number;
  /** Share of the target the agents manage to send: below 1 the load generator, not the service, is the bottleneck. */
  sentShare?: number;
  /** The agents' event-loop delay p99 every second, ms (default 1): over auto's 40 ms they are late. */
  loopLagMs?: number;
  /** From this second of the run on, the capacity is `capacityLater`: a service that cannot sustain what it did. */
  laterFromS?: number;
  capacityLater?: number;
}

/** The service's queue, second by second: what it serves of what is sent, what waits, and how long each request took. */
export class ServiceQueue {
  private backlog = 0;

  constructor(private readonly service: Service) {}

  /** Second `i` of the run, `sent` requests sent in it. */
  second(i: number, sent: number): { served: number; errors: number; backlog: number; rt: ReturnType<typeof createLatencyHistogram> } {
    const { service } = this;
    const arriving = sent + this.backlog;
    const capacity = service.laterFromS !== undefined && i >= service.laterFromS ? (service.capacityLater ?? service.capacity) : service.capacity;
    const served = Math.min(arriving, capacity);
    this.backlog = arriving - served;
    const waitMs = (this.backlog / capacity) * 1000;
    const errors = service.errorAboveQps !== undefined ? Math.max(0, Math.round(served - service.errorAboveQps)) : 0;
    const rt = createLatencyHistogram();
    for (let k = 0; k < served; k++) rt.recordValue(Math.round((service.serviceMs + (waitMs * k) / Math.max(1, served)) * 1000));
    return { served, errors, backlog: this.backlog, rt };
  }
}

export function simulate(spec: TaskSpec, service: Service, seconds: number): { mode: ModeDriver; events: TaskEvent[]; targets: number[]; ended: string[] } {
  const events: TaskEvent[] = [];
  const ended: string[] = [];
  let clockS = 1_000_000;
  const ctx: ModeContext = { event: (Kind, Message, Step) => events.push({ Time: String(clockS), Kind, Message, Step }), timeoutMs: 20000, maxAgents: 4, nowS: () => clockS, end: (reason) => ended.push(reason) };
  const mode = createMode(resolveOptional(spec), ctx);
  let target = mode.targetQps() ?? 0;
  let pending: { fromS: number; qps: number } | undefined;
  const queue = new ServiceQueue(service);
  const targets: number[] = [];
  // a round the mode ended (faultAction stop) sends nothing more
  for (let i = 0; i < seconds && ended.length === 0; i++) {
    const t = 1_000_000 + i;
    if (pending && t >= pending.fromS) {
      target = pending.qps;
      pending = undefined;
    }
    targets.push(target);
    const sent = target * (service.sentShare ?? 1);
    const { served, errors, backlog, rt } = queue.second(i, sent);
    const q = quantilesMs(rt);
    const point: StatsPoint = {
      Time: t, Elapsed: i, TargetQPS: target, Requests: Math.round(served), Success: Math.round(served) - errors, Errors: errors,
      BytesIn: 0, BytesOut: 0, Dropped: 0, StatusCodes: codes(Math.round(served) - errors, errors), RT: q, SendLagP99: 0.5, AgentsDesired: 1, AgentsAvailable: 1,
    };
    const second: FinalizedSecond = { point, rtHistogram: encodeHistogram(rt), lagHistogram: '', agentLoad: { sent, inFlight: Math.round(backlog + (target * service.serviceMs) / 1000), maxEventLoopLagMs: service.loopLagMs ?? 1, agentsReported: 1 } };
    // the second [t, t+1) is finalized a little after it ends
    clockS = t + 1.3;
    if (mode.onSecond(second)) pending = { fromS: Math.floor(clockS) + 1, qps: mode.targetQps() ?? 0 };
  }
  return { mode, events, targets, ended };
}

/** The status codes of a simulated second: the service's errors answer 404. */
function codes(ok: number, errors: number): Record<string, number> {
  return { ...(ok > 0 ? { '200': ok } : {}), ...(errors > 0 ? { '404': errors } : {}) };
}

export const service = (optional: TaskSpec['optional']): TaskSpec => ({ service: { serviceName: 's', url: 'http://127.0.0.1:9/' }, optional });

/** The structured steps of the verdict events, with their times (the simulated clock). */
export function steps(events: TaskEvent[]): [string, Step | undefined][] {
  return events.filter((e) => e.Kind === 'verdict').map((e) => [e.Time, e.Step]);
}
