import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { Readable } from 'node:stream';
import { BenchError } from '../../src/contract';
import { parseBucketUrl } from './bucket';
import { DataLimits, readLimited, reasonOf, sourceError, tooBig } from './limits';

/**
 * An `s3://bucket/key` source. Credentials come from AWS_ACCESS_KEY_ID /
 * AWS_SECRET_ACCESS_KEY (else the SDK's default chain); EAS_BENCH_S3_ENDPOINT
 * points at an S3-compatible store, addressed path-style.
 */
export async function readS3(source: string, limits: DataLimits, env: NodeJS.ProcessEnv = process.env): Promise<Buffer> {
  const where = parseBucketUrl(source);
  if (!where) throw sourceError(source, 'expected s3://bucket/key');
  const endpoint = env.EAS_BENCH_S3_ENDPOINT || undefined;
  const client = new S3Client({
    region: env.AWS_REGION || env.AWS_DEFAULT_REGION || 'us-east-1',
    endpoint,
    forcePathStyle: endpoint !== undefined,
    credentials:
      env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY
        ? { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY, sessionToken: env.AWS_SESSION_TOKEN || undefined }
        : undefined,
    requestHandler: { requestTimeout: limits.fetchTimeoutMs, connectionTimeout: limits.fetchTimeoutMs },
  });
  try {
    const out = await client.send(new GetObjectCommand({ Bucket: where.bucket, Key: where.key }));
    const body = out.Body as Readable | undefined;
    if (!body) return Buffer.alloc(0);
    if (out.ContentLength !== undefined && out.ContentLength > limits.maxSourceBytes) {
      body.destroy();
      throw sourceError(source, tooBig(limits.maxSourceBytes));
    }
    return await readLimited(source, body, limits.maxSourceBytes, () => body.destroy());
  } catch (err) {
    if (err instanceof BenchError) throw err;
    const name = (err as Error).name;
    if (name === 'NoSuchKey' || name === 'NotFound') throw sourceError(source, 'no such key');
    if (name === 'NoSuchBucket') throw sourceError(source, 'no such bucket');
    if (name === 'AccessDenied' || name === 'InvalidAccessKeyId' || name === 'SignatureDoesNotMatch') {
      throw sourceError(source, `access denied (${name})`);
    }
    throw sourceError(source, reasonOf(err));
  } finally {
    client.destroy();
  }
}
