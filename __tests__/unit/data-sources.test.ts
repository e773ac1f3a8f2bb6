import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { BenchError, DataSpec } from '../../src/contract';
import { DEFAULT_DATA_LIMITS, DataLimits, DataPolicy, loadEntries, splitLines } from '../../controller/data';
import { leavesFolder } from '../../controller/data/zip';
import { readOss } from '../../controller/data/oss';
import { buildZip } from '../helpers/data-zip';

let dir: string;
// the temp dir is the one data root of these tests
let inDir: DataPolicy;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'eas-bench-data-'));
  inDir = { roots: [dir], excluded: [], allowPrivate: false };
});
afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

function write(name: string, body: Buffer | string): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, body);
  return file;
}

const load = (data: DataSpec, limits: DataLimits = DEFAULT_DATA_LIMITS): Promise<Buffer[]> => loadEntries(data, limits, inDir);

async function failure(promise: Promise<unknown>): Promise<BenchError> {
  try {
    await promise;
  } catch (err) {
    expect(err).toBeInstanceOf(BenchError);
    const e = err as BenchError;
    expect(e.code).toBe('DataSourceFailed');
    expect(e.field).toBe('data.path');
    return e;
  }
  throw new Error('expected loadEntries to fail');
}

const text = (bufs: Buffer[]) => bufs.map((b) => b.toString());

describe('local files and multiLine', () => {
  test('multiLine splits on \\n and \\r\\n and drops empty lines', async () => {
    const file = write('lines.txt', 'a\r\nb\n\r\n\nc\r\n');
    expect(text(await load({ path: file, multiLine: true }))).toEqual(['a', 'b', 'c']);
    expect(text(splitLines(Buffer.from('x\r\ny')))).toEqual(['x', 'y']);
  });

  test('without multiLine a file is one entry, bytes unchanged', async () => {
    const file = write('one.json', '{"a":1}\r\n');
    expect(text(await load({ path: file }))).toEqual(['{"a":1}\r\n']);
  });

  test('comma-separated sources are concatenated in order', async () => {
    const a = write('a.txt', 'A');
    const b = write('b.txt', 'B');
    expect(text(await load({ path: `${a}, ${b}` }))).toEqual(['A', 'B']);
  });

  test('an empty file fails and names the source', async () => {
    const file = write('empty.txt', '');
    const e = await failure(load({ path: file }));
    expect(e.message).toBe(`data source ${file}: empty file`);
    expect(e.resource).toBe(file);
  });

  test('a missing file fails with "no such file"', async () => {
    const file = path.join(dir, 'missing.txt');
    expect((await failure(load({ path: file }))).message).toBe(`data source ${file}: no such file`);
  });

  test('an unknown scheme fails clearly', async () => {
    const e = await failure(load({ path: 'ftp://host/x.txt' }));
    expect(e.message).toMatch(/^data source ftp:\/\/host\/x\.txt: unknown scheme "ftp"/);
  });

  test('a file over maxSourceBytes is too big', async () => {
    const file = write('big.txt', 'x'.repeat(100));
    const limits: DataLimits = { ...DEFAULT_DATA_LIMITS, maxSourceBytes: 10 };
    expect((await failure(load({ path: file }, limits))).message).toBe(`data source ${file}: too big (> 10 bytes)`);
  });

  test('more lines than maxEntries fail', async () => {
    const file = write('many.txt', 'a\nb\nc\n');
    const e = await failure(load({ path: file, multiLine: true }, { ...DEFAULT_DATA_LIMITS, maxEntries: 2 }));
    expect(e.message).toMatch(/more than the limit of 2 entries/);
  });
});

describe('zip', () => {
  test('each file of a zip is an entry, directories skipped, stored and deflated', async () => {
    const file = write(
      'ok.zip',
      buildZip([
        { name: 'dir/', body: '' },
        { name: 'dir/a.json', body: '{"a":1}' },
        { name: 'b.json', body: '{"b":2}', method: 'store' },
      ]),
    );
    expect(text(await load({ path: file }))).toEqual(['{"a":1}', '{"b":2}']);
  });

  test('multiLine applies to each unpacked file', async () => {
    const file = write('lines.zip', buildZip([{ name: 'x.txt', body: '1\r\n2\r\n' }, { name: 'y.txt', body: '3\n\n4' }]));
    expect(text(await load({ path: file, multiLine: true }))).toEqual(['1', '2', '3', '4']);
  });

  test.each([
    ['../evil.txt'],
    ['a/../../evil.txt'],
    ['/etc/passwd'],
    ['C:/evil.txt'],
    ['a\\..\\evil.txt'],
  ])('zip slip: entry %s is refused', async (name) => {
    const file = write('slip.zip', buildZip([{ name: 'fine.txt', body: 'x' }, { name, body: 'x' }]));
    const e = await failure(load({ path: file }));
    expect(e.message).toBe(`data source ${file}: zip entry "${name}" leaves the folder (absolute path, "..", or backslash)`);
  });

  test('names that only look odd stay inside the folder', () => {
    expect(leavesFolder('a/..b/c..txt')).toBe(false);
    expect(leavesFolder('./a.txt')).toBe(false);
  });

  test('zip bomb: inflating stops at maxTotalBytes even when the headers claim a small size', async () => {
    const file = write('bomb.zip', buildZip([{ name: 'zeros.bin', body: Buffer.alloc(10 * 1024 * 1024), claimedSize: 10 }]));
    expect(fs.statSync(file).size).toBeLessThan(20 * 1024);
    const limits: DataLimits = { ...DEFAULT_DATA_LIMITS, maxTotalBytes: 1024 * 1024 };
    const e = await failure(load({ path: file }, limits));
    expect(e.message).toBe(`data source ${file}: zip unpacks to more than ${1024 * 1024} bytes`);
  });

  test('zip bomb: the budget is shared by all files of the archive', async () => {
    const file = write('bombs.zip', buildZip([{ name: 'a', body: Buffer.alloc(600) }, { name: 'b', body: Buffer.alloc(600) }]));
    const e = await failure(load({ path: file }, { ...DEFAULT_DATA_LIMITS, maxTotalBytes: 1000 }));
    expect(e.message).toMatch(/zip unpacks to more than 1000 bytes/);
  });

  test('a zip with more files than maxEntries is refused before unpacking', async () => {
    const file = write('many.zip', buildZip(['a', 'b', 'c'].map((name) => ({ name, body: name }))));
    const e = await failure(load({ path: file }, { ...DEFAULT_DATA_LIMITS, maxEntries: 2 }));
    expect(e.message).toBe(`data source ${file}: zip has 3 entries, more than the limit of 2`);
  });

  test('a .zip that is not a zip fails with "not a zip"', async () => {
    const file = write('fake.zip', 'just some text, not an archive');
    expect((await failure(load({ path: file }))).message).toBe(`data source ${file}: not a zip`);
  });

  test('a corrupted entry fails the CRC check', async () => {
    const zip = buildZip([{ name: 'a.txt', body: 'hello', method: 'store' }]);
    zip[30 + 'a.txt'.length] = 'j'.charCodeAt(0);
    const file = write('crc.zip', zip);
    expect((await failure(load({ path: file }))).message).toMatch(/CRC mismatch/);
  });

  test('an empty file inside a zip names the entry', async () => {
    const file = write('emptyentry.zip', buildZip([{ name: 'e.txt', body: '' }]));
    expect((await failure(load({ path: file }))).message).toBe(`data source ${file}: zip entry "e.txt": empty file`);
  });
});

describe('oss', () => {
  test('missing credentials fail before any request', async () => {
    const e = await failure(readOss('oss://bucket/key.txt', DEFAULT_DATA_LIMITS, {}));
    expect(e.message).toBe('data source oss://bucket/key.txt: OSS_ACCESS_KEY_ID and OSS_ACCESS_KEY_SECRET must be set');
  });

  test('a malformed oss URL is refused', async () => {
    const e = await failure(readOss('oss://bucket-only', DEFAULT_DATA_LIMITS, { OSS_ACCESS_KEY_ID: 'a', OSS_ACCESS_KEY_SECRET: 'b' }));
    expect(e.message).toBe('data source oss://bucket-only: expected oss://bucket/key');
  });
});
