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

const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= Number.MAX_SAFE_INTEGER;

/** A fresh copy of the known tags, or a string saying what is wrong. */
export function parseLlmRecordTags(value: unknown, where: string): LlmRecordTags | string {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return `${where} must be an object`;
  const v = value as Record<string, unknown>;
  const tags: LlmRecordTags = {};
  for (const key of ['attempts', 'promptLength', 'session', 'turn'] as const) {
    if (v[key] === undefined) continue;
    if (!isCount(v[key])) return `${where}.${key} must be a count`;
    tags[key] = v[key];
  }
  if (v.lastTurn !== undefined) {
    if (typeof v.lastTurn !== 'boolean') return `${where}.lastTurn must be a boolean`;
    tags.lastTurn = v.lastTurn;
  }
  if (v.tool !== undefined) {
    if (v.tool !== 'none' && v.tool !== 'parsed' && v.tool !== 'invalid') return `${where}.tool must be none, parsed or invalid`;
    tags.tool = v.tool;
  }
  return tags;
}
