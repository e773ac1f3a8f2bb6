import type { RequestTemplate } from '../../src/contract';
import { HttpSender, ResultSink } from './http-client';
import { RawHttpSender } from './raw-http/raw-sender';
import { rawSenderRefusal } from './raw-http/request-encoder';

/**
 * Which HTTP sender the agent uses: `raw` (pre-encoded requests on plain
 * sockets, http:// only) or `undici`. Read from the agent's environment, which
 * a controller-spawned agent inherits from the controller. Not named
 * EAS_BENCH_*: the controller reads each of those as one of its own options
 * and refuses unknown ones.
 */
export const SENDER_ENV = 'EAS_AGENT_HTTP_SENDER';
export type SenderKind = 'raw' | 'undici';
/** The default when the environment does not say (see docs/performance.md, "#13", for the measurement behind it). */
export const DEFAULT_SENDER: SenderKind = 'undici';

export type HttpSenderImpl = HttpSender | RawHttpSender;

export interface SenderChoice {
  kind: SenderKind;
  /** Why this one: the setting, or why raw could not send this template. */
  reason: string;
}

/** Decided once per load: raw where it is asked for and can send the template, undici otherwise. */
export function chooseSender(template: RequestTemplate, env: Readonly<Record<string, string | undefined>> = process.env): SenderChoice {
  const setting = env[SENDER_ENV];
  const wanted: SenderKind = setting === 'raw' || setting === 'undici' ? setting : DEFAULT_SENDER;
  const from = setting === wanted ? `${SENDER_ENV}=${setting}` : 'the default';
  if (wanted === 'undici') return { kind: 'undici', reason: from };
  const refusal = rawSenderRefusal(template);
  return refusal ? { kind: 'undici', reason: `raw sender asked by ${from}, but ${refusal}` } : { kind: 'raw', reason: from };
}

export function createSender(choice: SenderChoice, template: RequestTemplate, startOffset: number, sink: ResultSink): HttpSenderImpl {
  return choice.kind === 'raw' ? new RawHttpSender(template, startOffset, sink) : new HttpSender(template, startOffset, sink);
}
