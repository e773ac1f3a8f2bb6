import * as fs from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
import { O_NOFOLLOW, readFileNoFollow } from '../storage/no-follow';

/**
 * Reading the append-only ndjson files of a task: a line torn by a crash
 * mid-write (the last one) is skipped, the lines before it are intact. Files
 * are opened with O_NOFOLLOW; a missing or unreadable file reads as empty.
 */

/** How much of a records file is read at once when its lines are streamed. */
const STREAM_CHUNK_BYTES = 256 * 1024;
const VISIT_CHUNK_BYTES = 1 << 20;

/** A stored line that parses. */
export function isWholeJson(line: string): boolean {
  if (!line) return false;
  try {
    JSON.parse(line);
    return true;
  } catch {
    return false;
  }
}

/** Every whole line of the file, parsed. */
export function readLines<T>(file: string): T[] {
  let text: string;
  try {
    text = readFileNoFollow(file);
  } catch {
    return [];
  }
  const out: T[] = [];
  for (const line of text.split('\n')) {
    if (!line) continue;
    try {
      out.push(JSON.parse(line) as T);
    } catch {
      // a torn line from a crash mid-write: the seconds before it are intact
    }
  }
  return out;
}

/**
 * The file's whole lines, as text, read a chunk at a time up to the size the
 * file had when asked (lines appended meanwhile are the next call's): each
 * chunk is its own read, so the event loop serves others between them and
 * one chunk is all that is held.
 */
export async function* streamWholeLines(file: string): AsyncGenerator<string> {
  let handle: fs.promises.FileHandle;
  try {
    handle = await fs.promises.open(file, fs.constants.O_RDONLY | O_NOFOLLOW);
  } catch {
    return;
  }
  try {
    let left = (await handle.stat()).size;
    const buffer = Buffer.alloc(STREAM_CHUNK_BYTES);
    const decoder = new StringDecoder('utf8');
    let rest = '';
    while (left > 0) {
      const { bytesRead } = await handle.read(buffer, 0, Math.min(buffer.length, left), null);
      if (bytesRead === 0) break;
      left -= bytesRead;
      const lines = (rest + decoder.write(buffer.subarray(0, bytesRead))).split('\n');
      rest = lines.pop() ?? '';
      for (const line of lines) if (isWholeJson(line)) yield line;
    }
    rest += decoder.end();
    if (isWholeJson(rest)) yield rest;
  } finally {
    await handle.close();
  }
}

/** Hands every line of the file (torn ones too: `visit` parses) to `visit`, reading it a chunk at a time. */
export function visitLines(file: string, visit: (line: string) => void): void {
  let fd: number;
  try {
    fd = fs.openSync(file, fs.constants.O_RDONLY | O_NOFOLLOW);
  } catch {
    return;
  }
  try {
    const buffer = Buffer.alloc(VISIT_CHUNK_BYTES);
    const decoder = new StringDecoder('utf8');
    let rest = '';
    for (let n = fs.readSync(fd, buffer); n > 0; n = fs.readSync(fd, buffer)) {
      const lines = (rest + decoder.write(buffer.subarray(0, n))).split('\n');
      rest = lines.pop() ?? '';
      lines.forEach(visit);
    }
    visit(rest + decoder.end());
  } finally {
    fs.closeSync(fd);
  }
}
