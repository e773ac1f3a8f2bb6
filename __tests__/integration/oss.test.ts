import { DEFAULT_DATA_LIMITS, loadEntries } from '../../controller/data';
import { createReportStore } from '../../controller/storage';
import { FakeOss, startFakeOss } from '../helpers/fake-oss';
import { setEnv } from '../helpers/s3rver';

const ID = 'LTAIfakeossid';
const SECRET = 'fake-oss-secret';

describe('OSS through ali-oss, against a server that checks the signatures', () => {
  let oss: FakeOss;
  let restore: () => void;

  beforeAll(async () => {
    oss = await startFakeOss(ID, SECRET, ['reports', 'data']);
    restore = setEnv({ OSS_ACCESS_KEY_ID: ID, OSS_ACCESS_KEY_SECRET: SECRET, EAS_BENCH_OSS_ENDPOINT: oss.endpoint });
  });
  afterAll(async () => {
    restore();
    await oss.close();
  });

  test('oss:// data sources are read with a valid signature; a missing key is a clear error', async () => {
    oss.objects.set('/data/req/a.bin', { body: Buffer.from([1, 2, 3]), contentType: '' });
    const entries = await loadEntries({ path: 'oss://data/req/a.bin' }, DEFAULT_DATA_LIMITS);
    expect(entries.map((e) => [...e])).toEqual([[1, 2, 3]]);
    expect(oss.log).toContainEqual({ method: 'GET', path: '/data/req/a.bin', signedBy: 'header' });
    await expect(loadEntries({ path: 'oss://data/nope' }, DEFAULT_DATA_LIMITS)).rejects.toThrow('data source oss://data/nope: no such key');
    expect(oss.rejected).toBe(0);
  });

  test('the OSS report store puts signed, gives a signed URL that works, and deletes', async () => {
    // ali-oss signs URLs only for a host name, so the CNAME endpoint is localhost (still loopback)
    const store = createReportStore(`oss://reports/bench?endpoint=${oss.endpoint.replace('127.0.0.1', 'localhost')}&cname=true`, { dataDir: '/tmp', publicUrl: () => '' });
    await store.put('summary/t-10001.html', Buffer.from('<html>report</html>'), 'text/html; charset=utf-8');
    expect(oss.objects.get('/reports/bench/summary/t-10001.html')?.contentType).toBe('text/html; charset=utf-8');
    const url = await store.url('summary/t-10001.html');
    expect(url).toMatch(/OSSAccessKeyId=LTAIfakeossid.*Signature=/);
    const res = await fetch(url);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('<html>report</html>');
    await store.delete('summary/t-10001.html');
    expect(oss.objects.size).toBe(1);
    expect(oss.rejected).toBe(0);
  });

  test('a public store gives http://BUCKET.ENDPOINT/KEY', async () => {
    const store = createReportStore('oss://reports/bench?endpoint=oss-cn-chengdu.aliyuncs.com&public=true', { dataDir: '/tmp', publicUrl: () => '' });
    expect(await store.url('summary/t-10001.html')).toBe('http://reports.oss-cn-chengdu.aliyuncs.com/bench/summary/t-10001.html');
  });
});
