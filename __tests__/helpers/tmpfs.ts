import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { tempDir } from './processes';

/** A small real filesystem (tmpfs) that a test can fill to ENOSPC and empty again. */
export interface SmallDisk {
  dir: string;
  /** Writes a filler file until the disk refuses with ENOSPC. */
  fill(): void;
  /** Removes the filler. */
  free(): void;
  unmount(): void;
}

/** Mounts a tmpfs of `bytes` on a fresh temp dir; undefined when this machine does not allow mounts (not root, no CAP_SYS_ADMIN). */
export function mountSmallDisk(bytes: number): SmallDisk | undefined {
  const dir = tempDir('small-disk');
  const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${bytes},mode=0700`, 'tmpfs', dir], { encoding: 'utf8' });
  if (mounted.status !== 0) {
    fs.rmSync(dir, { recursive: true, force: true });
    return undefined;
  }
  const filler = path.join(dir, 'filler.bin');
  return {
    dir,
    fill() {
      const fd = fs.openSync(filler, 'a');
      try {
        // big chunks, then ever smaller ones, so the last free bytes go too
        for (let chunk = 64 * 1024; chunk >= 1; chunk = Math.floor(chunk / 4)) {
          const buf = Buffer.alloc(chunk, 0x61);
          for (;;) {
            try {
              fs.writeSync(fd, buf);
            } catch (err) {
              if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
              break;
            }
          }
        }
      } finally {
        fs.closeSync(fd);
      }
    },
    free() {
      fs.rmSync(filler, { force: true });
    },
    unmount() {
      spawnSync('umount', ['-l', dir]);
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Whether this machine lets the tests mount a tmpfs (checked once, nothing is left mounted). */
export function canMountSmallDisk(): boolean {
  const probe = mountSmallDisk(64 * 1024);
  probe?.unmount();
  return probe !== undefined;
}
