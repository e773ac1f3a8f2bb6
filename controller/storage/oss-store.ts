import OSS from 'ali-oss';
import { BenchError } from '../../src/contract';
import type { ReportStore } from './report-store';

/** Signed URLs live 7 days, like the S3 store's presigned ones. */
const SIGNED_EXPIRES_S = 7 * 24 * 3600;

export interface OssStoreOptions {
  bucket: string;
  /** Key prefix without leading or trailing slash; '' for the bucket root. */
  prefix: string;
  /** e.g. oss-cn-chengdu.aliyuncs.com, with or without a scheme. */
  endpoint: string;
  /** The bucket is public-read: hand out plain `http://BUCKET.ENDPOINT/KEY` URLs. */
  public: boolean;
  /** The endpoint is the bucket's own domain (a CNAME): no bucket in the host name. */
  cname: boolean;
  accessKeyId: string;
  accessKeySecret: string;
}

/**
 * Parses `oss://BUCKET/PREFIX?endpoint=oss-cn-chengdu.aliyuncs.com[&public=true][&cname=true]`;
 * credentials come from OSS_ACCESS_KEY_ID / OSS_ACCESS_KEY_SECRET, never from the URL.
 */
export function parseOssStoreUrl(url: URL, env: NodeJS.ProcessEnv = process.env): OssStoreOptions {
  const bucket = url.hostname;
  const endpoint = url.searchParams.get('endpoint')?.replace(/\/+$/, '');
  if (!bucket || !endpoint) {
    throw new BenchError('InvalidParameter', `report store ${url.href} needs a bucket and an endpoint (oss://BUCKET/PREFIX?endpoint=oss-cn-chengdu.aliyuncs.com)`, { resource: url.href });
  }
  const accessKeyId = env.OSS_ACCESS_KEY_ID;
  const accessKeySecret = env.OSS_ACCESS_KEY_SECRET;
  if (!accessKeyId || !accessKeySecret) {
    throw new BenchError('InvalidParameter', `report store ${url.href} needs OSS_ACCESS_KEY_ID and OSS_ACCESS_KEY_SECRET in the environment`, { resource: url.href });
  }
  const pub = url.searchParams.get('public');
  const cname = url.searchParams.get('cname');
  return {
    bucket,
    prefix: decodeURIComponent(url.pathname).replace(/^\/+|\/+$/g, ''),
    endpoint,
    public: pub === 'true' || pub === '1',
    cname: cname === 'true' || cname === '1',
    accessKeyId,
    accessKeySecret,
  };
}

/** Reports in an Alibaba Cloud OSS bucket. */
export class OssReportStore implements ReportStore {
  readonly kind = 'oss' as const;
  private readonly client: OSS;

  constructor(readonly options: OssStoreOptions) {
    this.client = new OSS({
      bucket: options.bucket,
      endpoint: options.endpoint,
      accessKeyId: options.accessKeyId,
      accessKeySecret: options.accessKeySecret,
      cname: options.cname,
    });
  }

  private objectKey(key: string): string {
    return this.options.prefix ? `${this.options.prefix}/${key}` : key;
  }

  async put(key: string, body: Buffer, contentType: string): Promise<void> {
    await this.client.put(this.objectKey(key), body, { mime: contentType, headers: { 'Content-Type': contentType } });
  }

  async url(key: string): Promise<string> {
    const objectKey = this.objectKey(key);
    if (!this.options.public) return this.client.signatureUrl(objectKey, { expires: SIGNED_EXPIRES_S });
    const host = this.options.endpoint.replace(/^[a-z]+:\/\//i, '');
    const path = objectKey.split('/').map(encodeURIComponent).join('/');
    return this.options.cname ? `http://${host}/${path}` : `http://${this.options.bucket}.${host}/${path}`;
  }

  async delete(key: string): Promise<void> {
    await this.client.delete(this.objectKey(key));
  }
}
