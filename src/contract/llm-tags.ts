import { isCount, isObject } from './field-checks';

/**
 * What the llm run modes and options add to a request record (retries,
 * token-sweep, sessions, tools), and its parser: one optional `tags` object,
 * so the record's core shape stays the measurement's.
 */
export type LlmToolOutcome = 'none' | 'parsed' | 'invalid';

export interface LlmRecordTags {
  /** Sends of this request (1 + retries taken); absent = 1. The record is the last attempt's. */
  attempts?: number;
  /** token-sweep: the prompt length (tokens) this request belongs to. */
  promptLength?: number;
  /** sessions: the session (agent-local number) and the turn's position in it, from 1. */
  session?: number;
  turn?: number;
  /** sessions: true on the last turn of a session. */
  lastTurn?: boolean;
  /** tools: whether the answer called a tool, and whether every call's arguments parsed as JSON. */
  tool?: LlmToolOutcome;
}

/** A fresh copy of the known tags, or a string saying what is wrong. */
export function parseLlmRecordTags(value: unknown, where: string): LlmRecordTags | string {
  if (!isObject(value)) return `${where} must be an object`;
  const tags: LlmRecordTags = {};
  for (const key of ['attempts', 'promptLength', 'session', 'turn'] as const) {
    if (value[key] === undefined) continue;
    if (!isCount(value[key])) return `${where}.${key} must be a count`;
    tags[key] = value[key];
  }
  if (value.lastTurn !== undefined) {
    if (typeof value.lastTurn !== 'boolean') return `${where}.lastTurn must be a boolean`;
    tags.lastTurn = value.lastTurn;
  }
  if (value.tool !== undefined) {
    if (value.tool !== 'none' && value.tool !== 'parsed' && value.tool !== 'invalid') return `${where}.tool must be none, parsed or invalid`;
    tags.tool = value.tool;
  }
  return tags;
}
