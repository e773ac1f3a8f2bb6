import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { ReportStore } from './index';
import { isInside } from './paths';

/** Reports on the controller's disk, served by the controller at /reports/. */
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
    await fs.mkdir(path.dirname(file), { recursive: true });
    const tmp = `${file}.tmp`;
    await fs.writeFile(tmp, body);
    await fs.rename(tmp, file);
  }

  async url(key: string): Promise<string> {
    return `${this.publicUrl()}/reports/${key.split('/').map(encodeURIComponent).join('/')}`;
  }

  async delete(key: string): Promise<void> {
    await fs.rm(this.resolve(key), { force: true });
  }
}
