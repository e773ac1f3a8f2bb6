import { BenchError } from '../../src/contract';
import * as fs from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { DataLimits, reasonOf, sourceError, tooBig } from './limits';

/** A local path or `file://` URL (an extension: the reference reads only remote sources). */
export async function readLocal(source: string, limits: DataLimits): Promise<Buffer> {
  let file = source;
  try {
    if (source.startsWith('file://')) file = fileURLToPath(source);
    const stat = await fs.stat(file);
    if (!stat.isFile()) throw sourceError(source, 'not a file');
    if (stat.size > limits.maxSourceBytes) throw sourceError(source, tooBig(limits.maxSourceBytes));
    return await fs.readFile(file);
  } catch (err) {
    if (err instanceof BenchError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    throw sourceError(source, code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : reasonOf(err));
  }
}
