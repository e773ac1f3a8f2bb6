import * as os from 'node:os';
import { createReportStore } from '../../controller/storage';
import { S3ReportStore } from '../../controller/storage/s3-store';
import { RunningS3rver, S3RVER_CREDENTIALS, setEnv, startS3rver } from '../helpers/s3rver';

describe('S3 report store against s3rver', () => {
  let server: RunningS3rver;
  let endpoint: string;
  let restoreEnv: () => void;
  const stores: S3ReportStore[] = [];
  const dir = os.tmpdir();

  beforeAll(async () => {
    server = await startS3rver(['reports']);
    endpoint = server.endpoint;
    restoreEnv = setEnv(S3RVER_CREDENTIALS);
  });

  afterAll(async () => {
    for (const s of stores) s.close();
    restoreEnv();
    await server.close();
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
