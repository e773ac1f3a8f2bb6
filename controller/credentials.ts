import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { readFileNoFollow, writeFileAtomic } from './storage/no-follow';

export interface AccessKey {
  id: string;
  secret: string;
}

export interface CredentialsFile {
  keys: AccessKey[];
}

export interface LoadedCredentials {
  file: string;
  keys: Map<string, string>;
  /** Set when this start generated the file. */
  created?: AccessKey;
}

/**
 * Loads `--credentials FILE`, or `<dataDir>/credentials.json`, generating the
 * latter (mode 0600) with one key on the first start.
 */
export function loadCredentials(dataDir: string, explicitFile?: string): LoadedCredentials {
  const file = explicitFile ?? path.join(dataDir, 'credentials.json');
  let created: AccessKey | undefined;
  // the data dir's own file is never a link followed outside it (a --credentials file is the operator's choice)
  const read = explicitFile ? (f: string) => fs.readFileSync(f, 'utf8') : (f: string) => readFileNoFollow(f);
  if (!explicitFile && !lexists(file)) {
    created = { id: `LTAI${randomBytes(10).toString('hex')}`, secret: randomBytes(24).toString('base64url') };
    fs.mkdirSync(path.dirname(file), { recursive: true });
    writeFileAtomic(file, JSON.stringify({ keys: [created] }, null, 2));
    fs.chmodSync(file, 0o600);
  }
  const parsed = JSON.parse(read(file)) as CredentialsFile;
  if (!Array.isArray(parsed.keys) || parsed.keys.length === 0) throw new Error(`credentials file ${file} has no keys`);
  const keys = new Map<string, string>();
  for (const key of parsed.keys) {
    if (typeof key.id !== 'string' || typeof key.secret !== 'string' || !key.id || !key.secret) {
      throw new Error(`credentials file ${file}: every key needs a string id and secret`);
    }
    keys.set(key.id, key.secret);
  }
  return { file, keys, created };
}

/** Whether anything (a link too, even a dangling one) is at `file`. */
function lexists(file: string): boolean {
  try {
    fs.lstatSync(file);
    return true;
  } catch {
    return false;
  }
}
