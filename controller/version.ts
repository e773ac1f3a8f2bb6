import * as fs from 'node:fs';
import * as path from 'node:path';

/**
 * The eas-bench version of this controller, from the package.json above this
 * file (controller/ under ts-jest, dist/controller/ when built), read once.
 */
let cached: string | undefined;

export function controllerVersion(from: string = __dirname): string {
  if (cached !== undefined) return cached;
  cached = 'unknown';
  for (let dir = from; ; dir = path.dirname(dir)) {
    const file = path.join(dir, 'package.json');
    if (fs.existsSync(file)) {
      try {
        const pkg = JSON.parse(fs.readFileSync(file, 'utf8')) as { name?: unknown; version?: unknown };
        if (pkg.name === 'eas-bench' && typeof pkg.version === 'string') cached = pkg.version;
      } catch {
        // an unreadable package.json leaves the version unknown; health must still answer
      }
      if (cached !== 'unknown') break;
    }
    if (path.dirname(dir) === dir) break;
  }
  return cached;
}
