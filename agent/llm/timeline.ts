import { isTokenCount } from '../../src/contract';
import { CHUNK_OVERHEAD_BYTES } from './response-limits';
import { ToolCallText } from './tool-calls';

/*
 * Reading a stream: what each SSE event of an OpenAI-compatible answer adds
 * to the request's timeline (content chunks and their times, usage, an error,
 * how it ended). client.ts feeds the events; figures.ts turns the timeline
 * into the request's figures.
 */

/** Status recorded for an SSE error event that carries no HTTP-like code. */
export const STATUS_STREAM_ERROR = 500;
export const MAX_ERROR_TEXT = 300;

/** What one streamed response told us, before it becomes a record. */
export interface StreamTimeline {
  /** performance.now() of each chunk with generated content, and its text. */
  chunkTimesMs: number[];
  chunkTexts: string[];
  usagePrompt: number | null;
  usageCompletion: number | null;
  error: string | null;
  errorStatus: number | null;
  done: boolean;
  /** A choice said why it ended (`finish_reason`): with `[DONE]`, what tells a whole answer from a cut one. */
  finished: boolean;
  /** Tool calls of the answer (OpenAI `delta.tool_calls`), their text joined by index. */
  toolCalls: ToolCallText;
  /** What the kept chunks cost, bytes (their text and CHUNK_OVERHEAD_BYTES each). */
  keptBytes: number;
  /** The first `usage` value that is not a token count (`usage.prompt_tokens 1.5`): the request's usage is then ignored. */
  badUsage: string | null;
}

export function emptyTimeline(): StreamTimeline {
  return {
    chunkTimesMs: [],
    chunkTexts: [],
    usagePrompt: null,
    usageCompletion: null,
    error: null,
    errorStatus: null,
    done: false,
    finished: false,
    toolCalls: new ToolCallText(),
    keptBytes: 0,
    badUsage: null,
  };
}

/** A `usage` field: a token count, absent, or bad (recorded on the timeline, and the request's usage ignored). */
function usageField(timeline: StreamTimeline, usage: Record<string, unknown>, key: 'prompt_tokens' | 'completion_tokens'): number | null {
  const value = usage[key];
  if (value === undefined || value === null) return null;
  if (isTokenCount(value)) return value;
  timeline.badUsage ??= `usage.${key} ${(JSON.stringify(value) ?? typeof value).slice(0, 40)}`;
  return null;
}

/** Generated text of a chunk: completions `text`, chat `delta.content`, or reasoning content. */
function chunkText(payload: Record<string, unknown>): string {
  const choices = payload.choices;
  if (!Array.isArray(choices) || choices.length === 0) return '';
  let text = '';
  for (const choice of choices as Record<string, unknown>[]) {
    if (!choice) continue;
    if (typeof choice.text === 'string') text += choice.text;
    const delta = choice.delta as Record<string, unknown> | undefined;
    if (delta) {
      if (typeof delta.reasoning_content === 'string') text += delta.reasoning_content;
      else if (typeof delta.reasoning === 'string') text += delta.reasoning;
      if (typeof delta.content === 'string') text += delta.content;
    }
  }
  return text;
}

function errorOf(value: unknown): { message: string; status: number } {
  if (typeof value === 'string') return { message: value, status: STATUS_STREAM_ERROR };
  const obj = (value ?? {}) as Record<string, unknown>;
  const message = typeof obj.message === 'string' ? obj.message : JSON.stringify(value);
  const code = Number(obj.code ?? obj.status);
  return { message, status: Number.isInteger(code) && code >= 400 && code <= 599 ? code : STATUS_STREAM_ERROR };
}

function hasFinishReason(choice: unknown): boolean {
  const reason = (choice as { finish_reason?: unknown } | null)?.finish_reason;
  return reason !== undefined && reason !== null;
}

/**
 * A 200 stream that ended without `finish_reason` and without `[DONE]` was
 * cut, however cleanly its connection closed: its text is part of an answer,
 * not an answer (SPEC 7, `incomplete stream`).
 */
export function isIncomplete(timeline: StreamTimeline): boolean {
  return timeline.error === null && !timeline.done && !timeline.finished;
}

/**
 * Applies one SSE event to a timeline at time `nowMs`. `[DONE]` ends the
 * stream; an `error` event, or a payload with an `error` field, fails the request.
 */
export function applyEvent(timeline: StreamTimeline, event: { event: string; data: string }, nowMs: number): void {
  if (timeline.error !== null) return;
  const data = event.data.trim();
  if (data === '[DONE]') {
    timeline.done = true;
    return;
  }
  let payload: unknown;
  try {
    payload = JSON.parse(data);
  } catch {
    if (event.event === 'error') {
      timeline.error = data.slice(0, MAX_ERROR_TEXT) || 'error event';
      timeline.errorStatus = STATUS_STREAM_ERROR;
    }
    return; // a line that is not JSON carries no tokens
  }
  if (typeof payload !== 'object' || payload === null) return;
  const obj = payload as Record<string, unknown>;
  if (event.event === 'error' || obj.error !== undefined) {
    const err = errorOf(obj.error ?? obj);
    timeline.error = err.message.slice(0, MAX_ERROR_TEXT);
    timeline.errorStatus = err.status;
    return;
  }
  if (Array.isArray(obj.choices) && (obj.choices as unknown[]).some(hasFinishReason)) timeline.finished = true;
  // a tool call's name and arguments are generated tokens too
  const text = chunkText(obj) + timeline.toolCalls.add(obj.choices);
  if (text.length > 0) {
    timeline.chunkTimesMs.push(nowMs);
    timeline.chunkTexts.push(text);
    timeline.keptBytes += text.length + CHUNK_OVERHEAD_BYTES;
  }
  const usage = obj.usage as Record<string, unknown> | null | undefined;
  if (usage && typeof usage === 'object') {
    timeline.usagePrompt = usageField(timeline, usage, 'prompt_tokens') ?? timeline.usagePrompt;
    timeline.usageCompletion = usageField(timeline, usage, 'completion_tokens') ?? timeline.usageCompletion;
  }
}
