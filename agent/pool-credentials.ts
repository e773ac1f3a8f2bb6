import * as fs from 'node:fs';
import { UsageError } from './args';

export interface PoolKey {
  id: string;
  secret: string;
}

/**
 * Reads the key a pool agent signs its hello with: a file holding
 * {"id","secret"}, or a copy of the controller's credentials file
 * ({"keys":[{"id","secret"}, ...]}, its first key). The secret never leaves
 * this process; only signatures made with it do.
 */
export function readPoolKey(file: string): PoolKey {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new UsageError(`--pool-credentials ${file}: cannot read it (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new UsageError(`--pool-credentials ${file}: not JSON`);
  }
  const record = (v: unknown): Record<string, unknown> | undefined => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined);
  const root = record(value);
  const keys = root?.keys;
  const key = record(Array.isArray(keys) ? keys[0] : root);
  if (!key || typeof key.id !== 'string' || typeof key.secret !== 'string' || !key.id || !key.secret) {
    throw new UsageError(`--pool-credentials ${file}: expected {"id":"...","secret":"..."} or a credentials file {"keys":[{"id","secret"}]}`);
  }
  return { id: key.id, secret: key.secret };
}
