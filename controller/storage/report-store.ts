/*
 * The interface alone, apart from index.ts (which picks a store by URL), so
 * each store implements it without importing the module that imports it.
 */

/** Where reports live. Keys look like `summary/<TaskName>-<RoundId>-<secret>.html` (see reportKey). */
export interface ReportStore {
  readonly kind: 'file' | 's3' | 'oss';
  put(key: string, body: Buffer, contentType: string): Promise<void>;
  /** The URL a user opens: served, presigned or public, per store. */
  url(key: string): Promise<string>;
  delete(key: string): Promise<void>;
}
