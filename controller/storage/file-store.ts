import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ReportStore } from './report-store';
import { assertRealDirs, mkdirReal, openNoFollow } from './no-follow';
import { isInside } from './paths';

/**
 * Reports on the controller's disk, served by the controller at /reports/.
 * Below the root no link is followed, in writing, deleting or serving
 * (`servable`): a link planted there reaches nothing outside.
 */
export class FileReportStore implements ReportStore {
  readonly kind = 'file' as const;

  constructor(readonly root: string, private readonly publicUrl: () => string) {}

  /** Refuses keys that would leave the root. */
  resolve(key: string): string {
    const file = path.resolve(this.root, key);
    if (!isInside(this.root, file)) throw new Error(`report key ${key} leaves the store`);
    return file;
  }

  async put(key: string, body: Buffer): Promise<void> {
    const file = this.resolve(key);
    mkdirReal(this.root, path.dirname(file));
    const tmp = `${file}.tmp`;
    const handle = await fs.promises.open(tmp, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_TRUNC | (fs.constants.O_NOFOLLOW ?? 0), 0o600);
    try {
      await handle.writeFile(body);
    } finally {
      await handle.close();
    }
    // rename replaces a link at `file` itself, never what it points at
    await fs.promises.rename(tmp, file);
  }

  async url(key: string): Promise<string> {
    return `${this.publicUrl()}/reports/${key.split('/').map(encodeURIComponent).join('/')}`;
  }

  async delete(key: string): Promise<void> {
    const file = this.resolve(key);
    // through a linked folder, rm would remove a file outside
    assertRealDirs(this.root, path.dirname(file));
    await fs.promises.rm(file, { force: true });
  }

  /**
   * Whether the file at `relative` (a decoded URL path below the root) may be
   * served: inside the root, every folder on the way a real one, and the file
   * itself a regular file, not a link.
   */
  servable(relative: string): boolean {
    let file: string;
    try {
      file = this.resolve(relative.replace(/^\/+/, ''));
      assertRealDirs(this.root, path.dirname(file));
      const fd = openNoFollow(file, fs.constants.O_RDONLY);
      try {
        return fs.fstatSync(fd).isFile();
      } finally {
        fs.closeSync(fd);
      }
    } catch {
      return false;
    }
  }
}
