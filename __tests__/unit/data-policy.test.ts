import { execFileSync } from 'node:child_process';
import type { LookupAddress } from 'node:dns';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { CLOSED_DATA_POLICY, DataLookup, DataPolicy, DEFAULT_DATA_LIMITS, isPrivateAddress, loadEntries } from '../../controller/data';
import { dataSourceFailure, entriesText } from '../helpers/data-errors';

const OUTSIDE = "refused by policy: outside the controller's data roots";

describe('local data is read only under the data roots', () => {
  let base: string;
  let root: string;
  let dataDir: string;
  let secret: string;
  let policy: DataPolicy;

  beforeAll(() => {
    base = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'eas-bench-policy-')));
    root = path.join(base, 'root');
    dataDir = path.join(root, 'controller');
    fs.mkdirSync(dataDir, { recursive: true });
    fs.mkdirSync(path.join(base, 'outside'));
    secret = path.join(base, 'outside', 'secret.txt');
    fs.writeFileSync(secret, 'outside-secret');
    fs.writeFileSync(path.join(dataDir, 'credentials.json'), '{"keys":[{"id":"id","secret":"s"}]}');
    fs.writeFileSync(path.join(root, 'req.txt'), 'inside');
    fs.symlinkSync(secret, path.join(root, 'link.txt'));
    fs.symlinkSync(path.join(base, 'outside'), path.join(root, 'out'));
    fs.symlinkSync(root, path.join(base, 'root-link'));
    fs.mkdirSync(path.join(root, 'sub'));
    fs.linkSync(path.join(dataDir, 'credentials.json'), path.join(root, 'hardlink.json'));
    // a root that contains the data dir still excludes it
    policy = { roots: [root], excluded: [dataDir, path.join(dataDir, 'credentials.json')], allowPrivate: false };
  });
  afterAll(() => {
    fs.rmSync(base, { recursive: true, force: true });
  });

  test('a file inside a root is read, as a path or a file:// URL', async () => {
    const file = path.join(root, 'req.txt');
    expect(entriesText(await loadEntries({ path: file }, DEFAULT_DATA_LIMITS, policy))).toEqual(['inside']);
    expect(entriesText(await loadEntries({ path: pathToFileURL(file).href }, DEFAULT_DATA_LIMITS, policy))).toEqual(['inside']);
  });

  test('a root given through a symlink is resolved, and its files are read', async () => {
    const viaLink: DataPolicy = { ...policy, roots: [path.join(base, 'root-link')] };
    expect(entriesText(await loadEntries({ path: path.join(base, 'root-link', 'req.txt') }, DEFAULT_DATA_LIMITS, viaLink))).toEqual(['inside']);
    expect(entriesText(await loadEntries({ path: path.join(root, 'req.txt') }, DEFAULT_DATA_LIMITS, viaLink))).toEqual(['inside']);
  });

  test.each([
    ['/etc/passwd', () => '/etc/passwd'],
    ['/proc/self/environ', () => '/proc/self/environ'],
    ['the credentials file in the data dir under the root', () => path.join(dataDir, 'credentials.json')],
    ['the data dir itself', () => dataDir],
    ['a symlink inside the root to a file outside', () => path.join(root, 'link.txt')],
    ['a file through a symlinked folder inside the root', () => path.join(root, 'out', 'secret.txt')],
    ['root/../outside', () => `${root}/../outside/secret.txt`],
    ['a hard link inside the root to the credentials file', () => path.join(root, 'hardlink.json')],
    ['a file:// URL outside', () => pathToFileURL(secret).href],
  ])('%s is refused by policy', async (_label, source) => {
    const e = await dataSourceFailure(loadEntries({ path: source() }, DEFAULT_DATA_LIMITS, policy));
    expect(e.message).toBe(`data source ${source()}: ${OUTSIDE}`);
    expect(e.resource).toBe(source());
  });

  test('a refusal does not tell whether the file exists', async () => {
    const pairs = [
      [secret, path.join(base, 'outside', 'missing.txt')],
      [path.join(root, 'out', 'secret.txt'), path.join(root, 'out', 'missing.txt')],
      [path.join(dataDir, 'credentials.json'), path.join(dataDir, 'missing.json')],
    ];
    for (const [existing, missing] of pairs) {
      const reasons = await Promise.all([existing, missing].map(async (p) => (await dataSourceFailure(loadEntries({ path: p }, DEFAULT_DATA_LIMITS, policy))).message.slice(`data source ${p}: `.length)));
      expect(reasons).toEqual([OUTSIDE, OUTSIDE]);
    }
  });

  test('a missing file inside a root is "no such file"; a folder or a FIFO is not a file', async () => {
    const missing = path.join(root, 'missing.txt');
    expect((await dataSourceFailure(loadEntries({ path: missing }, DEFAULT_DATA_LIMITS, policy))).message).toBe(`data source ${missing}: no such file`);
    const sub = path.join(root, 'sub');
    expect((await dataSourceFailure(loadEntries({ path: sub }, DEFAULT_DATA_LIMITS, policy))).message).toBe(`data source ${sub}: not a file`);
    const fifo = path.join(root, 'fifo');
    execFileSync('mkfifo', [fifo]);
    expect((await dataSourceFailure(loadEntries({ path: fifo }, DEFAULT_DATA_LIMITS, policy))).message).toBe(`data source ${fifo}: not a file`);
  });

  test('without a root every local path is refused, saying how to allow them', async () => {
    const file = path.join(root, 'req.txt');
    const e = await dataSourceFailure(loadEntries({ path: file }, DEFAULT_DATA_LIMITS, CLOSED_DATA_POLICY));
    expect(e.message).toBe(`data source ${file}: refused by policy: local data paths are not allowed on this controller; start it with --data-root DIR`);
    // the default of loadEntries is the closed policy
    expect((await dataSourceFailure(loadEntries({ path: '/etc/passwd' }))).message).toMatch(/refused by policy: local data paths are not allowed/);
  });
});

describe('addresses data fetches may reach', () => {
  test.each([
    '10.1.2.3', '172.16.0.1', '172.31.255.255', '192.168.1.1', '100.64.0.1', '127.0.0.1', '127.8.9.10', '169.254.169.254', '0.0.0.0',
    '::1', '::', 'fe80::1', 'fc00::1', 'fd12:3456::1', '::ffff:127.0.0.1', '::ffff:10.0.0.1', '::ffff:a9fe:a9fe', '[::1]',
  ])('%s is private', (address) => {
    expect(isPrivateAddress(address)).toBe(true);
  });

  test.each(['8.8.8.8', '172.32.0.1', '100.128.0.1', '192.169.0.1', '2001:4860:4860::8888', '::ffff:8.8.8.8'])('%s is public', (address) => {
    expect(isPrivateAddress(address)).toBe(false);
  });
});

describe('http(s) data sources and private addresses', () => {
  let server: http.Server;
  let port: number;
  const hits: string[] = [];

  /** Every name under example.test is this machine; nothing else resolves (no DNS traffic). */
  const lookup: DataLookup = (hostname, _options, callback) => {
    const table: Record<string, LookupAddress[]> = {
      'data.example.test': [{ address: '127.0.0.1', family: 4 }],
      'files.example.test': [{ address: '127.0.0.1', family: 4 }],
      'internal.example.test': [{ address: '127.0.0.1', family: 4 }],
      'mixed.example.test': [
        { address: '203.0.113.7', family: 4 },
        { address: '127.0.0.1', family: 4 },
      ],
    };
    const addresses = table[hostname];
    if (addresses) callback(null, addresses);
    else callback(Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' }), []);
  };
  const closed: DataPolicy = { ...CLOSED_DATA_POLICY, lookup };
  // the one allowed server of the redirect tests: loopback under its own name only
  const filesOnly: DataPolicy = { ...closed, addressAllowed: (address, hostname) => hostname === 'files.example.test' || !isPrivateAddress(address) };

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      const url = req.url ?? '/';
      hits.push(url);
      const redirects: Record<string, string> = {
        '/to-ip': `http://127.0.0.1:${port}/lines.txt`,
        '/to-ipv6': `http://[::1]:${port}/lines.txt`,
        '/to-name': `http://internal.example.test:${port}/lines.txt`,
        '/to-metadata': 'http://169.254.169.254/latest/meta-data/',
        '/to-file': 'file:///etc/passwd',
        '/to-self': `http://files.example.test:${port}/lines.txt`,
        '/loop': '/loop',
      };
      if (redirects[url]) res.writeHead(302, { location: redirects[url] }).end();
      else if (url === '/lines.txt') res.writeHead(200).end('a\nb\n');
      else res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  beforeEach(() => {
    hits.length = 0;
  });

  const PRIVATE = /^refused by policy: private, loopback or link-local address/;
  const reasonOf = async (source: string, policy: DataPolicy): Promise<string> =>
    (await dataSourceFailure(loadEntries({ path: source }, DEFAULT_DATA_LIMITS, policy))).message.slice(`data source ${source}: `.length);

  test('a data URL on 127.0.0.1 is refused without --allow-private-data and read with it', async () => {
    const source = `http://127.0.0.1:${port}/lines.txt`;
    expect(await reasonOf(source, closed)).toMatch(PRIVATE);
    expect(await reasonOf(`http://[::1]:${port}/lines.txt`, closed)).toMatch(PRIVATE);
    expect(await reasonOf(`http://localhost:${port}/lines.txt`, { ...CLOSED_DATA_POLICY })).toMatch(PRIVATE);
    expect(hits).toEqual([]);
    expect(entriesText(await loadEntries({ path: source, multiLine: true }, DEFAULT_DATA_LIMITS, { ...closed, allowPrivate: true }))).toEqual(['a', 'b']);
  });

  test('a public-looking name that resolves to 127.0.0.1 is refused; the address checked is the one connected to', async () => {
    const source = `http://data.example.test:${port}/lines.txt`;
    expect(await reasonOf(source, closed)).toMatch(PRIVATE);
    expect(hits).toEqual([]);
    // allowed, the same name reaches the server at the address the lookup gave
    expect(entriesText(await loadEntries({ path: source, multiLine: true }, DEFAULT_DATA_LIMITS, { ...closed, allowPrivate: true }))).toEqual(['a', 'b']);
    expect(hits).toEqual(['/lines.txt']);
  });

  test('a name is refused when any of its addresses is private', async () => {
    expect(await reasonOf(`http://mixed.example.test:${port}/lines.txt`, closed)).toMatch(PRIVATE);
  });

  test('redirects are followed and re-checked at every hop', async () => {
    expect(entriesText(await loadEntries({ path: `http://files.example.test:${port}/to-self`, multiLine: true }, DEFAULT_DATA_LIMITS, filesOnly))).toEqual(['a', 'b']);
    hits.length = 0;
    for (const hop of ['/to-ip', '/to-ipv6', '/to-name', '/to-metadata']) {
      expect(await reasonOf(`http://files.example.test:${port}${hop}`, filesOnly)).toMatch(PRIVATE);
    }
    expect(hits).toEqual(['/to-ip', '/to-ipv6', '/to-name', '/to-metadata']);
    expect(await reasonOf(`http://files.example.test:${port}/to-file`, filesOnly)).toBe('refused by policy: redirect to a URL that is not http(s)');
    expect(await reasonOf(`http://files.example.test:${port}/loop`, filesOnly)).toBe('more than 5 redirects');
  });

  test('a name that does not resolve reads like any other connection failure', async () => {
    expect(await reasonOf('http://nowhere.example.test/x.txt', closed)).toBe('could not be fetched');
  });
});
