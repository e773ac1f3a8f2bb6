import * as fs from 'node:fs';

/**
 * `eascmd controller logs [-f]`: the last lines of a log file, then (with
 * -f) what is appended to it, as `tail -f` does, until CTRL+C. A file that
 * is truncated or replaced (rotated) is read again from its start.
 */

/** The last `count` lines of `text` (all of them for 0), each with its newline. */
export function lastLines(text: string, count: number): string {
  if (count <= 0 || text === '') return text;
  const lines = text.split('\n');
  // a final newline leaves an empty last element: it is not a line
  const ends = lines[lines.length - 1] === '' ? lines.length - 1 : lines.length;
  return lines.slice(Math.max(0, ends - count)).join('\n');
}

function readFrom(file: string, offset: number): { text: string; size: number } {
  const fd = fs.openSync(file, 'r');
  try {
    const size = fs.fstatSync(fd).size;
    if (size <= offset) return { text: '', size };
    const buffer = Buffer.alloc(size - offset);
    const read = fs.readSync(fd, buffer, 0, buffer.length, offset);
    return { text: buffer.subarray(0, read).toString('utf8'), size: offset + read };
  } finally {
    fs.closeSync(fd);
  }
}

export interface FollowOptions {
  /** How often the file is looked at, ms. */
  pollMs: number;
  /** Resolves when following should end (CTRL+C). */
  until: Promise<void>;
}

/** Prints what is appended to `file` from `offset` on, until `until` resolves. */
export async function followFile(file: string, offset: number, write: (text: string) => void, options: FollowOptions): Promise<void> {
  let position = offset;
  let ino = fs.existsSync(file) ? fs.statSync(file).ino : -1;
  let stopped = false;
  void options.until.then(() => (stopped = true));
  while (!stopped) {
    await Promise.race([new Promise((resolve) => setTimeout(resolve, options.pollMs)), options.until]);
    if (stopped) break;
    let stat: fs.Stats;
    try {
      stat = fs.statSync(file);
    } catch {
      continue; // rotated away: wait for the new file
    }
    if (stat.ino !== ino || stat.size < position) {
      ino = stat.ino;
      position = 0;
    }
    const { text, size } = readFrom(file, position);
    position = size;
    if (text) write(text);
  }
}

/** The whole file and its size, or undefined when it does not exist. */
export function readLog(file: string): { text: string; size: number } | undefined {
  if (!fs.existsSync(file)) return undefined;
  return readFrom(file, 0);
}
