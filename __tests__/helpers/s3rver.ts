import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';

/** The slice of s3rver's API we use (the package ships no types). */
interface S3rverServer {
  run(): Promise<{ address: string; port: number }>;
  close(): Promise<void>;
}
type S3rverCtor = new (options: { port: number; address: string; silent: boolean; directory: string; configureBuckets: { name: string }[] }) => S3rverServer;
// eslint-disable-next-line @typescript-eslint/no-require-imports
const S3rver = require('s3rver') as S3rverCtor;

/** s3rver accepts any signature made with its default key pair. */
export const S3RVER_CREDENTIALS = { AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER' };

export interface RunningS3rver {
  endpoint: string;
  close(): Promise<void>;
}

/** A real S3-compatible server on 127.0.0.1, port 0, in a temp folder. */
export async function startS3rver(buckets: string[]): Promise<RunningS3rver> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'eas-s3rver-'));
  const server = new S3rver({ port: 0, address: '127.0.0.1', silent: true, directory: dir, configureBuckets: buckets.map((name) => ({ name })) });
  const { port } = await server.run();
  return {
    endpoint: `http://127.0.0.1:${port}`,
    async close(): Promise<void> {
      await server.close();
      await fs.rm(dir, { recursive: true, force: true });
    },
  };
}

/** Sets env vars for the duration of a suite; returns the function that restores them. */
export function setEnv(vars: Record<string, string>): () => void {
  const saved: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(vars)) {
    saved[k] = process.env[k];
    process.env[k] = v;
  }
  return () => {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  };
}
