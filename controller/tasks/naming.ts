import { randomBytes, randomInt } from 'node:crypto';
import { redactText, Step, TaskEvent, TaskEventKind, taskNamePrefix } from '../../src/contract';

const ID_ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';

/** `benchmark-<service>-<4 hex>`; retries until `taken` says the name is free. */
export function newTaskName(serviceName: string, taken: (name: string) => boolean): string {
  const prefix = taskNamePrefix(serviceName);
  for (let attempt = 0; attempt < 1000; attempt++) {
    const name = `${prefix}-${randomBytes(2).toString('hex')}`;
    if (!taken(name)) return name;
  }
  throw new Error(`no free task name left for service ${serviceName}`);
}

/** `eas-b-<18 lowercase alphanumerics>`. */
export function newTaskId(): string {
  let id = 'eas-b-';
  for (let i = 0; i < 18; i++) id += ID_ALPHABET[randomInt(ID_ALPHABET.length)];
  return id;
}

/** `YYYY-MM-DD HH:mm:ss` in the controller's local time, as the reference shows. */
export function formatTime(epochMs: number): string {
  const d = new Date(epochMs);
  const pad = (n: number): string => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/** An event of a round, stamped now; events are shown and stored as they are, so a URL's secrets are masked here. */
export function newEvent(kind: TaskEventKind, message: string, step?: Step, nowMs = Date.now()): TaskEvent {
  return { Time: formatTime(nowMs), Kind: kind, Message: redactText(message), ...(step ? { Step: step } : {}) };
}

export const FIRST_ROUND_ID = 10001;
