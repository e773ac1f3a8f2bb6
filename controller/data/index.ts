import { BenchError, DataSpec } from '../../src/contract';
import { readHttp } from './http';
import { splitLines } from './lines';
import { DataLimits, DEFAULT_DATA_LIMITS, sourceError } from './limits';
import { readLocal } from './local';
import { readOss } from './oss';
import { CLOSED_DATA_POLICY, DataPolicy } from './policy';
import { readS3 } from './s3';
import { unzip } from './zip';

export { splitLines } from './lines';
export { DEFAULT_DATA_LIMITS } from './limits';
export type { DataLimits } from './limits';
export { CLOSED_DATA_POLICY, isPrivateAddress } from './policy';
export type { DataLookup, DataPolicy } from './policy';

type Reader = (source: string, limits: DataLimits, policy: DataPolicy) => Promise<Buffer>;

/** One reader per scheme; a local path has none. Buckets use the operator's configured endpoints, so the policy is not theirs to check. */
const READERS: Record<string, Reader> = {
  'http:': readHttp,
  'https:': readHttp,
  's3:': (source, limits) => readS3(source, limits),
  'oss:': (source, limits) => readOss(source, limits),
  'file:': readLocal,
};

function readerFor(source: string): Reader {
  const scheme = /^([a-z][a-z0-9+.-]*:)\/\//i.exec(source)?.[1].toLowerCase();
  if (scheme === undefined) return readLocal;
  const reader = READERS[scheme];
  if (!reader) throw sourceError(source, `unknown scheme "${scheme.slice(0, -1)}" (expected http, https, s3, oss, or a local path)`);
  return reader;
}

/** `.zip` is decided by the path (the URL path for http, the key for buckets), not by the query string. */
function isZip(source: string): boolean {
  return /\.zip$/i.test(source.split(/[?#]/)[0]);
}

/**
 * The request bodies of a task, fetched once by the controller at create/start.
 * An empty list means requests without a body.
 */
export async function loadEntries(
  data: DataSpec | undefined,
  limits: DataLimits = DEFAULT_DATA_LIMITS,
  policy: DataPolicy = CLOSED_DATA_POLICY,
): Promise<Buffer[]> {
  if (!data) return [];
  if (data.content !== undefined) return [Buffer.from(data.content.replace(/\s+/g, ''), 'base64')];
  if (!data.path) return [];
  const entries: Buffer[] = [];
  let totalBytes = 0;
  for (const raw of data.path.split(',')) {
    const source = raw.trim();
    if (!source) continue;
    const body = await readerFor(source)(source, limits, policy);
    if (body.length === 0) throw sourceError(source, 'empty file');
    const files = isZip(source)
      ? await unzip(source, body, { maxUnpackedBytes: limits.maxTotalBytes - totalBytes, maxFiles: limits.maxEntries })
      : [{ name: '', body }];
    if (files.length === 0) throw sourceError(source, 'zip has no files');
    for (const file of files) {
      const where = file.name ? `zip entry "${file.name}"` : '';
      if (file.body.length === 0) throw sourceError(source, where ? `${where}: empty file` : 'empty file');
      totalBytes += file.body.length;
      if (totalBytes > limits.maxTotalBytes) throw sourceError(source, `data is more than the limit of ${limits.maxTotalBytes} bytes in all`);
      if (data.multiLine) {
        const lines = splitLines(file.body);
        if (lines.length === 0) throw sourceError(source, where ? `${where}: no lines` : 'no lines');
        entries.push(...lines);
      } else {
        entries.push(file.body);
      }
      if (entries.length > limits.maxEntries) {
        throw new BenchError('DataSourceFailed', `data has more than the limit of ${limits.maxEntries} entries (at ${source})`, {
          field: 'data.path',
          resource: source,
        });
      }
    }
  }
  return entries;
}
