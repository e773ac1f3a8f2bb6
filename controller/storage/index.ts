import * as path from 'node:path';
import { BenchError } from '../../src/contract';
import { FileReportStore } from './file-store';
import { OssReportStore, parseOssStoreUrl } from './oss-store';
import type { ReportStore } from './report-store';
import { parseS3StoreUrl, S3ReportStore } from './s3-store';

export type { ReportStore } from './report-store';

export interface ReportStoreContext {
  dataDir: string;
  /** Base URL of the controller, for file:// stores served at /reports/. */
  publicUrl: () => string;
}

export function createReportStore(url: string | undefined, ctx: ReportStoreContext): ReportStore {
  if (!url) return new FileReportStore(path.join(ctx.dataDir, 'reports'), ctx.publicUrl);
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new BenchError('InvalidParameter', `report store ${url} is not a URL (file://DIR, s3://BUCKET/PREFIX or oss://BUCKET/PREFIX)`, { resource: url });
  }
  if (parsed.protocol === 'file:') return new FileReportStore(decodeURIComponent(parsed.pathname), ctx.publicUrl);
  if (parsed.protocol === 's3:') return new S3ReportStore(parseS3StoreUrl(parsed));
  if (parsed.protocol === 'oss:') return new OssReportStore(parseOssStoreUrl(parsed));
  throw new BenchError('InvalidParameter', `report store scheme ${parsed.protocol} is not supported (file, s3, oss)`, { resource: url });
}
