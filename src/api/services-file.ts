import * as fs from 'node:fs';
import { BenchError, RegisteredService, ServicesFile, formatServicesFile, parseServicesFile, withService } from '../contract';
import { writePrivateFile } from './private-file';

/**
 * The user's service registry on disk (`~/.eas/services.json`), as the CLI
 * reads and writes it; the embedded controller reads the same file with the
 * contract's parser.
 */

/** The registry, or an empty one when the file does not exist yet. */
export function readServicesFile(file: string): ServicesFile {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { services: [] };
    throw new BenchError('InvalidParameter', `cannot read services file ${file}: ${(err as Error).message}`, { resource: file });
  }
  try {
    return parseServicesFile(text);
  } catch (err) {
    throw new BenchError('InvalidParameter', `services file ${file}: ${(err as Error).message}`, { resource: file });
  }
}

/** Adds `service` (replacing one of the same name); the file is 0600, as it may hold tokens. Returns whether one was replaced. */
export function addService(file: string, service: RegisteredService): boolean {
  const current = readServicesFile(file);
  const replaced = current.services.some((s) => s.name === service.name);
  try {
    writePrivateFile(file, formatServicesFile(withService(current, service)));
  } catch (err) {
    throw new BenchError('InvalidParameter', `cannot write services file ${file}: ${(err as Error).message}`, { resource: file });
  }
  return replaced;
}
