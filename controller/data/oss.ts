import OSS from 'ali-oss';
import { Readable } from 'node:stream';
import { BenchError } from '../../src/contract';
import { parseBucketUrl } from './bucket';
import { DataLimits, readLimited, reasonOf, sourceError, tooBig } from './limits';

/**
 * An `oss://bucket/key` source (Alibaba Cloud OSS). Credentials come from
 * OSS_ACCESS_KEY_ID / OSS_ACCESS_KEY_SECRET; EAS_BENCH_OSS_ENDPOINT names the
 * endpoint (else OSS_REGION, default oss-cn-hangzhou).
 */
export async function readOss(source: string, limits: DataLimits, env: NodeJS.ProcessEnv = process.env): Promise<Buffer> {
  const where = parseBucketUrl(source);
  if (!where) throw sourceError(source, 'expected oss://bucket/key');
  if (!env.OSS_ACCESS_KEY_ID || !env.OSS_ACCESS_KEY_SECRET) {
    throw sourceError(source, 'OSS_ACCESS_KEY_ID and OSS_ACCESS_KEY_SECRET must be set');
  }
  const endpoint = env.EAS_BENCH_OSS_ENDPOINT || undefined;
  try {
    const client = new OSS({
      accessKeyId: env.OSS_ACCESS_KEY_ID,
      accessKeySecret: env.OSS_ACCESS_KEY_SECRET,
      stsToken: env.OSS_SESSION_TOKEN || undefined,
      bucket: where.bucket,
      ...(endpoint ? { endpoint } : { region: env.OSS_REGION || 'oss-cn-hangzhou' }),
      timeout: limits.fetchTimeoutMs,
    });
    const { stream, res } = await client.getStream(where.key);
    const body = stream as Readable | undefined;
    if (!body) throw sourceError(source, `HTTP ${res.status}`);
    const declared = Number((res.headers as Record<string, string | undefined>)['content-length']);
    if (Number.isFinite(declared) && declared > limits.maxSourceBytes) {
      body.destroy();
      throw sourceError(source, tooBig(limits.maxSourceBytes));
    }
    return await readLimited(source, body, limits.maxSourceBytes, () => body.destroy());
  } catch (err) {
    if (err instanceof BenchError) throw err;
    const code = (err as { code?: string }).code;
    if (code === 'NoSuchKey') throw sourceError(source, 'no such key');
    if (code === 'NoSuchBucket') throw sourceError(source, 'no such bucket');
    if (code === 'AccessDenied' || code === 'InvalidAccessKeyId' || code === 'SignatureDoesNotMatch') {
      throw sourceError(source, `access denied (${code})`);
    }
    throw sourceError(source, reasonOf(err));
  }
}
