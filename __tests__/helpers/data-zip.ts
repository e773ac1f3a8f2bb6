import * as zlib from 'node:zlib';

/** One file of a zip the tests build; `rawSize` lets a test lie in the headers. */
export interface ZipInput {
  name: string;
  body: Buffer | string;
  method?: 'store' | 'deflate';
  /** Uncompressed size to write in the headers instead of the real one. */
  claimedSize?: number;
}

/** A minimal zip writer (no zip64, no data descriptors), enough to build test archives in memory. */
export function buildZip(files: ZipInput[]): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const file of files) {
    const body = Buffer.isBuffer(file.body) ? file.body : Buffer.from(file.body);
    const deflate = (file.method ?? 'deflate') === 'deflate' && !file.name.endsWith('/');
    const packed = deflate ? zlib.deflateRawSync(body) : body;
    const name = Buffer.from(file.name, 'utf8');
    const crc = zlib.crc32(body);
    const size = file.claimedSize ?? body.length;

    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(0x800, 6);
    local.writeUInt16LE(deflate ? 8 : 0, 8);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(packed.length, 18);
    local.writeUInt32LE(size, 22);
    local.writeUInt16LE(name.length, 26);
    locals.push(local, name, packed);

    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(0x800, 8);
    central.writeUInt16LE(deflate ? 8 : 0, 10);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(packed.length, 20);
    central.writeUInt32LE(size, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt32LE(offset, 42);
    centrals.push(central, name);

    offset += 30 + name.length + packed.length;
  }
  const cd = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(files.length, 8);
  end.writeUInt16LE(files.length, 10);
  end.writeUInt32LE(cd.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, cd, end]);
}
