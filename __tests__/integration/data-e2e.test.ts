import { createHash } from 'node:crypto';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { buildZip } from '../helpers/data-zip';
import { ControllerProcess, FixtureProcess, killAllStarted, lastJson, runEascmd, startController, startFixture, tempDir, writeTask } from '../helpers/processes';
import { RunningS3rver, S3RVER_CREDENTIALS, startS3rver } from '../helpers/s3rver';

const sha = (b: Buffer | string): string => createHash('sha256').update(b).digest('hex');
const binary = Buffer.from(Array.from({ length: 256 }, (_, i) => i));

/** Every data source feeds real requests; the fixture service checks what it received, byte for byte. */
describe('task data end to end', () => {
  let controller: ControllerProcess;
  let fixture: FixtureProcess;
  let s3: RunningS3rver;
  let files: http.Server;
  let filesUrl = '';
  const dir = tempDir('data-e2e');
  const zipped = [Buffer.from('{"zip":1}'), Buffer.from([0, 1, 2, 3, 255, 254])];

  beforeAll(async () => {
    s3 = await startS3rver(['data']);
    const client = new S3Client({ region: 'us-east-1', endpoint: s3.endpoint, forcePathStyle: true, credentials: { accessKeyId: S3RVER_CREDENTIALS.AWS_ACCESS_KEY_ID, secretAccessKey: S3RVER_CREDENTIALS.AWS_SECRET_ACCESS_KEY } });
    await client.send(new PutObjectCommand({ Bucket: 'data', Key: 'req/s3.bin', Body: Buffer.from('from-s3') }));
    client.destroy();
    const routes: Record<string, Buffer> = {
      '/lines.txt': Buffer.from('{"line":1}\r\n{"line":2}\n{"line":3}\n'),
      '/set.zip': buildZip([{ name: 'a.json', body: zipped[0] }, { name: 'dir/b.bin', body: zipped[1] }]),
      '/bin.dat': binary,
      '/big.bin': Buffer.alloc(150_000, 7),
      '/bomb.zip': buildZip([{ name: 'zeros.bin', body: Buffer.alloc(300_000) }]),
      '/slip.zip': buildZip([{ name: '../escape.txt', body: Buffer.from('x') }]),
      '/fake.zip': Buffer.from('not a zip at all'),
    };
    files = http.createServer((req, res) => {
      const body = routes[req.url ?? ''];
      res.writeHead(body ? 200 : 404).end(body ?? 'no');
    });
    await new Promise<void>((r) => files.listen(0, '127.0.0.1', () => r()));
    filesUrl = `http://127.0.0.1:${(files.address() as AddressInfo).port}`;
    fixture = await startFixture(['--latency-ms', '1']);
    controller = await startController({
      // the file server listens on loopback
      args: ['--data-max-source-bytes', '100000', '--data-max-total-bytes', '200000', '--allow-private-data'],
      env: { ...S3RVER_CREDENTIALS, EAS_BENCH_S3_ENDPOINT: s3.endpoint },
    });
  });
  afterAll(async () => {
    await controller?.stop();
    await fixture?.stop();
    await new Promise<void>((r) => files.close(() => r()));
    await s3?.close();
    killAllStarted();
  });

  const runTask = async (data: Record<string, unknown>, requestCount: number) => {
    await fixture.reset();
    const task = writeTask(dir, { service: { serviceName: 'demo', url: `${fixture.url}/p` }, data, optional: { mode: 'manual', concurrency: 1, duration: 60, requestCount } });
    return runEascmd(['-c', controller.configFile, 'bench', 'create', task, '--wait', '--json']);
  };

  test('multiLine http source: each line (\\n or \\r\\n) is one request body, used round-robin', async () => {
    await runTask({ path: `${filesUrl}/lines.txt`, multiLine: true }, 30);
    const bodies = (await fixture.stats()).bodies;
    expect(bodies).toEqual({ [sha('{"line":1}')]: 10, [sha('{"line":2}')]: 10, [sha('{"line":3}')]: 10 });
  });

  test('a zip, a binary file and an s3 object, comma-separated, arrive byte for byte', async () => {
    await runTask({ path: `${filesUrl}/set.zip, ${filesUrl}/bin.dat,s3://data/req/s3.bin` }, 40);
    const bodies = (await fixture.stats()).bodies;
    expect(bodies).toEqual({ [sha(zipped[0])]: 10, [sha(zipped[1])]: 10, [sha(binary)]: 10, [sha('from-s3')]: 10 });
  });

  test('binary data.content is sent exactly', async () => {
    await runTask({ content: binary.toString('base64') }, 5);
    expect((await fixture.stats()).bodies).toEqual({ [sha(binary)]: 5 });
  });

  test.each([
    ['missing', '/missing', 'HTTP 404'],
    ['too big', '/big.bin', 'too big (> 100000 bytes)'],
    ['zip bomb', '/bomb.zip', 'bytes'],
    ['zip slip', '/slip.zip', 'leaves the folder'],
    ['not a zip', '/fake.zip', 'not a zip'],
  ])('%s: the task is CreateFailed with a message naming the source and the reason', async (_label, route, reason) => {
    const res = await runTask({ path: `${filesUrl}${route}` }, 5);
    expect(res.code).toBe(98); // --wait: a task that failed to start has no result (SPEC 7)
    const line = (res.stdout + res.stderr).split('\n').find((l) => l.startsWith('[ERROR]')) ?? '';
    expect(line).toContain(`[ERROR] CreateFailed: data source ${filesUrl}${route}`);
    expect(line).toContain(reason);
    expect((await fixture.stats()).requests).toBe(0);
  });

  test('an unknown scheme is refused', async () => {
    const res = await runTask({ path: 'ftp://example.invalid/x' }, 5);
    expect(res.stdout + res.stderr).toMatch(/\[ERROR\] CreateFailed: data source ftp:\/\/example\.invalid\/x: unknown scheme/);
    void lastJson;
  });
});
