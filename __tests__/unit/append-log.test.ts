import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { AppendIo, AppendLog, nodeAppendIo } from '../../controller/tasks/append-log';

/** Real files, with a disk that can be made full: a write then lands only its first bytes and fails with ENOSPC. */
function diskWithLimit(): { io: AppendIo; full: (yes: boolean) => void; truncateFails: (yes: boolean) => void } {
  let isFull = false;
  let failTruncate = false;
  const enospc = (): Error => Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
  return {
    io: {
      size: nodeAppendIo.size,
      append(file, text) {
        if (!isFull) return nodeAppendIo.append(file, text);
        fs.appendFileSync(file, text.slice(0, Math.ceil(text.length / 2)));
        throw enospc();
      },
      truncate(file, length) {
        if (failTruncate) throw Object.assign(new Error('EIO'), { code: 'EIO' });
        nodeAppendIo.truncate(file, length);
      },
    },
    full: (yes) => (isFull = yes),
    truncateFails: (yes) => (failTruncate = yes),
  };
}

const readLines = (file: string): string[] => fs.readFileSync(file, 'utf8').split('\n').filter(Boolean);
const parseable = (file: string): unknown[] => readLines(file).flatMap((line) => {
  try {
    return [JSON.parse(line) as unknown];
  } catch {
    return [];
  }
});

let file: string;
beforeEach(() => {
  file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'append-log-')), 'round-1.seconds.ndjson');
});

test('a write that fails is cut back to whole lines; its lines wait and go out in order', () => {
  const disk = diskWithLimit();
  const log = new AppendLog(file, disk.io);
  expect(log.append(['{"t":1}'])).toEqual({ written: true, pending: 0 });
  disk.full(true);
  expect(log.append(['{"t":2}'])).toEqual({ written: false, pending: 1, error: 'ENOSPC' });
  expect(log.append(['{"t":3}', '{"t":4}'])).toEqual({ written: false, pending: 3, error: 'ENOSPC' });
  // nothing torn is left on disk while it is full
  expect(fs.readFileSync(file, 'utf8')).toBe('{"t":1}\n');
  expect(log.waiting()).toEqual(['{"t":2}', '{"t":3}', '{"t":4}']);
  disk.full(false);
  expect(log.append(['{"t":5}'])).toEqual({ written: true, pending: 0 });
  expect(readLines(file)).toEqual(['{"t":1}', '{"t":2}', '{"t":3}', '{"t":4}', '{"t":5}']);
});

test('flush alone writes the waiting lines once the disk has room', () => {
  const disk = diskWithLimit();
  const log = new AppendLog(file, disk.io);
  disk.full(true);
  log.append(['{"t":1}']);
  expect(log.flush().written).toBe(false);
  disk.full(false);
  expect(log.flush()).toEqual({ written: true, pending: 0 });
  expect(log.pendingLines).toBe(0);
  expect(readLines(file)).toEqual(['{"t":1}']);
});

test('a torn tail that cannot be cut back stays on its own line and loses no whole line', () => {
  const disk = diskWithLimit();
  const log = new AppendLog(file, disk.io);
  log.append(['{"t":1}']);
  disk.full(true);
  disk.truncateFails(true);
  log.append(['{"t":2}']);
  disk.full(false);
  disk.truncateFails(false);
  expect(log.append(['{"t":3}']).written).toBe(true);
  expect(parseable(file)).toEqual([{ t: 1 }, { t: 2 }, { t: 3 }]);
  // and a later failure cuts back to the real end of the file, not to a count that missed the torn bytes
  disk.full(true);
  log.append(['{"t":4}']);
  disk.full(false);
  log.flush();
  expect(parseable(file)).toEqual([{ t: 1 }, { t: 2 }, { t: 3 }, { t: 4 }]);
});

test('an existing file is appended to, not rewritten', () => {
  fs.writeFileSync(file, '{"t":0}\n');
  const disk = diskWithLimit();
  const log = new AppendLog(file, disk.io);
  disk.full(true);
  log.append(['{"t":1}']);
  disk.full(false);
  log.flush();
  expect(readLines(file)).toEqual(['{"t":0}', '{"t":1}']);
});
