import * as path from 'node:path';
import { BenchError } from '../../src/contract';

/** True when `file` is strictly below `root` (not root itself), after resolving `..`. */
export function isInside(root: string, file: string): boolean {
  const rel = path.relative(path.resolve(root), path.resolve(file));
  return rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel);
}

/**
 * `root/name` for a name that must be one folder or file directly in root:
 * every path built from a task name goes through here, so a name that slipped
 * past validation still cannot reach outside the data dir.
 */
export function childPath(root: string, name: string): string {
  const file = path.join(root, name);
  if (name === '' || name === '.' || name === '..' || /[/\\\0]/.test(name) || path.dirname(file) !== path.normalize(root).replace(/[/\\]+$/, '')) {
    throw new BenchError('InvalidParameter', `"${name}" is not a plain name inside ${root}`, { resource: name });
  }
  return file;
}
