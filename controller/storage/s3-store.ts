import { DeleteObjectCommand, GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { BenchError } from '../../src/contract';
import type { ReportStore } from './report-store';

/** Presigned GET URLs live 7 days, the longest SigV4 allows. */
const PRESIGN_EXPIRES_S = 7 * 24 * 3600;

export interface S3StoreOptions {
  bucket: string;
  /** Key prefix without leading or trailing slash; '' for the bucket root. */
  prefix: string;
  /** e.g. http://127.0.0.1:9000 for MinIO; undefined for AWS itself. */
  endpoint?: string;
  region: string;
  forcePathStyle: boolean;
  /** The bucket is world-readable: hand out plain URLs instead of presigned ones. */
  public: boolean;
  accessKeyId?: string;
  secretAccessKey?: string;
}

/**
 * Parses `s3://BUCKET/PREFIX?endpoint=...&forcePathStyle=true&public=true&region=...`;
 * credentials come from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, never from the URL.
 */
export function parseS3StoreUrl(url: URL, env: NodeJS.ProcessEnv = process.env): S3StoreOptions {
  const bucket = url.hostname;
  if (!bucket) throw new BenchError('InvalidParameter', `report store ${url.href} has no bucket (s3://BUCKET/PREFIX)`, { resource: url.href });
  const q = url.searchParams;
  const flag = (name: string): boolean => q.get(name) === 'true' || q.get(name) === '1';
  const endpoint = q.get('endpoint') ?? undefined;
  return {
    bucket,
    prefix: decodeURIComponent(url.pathname).replace(/^\/+|\/+$/g, ''),
    endpoint: endpoint?.replace(/\/+$/, ''),
    region: q.get('region') ?? env.AWS_REGION ?? 'us-east-1',
    forcePathStyle: flag('forcePathStyle'),
    public: flag('public'),
    accessKeyId: env.AWS_ACCESS_KEY_ID,
    secretAccessKey: env.AWS_SECRET_ACCESS_KEY,
  };
}

/** Reports in an S3 bucket (AWS, MinIO or any S3-compatible service). */
export class S3ReportStore implements ReportStore {
  readonly kind = 's3' as const;
  private readonly client: S3Client;

  constructor(readonly options: S3StoreOptions) {
    const { accessKeyId, secretAccessKey } = options;
    this.client = new S3Client({
      region: options.region,
      endpoint: options.endpoint,
      forcePathStyle: options.forcePathStyle,
      // without explicit keys the SDK's default chain (env, profile, instance role) applies
      credentials: accessKeyId && secretAccessKey ? { accessKeyId, secretAccessKey } : undefined,
    });
  }

  private objectKey(key: string): string {
    return this.options.prefix ? `${this.options.prefix}/${key}` : key;
  }

  async put(key: string, body: Buffer, contentType: string): Promise<void> {
    await this.client.send(new PutObjectCommand({ Bucket: this.options.bucket, Key: this.objectKey(key), Body: body, ContentType: contentType }));
  }

  async url(key: string): Promise<string> {
    const objectKey = this.objectKey(key);
    if (!this.options.public) {
      return getSignedUrl(this.client, new GetObjectCommand({ Bucket: this.options.bucket, Key: objectKey }), { expiresIn: PRESIGN_EXPIRES_S });
    }
    const encoded = objectKey.split('/').map(encodeURIComponent).join('/');
    if (this.options.endpoint) return `${this.options.endpoint}/${this.options.bucket}/${encoded}`;
    return `https://${this.options.bucket}.s3.${this.options.region}.amazonaws.com/${encoded}`;
  }

  async delete(key: string): Promise<void> {
    await this.client.send(new DeleteObjectCommand({ Bucket: this.options.bucket, Key: this.objectKey(key) }));
  }

  /** Releases the SDK's sockets. */
  close(): void {
    this.client.destroy();
  }
}
