import { ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { BenchError, USER_SERVICES_FILE } from '../contract';
import { ControllerClient } from './client';
import { DEFAULT_ENDPOINT, DEFAULT_REGION, EasConfig, easDir, tildify, writeConfig } from './config';

/**
 * The embedded default (SPEC 2.1): with no config file, the client talks to a
 * local controller at http://127.0.0.1:8020, starting one in the background
 * when nothing answers there, and saves the controller's generated
 * credentials into the config file. A user who has only run `npm install`
 * can therefore run `eascmd bench create task.json`.
 */

export interface EmbeddedOptions {
  /** Where the credentials are saved (the config file that was missing). */
  configPath: string;
  home?: string;
  endpoint?: string;
  startTimeoutMs?: number;
  /** Prints the one line saying what happened. */
  notify: (line: string) => void;
}

interface CredentialsFile {
  keys: { id: string; secret: string }[];
}

export function controllerDataDir(home: string = os.homedir()): string {
  return path.join(easDir(home), 'controller');
}

/** The package root: the directory holding bin/eascmd-controller, from src/ (ts-jest) or dist/src/ (built). */
export function packageRoot(from: string = __dirname): string {
  let dir = from;
  for (;;) {
    if (fs.existsSync(path.join(dir, 'bin', 'eascmd-controller')) && fs.existsSync(path.join(dir, 'package.json'))) return dir;
    const parent = path.dirname(dir);
    if (parent === dir) throw new BenchError('InternalError', `cannot find bin/eascmd-controller above ${from}`);
    dir = parent;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function isCredentialsFile(value: unknown): value is CredentialsFile {
  if (typeof value !== 'object' || value === null) return false;
  const keys = (value as { keys?: unknown }).keys;
  return (
    Array.isArray(keys) &&
    keys.length > 0 &&
    keys.every((k: unknown) => typeof k === 'object' && k !== null && typeof (k as { id?: unknown }).id === 'string' && typeof (k as { secret?: unknown }).secret === 'string')
  );
}

/** Reads the first key of `<data-dir>/credentials.json`, or undefined if it is not there (yet). */
export function readControllerCredentials(file: string): { id: string; secret: string } | undefined {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  try {
    const parsed: unknown = JSON.parse(text);
    return isCredentialsFile(parsed) ? parsed.keys[0] : undefined;
  } catch {
    // Caught while the controller writes it; the caller retries.
    return undefined;
  }
}

/**
 * The local controller's own user owns the machine: it may read task data
 * from the working directory and home of the command that starts it, and
 * from private addresses. The controller keeps running for later commands,
 * so these are the roots of the command that started it, whatever the cwd of
 * the next one; it still never reads its data dir or credentials file.
 */
export function embeddedControllerArgs(home: string, cwd: string = process.cwd()): string[] {
  const roots = [...new Set([path.resolve(cwd), path.resolve(home)])];
  return [...roots.flatMap((root) => ['--data-root', root]), '--allow-private-data', '--services', userServicesFile(home)];
}

/**
 * The user's service registry, `~/.eas/services.json`: the embedded
 * controller resolves `service.serviceName` there (reading it again when it
 * changes), and `eascmd bench service add` writes it.
 */
export function userServicesFile(home: string = os.homedir()): string {
  return path.join(home, ...USER_SERVICES_FILE);
}

function spawnController(dataDir: string, port: string, logFile: string, home: string): ChildProcess {
  const root = packageRoot();
  const built = path.join(root, 'dist', 'controller', 'main.js');
  if (!fs.existsSync(built)) {
    throw new BenchError('ControllerUnreachable', `cannot start a local controller: ${built} is missing (run npm run build in ${root})`);
  }
  const log = fs.openSync(logFile, 'a', 0o600);
  try {
    const child = spawn(process.execPath, [path.join(root, 'bin', 'eascmd-controller'), '--port', port, '--data-dir', dataDir, ...embeddedControllerArgs(home)], {
      // Detached with its own stdio so it outlives this command and owns no terminal.
      detached: true,
      stdio: ['ignore', log, log],
      cwd: dataDir,
      env: process.env,
    });
    return child;
  } finally {
    fs.closeSync(log);
  }
}

/** Waits until /healthz answers; fails early if the child exits (port taken by something else, crash). */
async function waitHealthy(client: ControllerClient, child: ChildProcess, timeoutMs: number, logFile: string): Promise<void> {
  let exited: string | undefined;
  child.once('exit', (code, signal) => {
    exited = signal ? `signal ${signal}` : `code ${code}`;
  });
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await client.health(500)) return;
    // Another eascmd may have won the race for the port: its controller answers.
    if (exited !== undefined) {
      if (await client.health(500)) return;
      throw new BenchError('ControllerUnreachable', `the local controller exited (${exited}) before answering at ${client.endpoint}; see ${logFile}`);
    }
    await sleep(200);
  }
  throw new BenchError('ControllerUnreachable', `the local controller did not answer at ${client.endpoint} within ${Math.round(timeoutMs / 1000)} s; see ${logFile}`);
}

async function waitCredentials(file: string, timeoutMs: number): Promise<{ id: string; secret: string } | undefined> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const key = readControllerCredentials(file);
    if (key || Date.now() >= deadline) return key;
    await sleep(100);
  }
}

export interface LocalPaths {
  home: string;
  dataDir: string;
  logFile: string;
  credentialsFile: string;
  /** Written by eascmd-controller while it runs (its own pid). */
  pidFile: string;
}

export function localPaths(home: string): LocalPaths {
  const dataDir = controllerDataDir(home);
  return {
    home,
    dataDir,
    logFile: path.join(dataDir, 'controller.log'),
    credentialsFile: path.join(dataDir, 'credentials.json'),
    pidFile: path.join(dataDir, 'controller.pid'),
  };
}

/** Starts the local controller unless something answers at `probe`; true when it had to start one. */
async function startUnlessAnswering(probe: ControllerClient, paths: LocalPaths, startTimeoutMs: number): Promise<boolean> {
  if (await probe.health(1000)) return false;
  fs.mkdirSync(paths.dataDir, { recursive: true, mode: 0o700 });
  const child = spawnController(paths.dataDir, new URL(probe.endpoint).port || '80', paths.logFile, paths.home);
  try {
    await waitHealthy(probe, child, startTimeoutMs, paths.logFile);
  } finally {
    child.removeAllListeners('exit');
    child.unref();
  }
  return true;
}

/**
 * Whether a config file is the one the embedded default wrote: the default
 * endpoint and the key of ~/.eas/controller/credentials.json. Such a config
 * restarts its controller when it is down (after a reboot, say), instead of
 * failing with "connection refused" until the user starts it by hand.
 */
export function isEmbeddedConfig(config: EasConfig, home: string = os.homedir()): boolean {
  if (config.endpoint !== DEFAULT_ENDPOINT) return false;
  return readControllerCredentials(localPaths(home).credentialsFile)?.id === config.accessId;
}

/** For an embedded config: starts the local controller again if it is down. Returns true if it did. */
export async function restartEmbeddedIfDown(config: EasConfig, options: { home?: string; startTimeoutMs?: number }): Promise<boolean> {
  const probe = new ControllerClient({ endpoint: config.endpoint, accessId: '-', accessKey: '-' });
  return startUnlessAnswering(probe, localPaths(options.home ?? os.homedir()), options.startTimeoutMs ?? 15_000);
}

/** Makes sure a local controller answers, writes the config file, and returns it. */
export async function ensureEmbeddedController(options: EmbeddedOptions): Promise<EasConfig> {
  const home = options.home ?? os.homedir();
  const endpoint = options.endpoint ?? DEFAULT_ENDPOINT;
  const paths = localPaths(home);
  // Health checks need no credentials.
  const probe = new ControllerClient({ endpoint, accessId: '-', accessKey: '-' });
  const started = await startUnlessAnswering(probe, paths, options.startTimeoutMs ?? 15_000);

  const key = await waitCredentials(paths.credentialsFile, started ? 5000 : 0);
  if (!key) {
    throw new BenchError(
      'Unauthorized',
      `no config file at ${options.configPath}, and the controller at ${endpoint} was not started by eascmd (no ${paths.credentialsFile}); ` +
        `configure its credentials with: eascmd config -i AK -k SK -e ${endpoint}`,
    );
  }
  const config: EasConfig = { accessId: key.id, accessKey: key.secret, endpoint: probe.endpoint, region: DEFAULT_REGION };
  writeConfig(options.configPath, config);
  const saved = `credentials saved to ${tildify(options.configPath, home)}`;
  options.notify(
    started
      ? `Started a local controller at ${probe.endpoint} (data and log in ${tildify(paths.dataDir, home)}); ${saved}`
      : `Found a local controller at ${probe.endpoint} (data in ${tildify(paths.dataDir, home)}); ${saved}`,
  );
  return config;
}
