import type { LoadShape, ReplayRequests, RequestTemplate } from '../src/contract';
import { ClosedLoop } from './closed-loop';
import type { ResultSink } from './sender-core';
import type { AgentLog } from './lifecycle';
import type { HttpLoad, LoadContext, LoadDriver, Workload } from './load-driver';
import { OpenLoop } from './open-loop';
import { mostDueWithin } from './schedule';
import { chooseSender, createSender, HttpSenderImpl, senderChoiceIsNews } from './sender-choice';
import { warmSendPath } from './warm-up';

/** Beyond this many connections, open-loop requests wait for a free one (their latency still counts). */
const OPEN_LOOP_MAX_CONNECTIONS = 512;

/** Idle connections worth keeping: one per worker, or per request the in-flight cap allows. */
function connectionsFor(load: HttpLoad): number {
  // open loop: enough connections for the in-flight cap, but not a connection per request under overload
  return load.kind === 'closed' ? load.concurrency : Math.min(load.maxInFlight, OPEN_LOOP_MAX_CONNECTIONS);
}

/**
 * Open loop: connections opened before the start, one per this many requests
 * a second (a 4 ms round trip each), at least a few; more are opened as the
 * service's latency asks for them.
 */
const OPEN_LOOP_QPS_PER_PRECONNECT = 50;
const MIN_PRECONNECT = 4;

function preconnectFor(load: HttpLoad, replay: ReplayRequests | undefined): number {
  if (load.kind === 'closed') return load.concurrency;
  const steady = Math.max(MIN_PRECONNECT, Math.ceil(load.qps / OPEN_LOOP_QPS_PER_PRECONNECT));
  if (!load.replay || !replay) return steady;
  // a replay's bursts: as many as its lane sends within one connection's share of a second (a burst of 150 in 1 ms: 150)
  const burst = mostDueWithin(replay.times, 1000 / OPEN_LOOP_QPS_PER_PRECONNECT, load.replay.lane, load.replay.lanes);
  return Math.min(connectionsFor(load), Math.max(steady, burst));
}

/** Prepared HTTP requests, sent in closed loop (workers) or open loop (a schedule). */
export class HttpWorkload implements Workload<HttpLoad> {
  readonly sender: HttpSenderImpl;

  constructor(private readonly template: RequestTemplate, startOffset: number, sink: ResultSink, log?: AgentLog) {
    const choice = chooseSender(template);
    if (senderChoiceIsNews(choice)) log?.('info', `http sender: ${choice.kind} (${choice.reason})`);
    if (template.mix) sink.nameRequests?.(template.mix.map((m) => m.name));
    if (template.replay) sink.nameRequests?.(template.replay.names);
    this.sender = createSender(choice, template, startOffset, sink);
    this.sender.beforeReady.push(() => warmSendPath(template, choice));
  }

  accepts(load: LoadShape): load is HttpLoad {
    return load.kind !== 'llm';
  }

  fit(load: HttpLoad): void {
    this.sender.setMaxIdleConnections(connectionsFor(load));
    this.sender.setPreconnect(preconnectFor(load, this.template.replay));
  }

  createDriver(load: HttpLoad, context: LoadContext): LoadDriver<HttpLoad> {
    return load.kind === 'closed' ? new ClosedLoop(context, load) : new OpenLoop(context, load, this.template.replay);
  }
}
