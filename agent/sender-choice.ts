import type { RequestTemplate } from '../src/contract';
import { HttpSender } from './undici-sender';
import type { ResultSink } from './sender-core';
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
export const DEFAULT_SENDER: SenderKind = 'raw';

export type HttpSenderImpl = HttpSender | RawHttpSender;

export interface SenderChoice {
  kind: SenderKind;
  /** Why this one: the setting, or why raw could not send this template. */
  reason: string;
}

/** Decided once per load: raw where it is asked for (or by default) and can send the template, undici otherwise. */
export function chooseSender(template: RequestTemplate, env: Readonly<Record<string, string | undefined>> = process.env): SenderChoice {
  const setting = env[SENDER_ENV];
  const asked: SenderKind | null = setting === 'raw' || setting === 'undici' ? setting : null;
  const wanted = asked ?? DEFAULT_SENDER;
  const from = asked ? `${SENDER_ENV}=${asked}` : 'the default';
  if (wanted === 'undici') return { kind: 'undici', reason: from };
  const refusal = rawSenderRefusal(template);
  if (!refusal) return { kind: 'raw', reason: from };
  return { kind: 'undici', reason: asked ? `raw sender asked by ${from}, but ${refusal}` : `the default where the raw sender cannot send: ${refusal}` };
}

/** Said in the round's events only when the environment chose: the default choice is not news. */
export function senderChoiceIsNews(choice: SenderChoice): boolean {
  return !choice.reason.startsWith('the default');
}

export function createSender(choice: SenderChoice, template: RequestTemplate, startOffset: number, sink: ResultSink): HttpSenderImpl {
  return choice.kind === 'raw' ? new RawHttpSender(template, startOffset, sink) : new HttpSender(template, startOffset, sink);
}
