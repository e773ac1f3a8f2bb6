import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import * as http from 'node:http';
import * as net from 'node:net';
import { AddressInfo } from 'node:net';
import { DataSpec } from '../../src/contract';
import { CLOSED_DATA_POLICY, DataLimits, DataPolicy, DEFAULT_DATA_LIMITS, loadEntries } from '../../controller/data';
import { buildZip } from '../helpers/data-zip';
import { RunningS3rver, S3RVER_CREDENTIALS, setEnv, startS3rver } from '../helpers/s3rver';
import { dataSourceFailure, entriesText } from '../helpers/data-errors';


describe('http(s) sources against a real server', () => {
  const files: Record<string, Buffer> = {
    '/lines.txt': Buffer.from('a\r\nb\r\n'),
    '/data.zip': buildZip([{ name: 'x.json', body: '{"x":1}' }, { name: 'y.json', body: '{"y":2}' }]),
    '/big.bin': Buffer.alloc(64 * 1024, 0x61),
    '/empty.txt': Buffer.alloc(0),
  };
  let server: http.Server;
  let base: string;
  // the server listens on loopback, which only a controller with --allow-private-data may fetch from
  const privateAllowed: DataPolicy = { ...CLOSED_DATA_POLICY, allowPrivate: true };
  const load = (data: DataSpec, limits: DataLimits = DEFAULT_DATA_LIMITS): Promise<Buffer[]> => loadEntries(data, limits, privateAllowed);

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      const url = req.url ?? '/';
      if (url === '/moved') {
        res.writeHead(302, { location: '/lines.txt' }).end();
        return;
      }
      if (url === '/chunked-big') {
        // no Content-Length: the limit must be enforced on what arrives
        res.writeHead(200);
        for (let i = 0; i < 64; i++) res.write(Buffer.alloc(1024, 0x62));
        res.end();
        return;
      }
      const body = files[url.split('?')[0]];
      if (!body) {
        res.writeHead(404).end('not found');
        return;
      }
      res.writeHead(200, { 'content-length': body.length }).end(body);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  test('a file over http, split by line', async () => {
    expect(entriesText(await load({ path: `${base}/lines.txt`, multiLine: true }))).toEqual(['a', 'b']);
  });

  test('a zip over http is unpacked, the query string does not hide .zip', async () => {
    expect(entriesText(await load({ path: `${base}/data.zip?sig=abc` }))).toEqual(['{"x":1}', '{"y":2}']);
  });

  test('redirects are followed', async () => {
    expect(entriesText(await load({ path: `${base}/moved` }))).toEqual(['a\r\nb\r\n']);
  });

  test('a 404 fails with "HTTP 404"', async () => {
    const source = `${base}/missing.txt`;
    const e = await dataSourceFailure(load({ path: source }));
    expect(e.message).toBe(`data source ${source}: HTTP 404`);
    expect(e.resource).toBe(source);
  });

  test('a body over maxSourceBytes is too big, by Content-Length or while streaming', async () => {
    const limits = { ...DEFAULT_DATA_LIMITS, maxSourceBytes: 1000 };
    for (const p of ['/big.bin', '/chunked-big']) {
      const e = await dataSourceFailure(load({ path: `${base}${p}` }, limits));
      expect(e.message).toBe(`data source ${base}${p}: too big (> 1000 bytes)`);
    }
  });

  test('an empty body fails with "empty file"', async () => {
    expect((await dataSourceFailure(load({ path: `${base}/empty.txt` }))).message).toBe(`data source ${base}/empty.txt: empty file`);
  });

  test('a closed port and an open port that is not HTTP fail with the same message', async () => {
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const closedPort = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const sockets = new Set<net.Socket>();
    const notHttp = net.createServer((socket) => {
      sockets.add(socket);
      socket.end('SSH-2.0-OpenSSH_9.6\r\n');
    });
    await new Promise<void>((resolve) => notHttp.listen(0, '127.0.0.1', resolve));
    const openPort = (notHttp.address() as AddressInfo).port;
    try {
      const reason = async (port: number): Promise<string> => {
        const source = `http://127.0.0.1:${port}/x.txt`;
        return (await dataSourceFailure(load({ path: source }))).message.slice(`data source ${source}: `.length);
      };
      const closedReason = await reason(closedPort);
      expect(closedReason).toBe('could not be fetched');
      expect(await reason(openPort)).toBe(closedReason);
      expect(await reason(1)).toBe(closedReason);
    } finally {
      // the client may leave its half of a failed connection open; close() waits for every socket
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => notHttp.close(() => resolve()));
    }
  });
});

describe('s3:// sources against s3rver', () => {
  let server: RunningS3rver;
  let restoreEnv: () => void;
  let client: S3Client;

  beforeAll(async () => {
    server = await startS3rver(['data']);
    restoreEnv = setEnv({ ...S3RVER_CREDENTIALS, EAS_BENCH_S3_ENDPOINT: server.endpoint });
    client = new S3Client({
      region: 'us-east-1',
      endpoint: server.endpoint,
      forcePathStyle: true,
      credentials: { accessKeyId: S3RVER_CREDENTIALS.AWS_ACCESS_KEY_ID, secretAccessKey: S3RVER_CREDENTIALS.AWS_SECRET_ACCESS_KEY },
    });
    await client.send(new PutObjectCommand({ Bucket: 'data', Key: 'dir/lines.txt', Body: 'one\r\ntwo\n' }));
    await client.send(new PutObjectCommand({ Bucket: 'data', Key: 'set.zip', Body: buildZip([{ name: 'a.txt', body: 'A' }, { name: 'b.txt', body: 'B' }]) }));
  });

  afterAll(async () => {
    client.destroy();
    restoreEnv();
    await server.close();
  });

  test('an object is read, keys keep their slashes', async () => {
    expect(entriesText(await loadEntries({ path: 's3://data/dir/lines.txt', multiLine: true }))).toEqual(['one', 'two']);
  });

  test('a zip object is unpacked', async () => {
    expect(entriesText(await loadEntries({ path: 's3://data/set.zip' }))).toEqual(['A', 'B']);
  });

  test('a missing key fails with "no such key"', async () => {
    expect((await dataSourceFailure(loadEntries({ path: 's3://data/nope.txt' }))).message).toBe('data source s3://data/nope.txt: no such key');
  });

  test('an object over maxSourceBytes is too big', async () => {
    const e = await dataSourceFailure(loadEntries({ path: 's3://data/dir/lines.txt' }, { ...DEFAULT_DATA_LIMITS, maxSourceBytes: 4 }));
    expect(e.message).toBe('data source s3://data/dir/lines.txt: too big (> 4 bytes)');
  });
});
