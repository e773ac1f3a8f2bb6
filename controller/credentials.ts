import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { writeFileAtomic } from './tasks/store';

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
  if (!explicitFile && !fs.existsSync(file)) {
    created = { id: `LTAI${randomBytes(10).toString('hex')}`, secret: randomBytes(24).toString('base64url') };
    fs.mkdirSync(path.dirname(file), { recursive: true });
    writeFileAtomic(file, JSON.stringify({ keys: [created] }, null, 2));
    fs.chmodSync(file, 0o600);
  }
  const parsed = JSON.parse(fs.readFileSync(file, 'utf8')) as CredentialsFile;
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
