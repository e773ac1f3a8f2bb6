/** Splits `scheme://bucket/key`; the key keeps its slashes. */
export function parseBucketUrl(source: string): { bucket: string; key: string } | undefined {
  const m = /^[a-z0-9]+:\/\/([^/]+)\/(.+)$/i.exec(source);
  return m ? { bucket: m[1], key: m[2] } : undefined;
}
