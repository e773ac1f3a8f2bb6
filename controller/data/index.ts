import * as fs from 'node:fs/promises';
import { BenchError, DataSpec } from '../../src/contract';

/** Limits on what a task's data may hold; configurable on the controller. */
export interface DataLimits {
  maxSourceBytes: number;
  maxTotalBytes: number;
  maxEntries: number;
}

export const DEFAULT_DATA_LIMITS: DataLimits = {
  maxSourceBytes: 256 * 1024 * 1024,
  maxTotalBytes: 512 * 1024 * 1024,
  maxEntries: 1_000_000,
};

/** Splits by `\n` or `\r\n`; empty lines are not requests. */
export function splitLines(buffer: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let start = 0;
  for (let i = 0; i <= buffer.length; i++) {
    if (i === buffer.length || buffer[i] === 0x0a) {
      let end = i;
      if (end > start && buffer[end - 1] === 0x0d) end--;
      if (end > start) out.push(buffer.subarray(start, end));
      start = i + 1;
    }
  }
  return out;
}

async function readLocal(source: string, limits: DataLimits): Promise<Buffer> {
  const file = source.startsWith('file://') ? new URL(source).pathname : source;
  try {
    const stat = await fs.stat(file);
    if (stat.size > limits.maxSourceBytes) {
      throw new BenchError('DataSourceFailed', `data source ${source}: too big (${stat.size} bytes > ${limits.maxSourceBytes})`, { field: 'data.path', resource: source });
    }
    return await fs.readFile(file);
  } catch (err) {
    if (err instanceof BenchError) throw err;
    throw new BenchError('DataSourceFailed', `data source ${source}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`, {
      field: 'data.path',
      resource: source,
    });
  }
}

/**
 * The request bodies of a task, fetched once by the controller at create/start.
 * An empty list means requests without a body.
 */
export async function loadEntries(data: DataSpec | undefined, limits: DataLimits = DEFAULT_DATA_LIMITS): Promise<Buffer[]> {
  if (!data) return [];
  if (data.content !== undefined) return [Buffer.from(data.content.replace(/\s+/g, ''), 'base64')];
  if (!data.path) return [];
  const entries: Buffer[] = [];
  for (const raw of data.path.split(',')) {
    const source = raw.trim();
    if (!source) continue;
    if (/^[a-z][a-z0-9+.-]*:\/\//i.test(source) && !source.startsWith('file://')) {
      throw new BenchError('DataSourceFailed', `data source ${source}: scheme not supported yet`, { field: 'data.path', resource: source });
    }
    const body = await readLocal(source, limits);
    if (body.length === 0) throw new BenchError('DataSourceFailed', `data source ${source}: empty file`, { field: 'data.path', resource: source });
    entries.push(...(data.multiLine ? splitLines(body) : [body]));
  }
  if (entries.length > limits.maxEntries) {
    throw new BenchError('DataSourceFailed', `data has ${entries.length} entries, more than the limit of ${limits.maxEntries}`, { field: 'data.path' });
  }
  return entries;
}
