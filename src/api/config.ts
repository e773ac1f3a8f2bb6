import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as ini from 'ini';
import { BenchError } from '../contract';
import { normalizeEndpoint } from './client';
import { writePrivateFile } from './private-file';

/**
 * The client's configuration file (SPEC 2.1): INI, section `[default]`,
 * keys access_id, access_key, endpoint, region. It holds a secret, so it is
 * written with mode 0600 in a 0700 directory.
 */

export interface EasConfig {
  accessId: string;
  accessKey: string;
  endpoint: string;
  region: string;
}

export const DEFAULT_REGION = 'cn-local';
export const DEFAULT_ENDPOINT = 'http://127.0.0.1:8020';
export const CONFIG_ENV = 'EASCMD_CONFIG';
const SECTION = 'default';

export type ConfigSource = 'flag' | 'env' | 'default';

export interface ConfigLocation {
  path: string;
  source: ConfigSource;
}

/** `~/.eas` of the current user (tests point HOME elsewhere). */
export function easDir(home: string = os.homedir()): string {
  return path.join(home, '.eas');
}

export function defaultConfigPath(home: string = os.homedir()): string {
  return path.join(easDir(home), 'config');
}

/** A leading `~/` is expanded: a quoted `-c '~/x'` reaches us unexpanded. */
export function expandHome(file: string, home: string = os.homedir()): string {
  if (file === '~') return home;
  if (file.startsWith('~/')) return path.join(home, file.slice(2));
  return file;
}

/** `~/...` for paths under the home directory, so printed lines stay short. */
export function tildify(file: string, home: string = os.homedir()): string {
  const rel = path.relative(home, file);
  return rel && !rel.startsWith('..') && !path.isAbsolute(rel) ? `~/${rel}` : file;
}

/** -c/--config wins over EASCMD_CONFIG, which wins over ~/.eas/config. */
export function resolveConfigPath(flag: string | undefined, env: NodeJS.ProcessEnv, home: string = os.homedir()): ConfigLocation {
  if (flag) return { path: path.resolve(expandHome(flag, home)), source: 'flag' };
  const fromEnv = env[CONFIG_ENV];
  if (fromEnv) return { path: path.resolve(expandHome(fromEnv, home)), source: 'env' };
  return { path: defaultConfigPath(home), source: 'default' };
}

function configError(file: string, message: string): BenchError {
  return new BenchError('InvalidParameter', `config file ${file}: ${message}; rewrite it with: eascmd config -i AK -k SK -e ENDPOINT`, { resource: file });
}

function requiredString(section: Record<string, unknown>, key: string, file: string): string {
  const value = section[key];
  if (typeof value !== 'string' || value.trim() === '') throw configError(file, `missing ${key} in [${SECTION}]`);
  return value.trim();
}

/** Parses the text of a config file. */
export function parseConfig(text: string, file: string): EasConfig {
  const parsed = ini.parse(text) as Record<string, unknown>;
  const section = parsed[SECTION];
  if (typeof section !== 'object' || section === null) throw configError(file, `no [${SECTION}] section`);
  const values = section as Record<string, unknown>;
  const region = values.region;
  let endpoint: string;
  try {
    endpoint = normalizeEndpoint(requiredString(values, 'endpoint', file));
  } catch (err) {
    if (err instanceof BenchError && err.resource === file) throw err;
    throw configError(file, err instanceof Error ? err.message : String(err));
  }
  return {
    accessId: requiredString(values, 'access_id', file),
    accessKey: requiredString(values, 'access_key', file),
    endpoint,
    region: typeof region === 'string' && region.trim() !== '' ? region.trim() : DEFAULT_REGION,
  };
}

/** The configuration, or undefined when the file does not exist. */
export function readConfig(file: string): EasConfig | undefined {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new BenchError('InvalidParameter', `cannot read config file ${file}: ${(err as Error).message}`, { resource: file });
  }
  return parseConfig(text, file);
}

/**
 * Writes the `[default]` section (other sections are kept) atomically: a
 * temporary file created with mode 0600, then renamed over the old one, so a
 * crash never leaves a half-written file and the secret is never readable by
 * others, not even for an instant.
 */
export function writeConfig(file: string, config: EasConfig): void {
  let existing: Record<string, unknown> = {};
  try {
    existing = ini.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
  } catch {
    existing = {};
  }
  const next = {
    ...existing,
    [SECTION]: {
      access_id: config.accessId,
      access_key: config.accessKey,
      endpoint: normalizeEndpoint(config.endpoint),
      region: config.region || DEFAULT_REGION,
    },
  };
  try {
    writePrivateFile(file, ini.stringify(next, { whitespace: true }));
  } catch (err) {
    throw new BenchError('InvalidParameter', `cannot write config file ${file}: ${(err as Error).message}`, { resource: file });
  }
}
