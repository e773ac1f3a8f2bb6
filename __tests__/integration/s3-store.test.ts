import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { createReportStore } from '../../controller/storage';
import { S3ReportStore } from '../../controller/storage/s3-store';

/** The slice of s3rver's API we use (the package ships no types). */
interface S3rverServer {
  run(): Promise<{ address: string; port: number }>;
  close(): Promise<void>;
}
type S3rverCtor = new (options: {
  port: number;
  address: string;
  silent: boolean;
  directory: string;
  configureBuckets: { name: string }[];
}) => S3rverServer;
// eslint-disable-next-line @typescript-eslint/no-require-imports
const S3rver = require('s3rver') as S3rverCtor;

// s3rver accepts any signature made with its default key pair
const CREDS = { AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER' };

describe('S3 report store against s3rver', () => {
  let dir: string;
  let server: S3rverServer;
  let endpoint: string;
  const saved: Record<string, string | undefined> = {};
  const stores: S3ReportStore[] = [];

  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'eas-s3-'));
    server = new S3rver({ port: 0, address: '127.0.0.1', silent: true, directory: dir, configureBuckets: [{ name: 'reports' }] });
    const { port } = await server.run();
    endpoint = `http://127.0.0.1:${port}`;
    for (const [k, v] of Object.entries(CREDS)) {
      saved[k] = process.env[k];
      process.env[k] = v;
    }
  });

  afterAll(async () => {
    for (const s of stores) s.close();
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    await server.close();
    await fs.rm(dir, { recursive: true, force: true });
  });

  function store(query = ''): S3ReportStore {
    const s = createReportStore(`s3://reports/bench/out?endpoint=${endpoint}&forcePathStyle=true${query}`, {
      dataDir: dir,
      publicUrl: () => 'http://unused',
    });
    expect(s).toBeInstanceOf(S3ReportStore);
    stores.push(s as S3ReportStore);
    return s as S3ReportStore;
  }

  test('a report put through the store is readable at its presigned URL, and gone after delete', async () => {
    const s = store();
    const key = 'summary/demo-1.html';
    const body = '<!DOCTYPE html><html><body>report 1</body></html>';
    await s.put(key, Buffer.from(body), 'text/html; charset=utf-8');

    const url = await s.url(key);
    expect(url).toContain(`${endpoint}/reports/bench/out/summary/demo-1.html?`);
    expect(url).toContain('X-Amz-Expires=604800');
    const got = await fetch(url);
    expect(got.status).toBe(200);
    expect(got.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(await got.text()).toBe(body);

    await s.delete(key);
    const gone = await fetch(url);
    expect([403, 404]).toContain(gone.status);
  });

  test('public=true hands out a plain path-style URL', async () => {
    const s = store('&public=true');
    await s.put('summary/demo-2.json', Buffer.from('{"ok":true}'), 'application/json');
    expect(await s.url('summary/demo-2.json')).toBe(`${endpoint}/reports/bench/out/summary/demo-2.json`);
    await s.delete('summary/demo-2.json');
  });
});
