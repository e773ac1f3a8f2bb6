import { promisify } from 'node:util';
import * as zlib from 'node:zlib';
import { sourceError } from './limits';

const inflateRaw = promisify(zlib.inflateRaw);

const EOCD_SIG = 0x06054b50;
const CENTRAL_SIG = 0x02014b50;
const LOCAL_SIG = 0x04034b50;
const EOCD_MIN = 22;
// the end record sits within the last 22 bytes + a comment of at most 64 KiB
const EOCD_SEARCH = EOCD_MIN + 0xffff;

export interface ZipFile {
  name: string;
  body: Buffer;
}

export interface ZipLimits {
  /** Unpacked bytes the archive may yield; counted while inflating, headers are not trusted. */
  maxUnpackedBytes: number;
  maxFiles: number;
}

/** True for names that would land outside the folder they are unpacked into. */
export function leavesFolder(name: string): boolean {
  if (name.includes('\\') || name.includes('\0')) return true;
  if (name.startsWith('/') || /^[a-zA-Z]:/.test(name)) return true;
  return name.split('/').some((segment) => segment === '..');
}

function findEnd(buf: Buffer): number {
  const stop = Math.max(0, buf.length - EOCD_SEARCH);
  for (let i = buf.length - EOCD_MIN; i >= stop; i--) {
    if (buf.readUInt32LE(i) === EOCD_SIG) return i;
  }
  return -1;
}

/**
 * The files of a zip held in memory, in central-directory order; directories are skipped.
 * Stored and deflated entries only (what zip tools write by default); no zip64, no encryption.
 */
export async function unzip(source: string, buf: Buffer, limits: ZipLimits): Promise<ZipFile[]> {
  const end = buf.length >= EOCD_MIN ? findEnd(buf) : -1;
  if (end < 0) throw sourceError(source, 'not a zip');
  const count = buf.readUInt16LE(end + 10);
  const cdSize = buf.readUInt32LE(end + 12);
  const cdOffset = buf.readUInt32LE(end + 16);
  if (count === 0xffff || cdOffset === 0xffffffff || cdSize === 0xffffffff) throw sourceError(source, 'zip64 archives are not supported');
  if (cdOffset + cdSize > end) throw sourceError(source, 'corrupt zip (central directory out of range)');
  if (count > limits.maxFiles) throw sourceError(source, `zip has ${count} entries, more than the limit of ${limits.maxFiles}`);

  const files: ZipFile[] = [];
  let unpacked = 0;
  let at = cdOffset;
  for (let n = 0; n < count; n++) {
    if (at + 46 > end || buf.readUInt32LE(at) !== CENTRAL_SIG) throw sourceError(source, 'corrupt zip (bad central directory)');
    const flags = buf.readUInt16LE(at + 8);
    const method = buf.readUInt16LE(at + 10);
    const crc = buf.readUInt32LE(at + 16);
    const packedSize = buf.readUInt32LE(at + 20);
    const nameLen = buf.readUInt16LE(at + 28);
    const extraLen = buf.readUInt16LE(at + 30);
    const commentLen = buf.readUInt16LE(at + 32);
    const localOffset = buf.readUInt32LE(at + 42);
    // bit 11: UTF-8 names; older tools write CP437, of which latin1 is the readable part
    const name = buf.toString(flags & 0x800 ? 'utf8' : 'latin1', at + 46, at + 46 + nameLen);
    at += 46 + nameLen + extraLen + commentLen;

    if (leavesFolder(name)) throw sourceError(source, `zip entry "${name}" leaves the folder (absolute path, "..", or backslash)`);
    if (name.endsWith('/')) continue;
    if (flags & 0x1) throw sourceError(source, `zip entry "${name}" is encrypted`);

    if (localOffset + 30 > buf.length || buf.readUInt32LE(localOffset) !== LOCAL_SIG) throw sourceError(source, `corrupt zip (entry "${name}")`);
    const dataStart = localOffset + 30 + buf.readUInt16LE(localOffset + 26) + buf.readUInt16LE(localOffset + 28);
    if (dataStart + packedSize > buf.length) throw sourceError(source, `corrupt zip (entry "${name}" out of range)`);
    const packed = buf.subarray(dataStart, dataStart + packedSize);

    const budget = limits.maxUnpackedBytes - unpacked;
    const bomb = () => sourceError(source, `zip unpacks to more than ${limits.maxUnpackedBytes} bytes`);
    let body: Buffer;
    if (method === 0) {
      if (packed.length > budget) throw bomb();
      body = packed;
    } else if (method === 8) {
      try {
        // maxOutputLength makes zlib stop as soon as the output passes the budget
        body = await inflateRaw(packed, { maxOutputLength: Math.max(1, budget) });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') throw bomb();
        throw sourceError(source, `corrupt zip (entry "${name}": ${(err as Error).message})`);
      }
      if (body.length > budget) throw bomb();
    } else {
      throw sourceError(source, `zip entry "${name}" uses compression method ${method} (only stored and deflate are supported)`);
    }
    if (zlib.crc32(body) !== crc) throw sourceError(source, `corrupt zip (entry "${name}": CRC mismatch)`);
    unpacked += body.length;
    files.push({ name, body });
  }
  return files;
}
