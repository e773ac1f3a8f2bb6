import * as fs from 'node:fs';
import * as path from 'node:path';

/**
 * Writes a file that holds a secret (the config's key, a service's token)
 * atomically: a temporary file created with mode 0600, then renamed over the
 * old one, so a crash never leaves half a file and the secret is never
 * readable by others, not even for an instant. Its folder is created 0700.
 * Throws the fs error; the caller names the file in its own error.
 */
export function writePrivateFile(file: string, text: string): void {
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    fs.writeFileSync(tmp, text, { mode: 0o600 });
    // writeFileSync's mode is filtered by the umask only towards stricter; make it exact.
    fs.chmodSync(tmp, 0o600);
    fs.renameSync(tmp, file);
  } catch (err) {
    fs.rmSync(tmp, { force: true });
    throw err;
  }
}
