import { BenchError, redactText } from '../../src/contract';

/** Limits on what a task's data may hold; configurable on the controller. */
export interface DataLimits {
  /** Bytes one source may have as fetched (a zip counts packed). */
  maxSourceBytes: number;
  /** Bytes all entries may have together, after unpacking zips. */
  maxTotalBytes: number;
  /** Entries (requests) all sources may give together; also caps the files in one zip. */
  maxEntries: number;
  /** How long a remote source (http, s3, oss) may take to answer or stall mid-body. */
  fetchTimeoutMs: number;
}

export const DEFAULT_DATA_LIMITS: DataLimits = {
  maxSourceBytes: 256 * 1024 * 1024,
  maxTotalBytes: 512 * 1024 * 1024,
  maxEntries: 1_000_000,
  fetchTimeoutMs: 60_000,
};

/** The one error of this module: it names the source and the reason, with the source's credentials (and any a client library quoted) masked. */
export function sourceError(source: string, reason: string): BenchError {
  const shown = redactText(source);
  return new BenchError('DataSourceFailed', `data source ${shown}: ${redactText(reason)}`, { field: 'data.path', resource: shown });
}

export function tooBig(maxBytes: number): string {
  return `too big (> ${maxBytes} bytes)`;
}

/** The reason to show for an error thrown by a client library. */
export function reasonOf(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as NodeJS.ErrnoException).code;
    return err.message || code || err.name;
  }
  return String(err);
}

/**
 * Reads a body stream into memory, stopping as soon as it passes `maxBytes`
 * (a Content-Length header can lie or be missing, so the count is what is received).
 */
export async function readLimited(
  source: string,
  body: AsyncIterable<Uint8Array | string>,
  maxBytes: number,
  abort: () => void,
): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let received = 0;
  for await (const chunk of body) {
    const buf = typeof chunk === 'string' ? Buffer.from(chunk) : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    received += buf.length;
    if (received > maxBytes) {
      abort();
      throw sourceError(source, tooBig(maxBytes));
    }
    chunks.push(buf);
  }
  return Buffer.concat(chunks, received);
}
