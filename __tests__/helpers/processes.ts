import { ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { FixtureStats, TargetBehaviour } from '../../fixtures/target-service';
import type { OpenAiBehaviour, OpenAiStats } from '../../fixtures/openai-service';

/** The repository root: the nearest folder up with a package.json (also when compiled for bench/). */
export const ROOT = ((): string => {
  let dir = __dirname;
  while (!fs.existsSync(path.join(dir, 'package.json')) && path.dirname(dir) !== dir) dir = path.dirname(dir);
  return dir;
})();
export const BIN = {
  eascmd: path.join(ROOT, 'bin', 'eascmd'),
  controller: path.join(ROOT, 'bin', 'eascmd-controller'),
  agent: path.join(ROOT, 'bin', 'eascmd-agent'),
};
export const FIXTURE_SERVICE = path.join(ROOT, 'dist', 'fixtures', 'target-service.js');

const started = new Set<ChildProcess>();

/** A real process started by a test; `stop()` ends it (SIGTERM, then SIGKILL). */
export interface TestProcess {
  proc: ChildProcess;
  output: () => string;
  stop(signal?: NodeJS.Signals): Promise<void>;
}

export function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `eas-bench-${prefix}-`));
}

/** Starts `node file args` and waits for a stdout line matching `ready`. */
export async function startProcess(file: string, args: string[], ready: RegExp, env: NodeJS.ProcessEnv = {}, timeoutMs = 20000): Promise<TestProcess & { match: RegExpMatchArray }> {
  const proc = spawn(process.execPath, [file, ...args], { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  started.add(proc);
  let out = '';
  proc.stdout?.setEncoding('utf8');
  proc.stderr?.setEncoding('utf8');
  proc.stderr?.on('data', (c: string) => (out += c));
  const match = await new Promise<RegExpMatchArray>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${path.basename(file)} did not start in ${timeoutMs} ms:\n${out}`)), timeoutMs);
    proc.stdout?.on('data', (c: string) => {
      out += c;
      const m = out.match(ready);
      if (m) {
        clearTimeout(timer);
        resolve(m);
      }
    });
    proc.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${path.basename(file)} exited with ${code} before it was ready:\n${out}`));
    });
  });
  proc.removeAllListeners('exit');
  const exited = new Promise<void>((resolve) => {
    if (proc.exitCode !== null || proc.signalCode !== null) resolve();
    else proc.once('exit', () => resolve());
  });
  return {
    proc,
    match,
    output: () => out,
    async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
      if (proc.exitCode === null && proc.signalCode === null) {
        proc.kill(signal);
        const timer = setTimeout(() => proc.kill('SIGKILL'), 15000);
        await exited;
        clearTimeout(timer);
      }
      started.delete(proc);
    },
  };
}

export interface ControllerProcess extends TestProcess {
  url: string;
  dataDir: string;
  configFile: string;
  accessId: string;
  secret: string;
}

/** The real `eascmd-controller` on a free port with a temp data dir, and an eascmd config file for it. */
export async function startController(opts: { dataDir?: string; args?: string[]; env?: NodeJS.ProcessEnv } = {}): Promise<ControllerProcess> {
  const dataDir = opts.dataDir ?? tempDir('controller');
  const portArgs = opts.args?.includes('--port') ? [] : ['--port', '0'];
  const p = await startProcess(BIN.controller, [...portArgs, '--data-dir', dataDir, ...(opts.args ?? [])], /listening on (http:\/\/[^\s]+)/, opts.env);
  const url = p.match[1];
  const creds = JSON.parse(fs.readFileSync(path.join(dataDir, 'credentials.json'), 'utf8')) as { keys: { id: string; secret: string }[] };
  const configFile = path.join(dataDir, 'eascmd.ini');
  fs.writeFileSync(configFile, `[default]\naccess_id = ${creds.keys[0].id}\naccess_key = ${creds.keys[0].secret}\nendpoint = ${url}\nregion = cn-local\n`, { mode: 0o600 });
  return { ...p, url, dataDir, configFile, accessId: creds.keys[0].id, secret: creds.keys[0].secret };
}

export interface FixtureProcess extends TestProcess {
  url: string;
  stats(): Promise<FixtureStats>;
  /** When each request arrived, ms since the epoch, in order (fixture's arrivals()). */
  arrivals(): Promise<number[]>;
  reset(): Promise<void>;
  configure(options: Partial<TargetBehaviour>): Promise<void>;
}

/** The fixture target service as its own process (so it does not share the test's event loop). */
export async function startFixture(args: string[] = []): Promise<FixtureProcess> {
  const p = await startProcess(FIXTURE_SERVICE, ['--port', '0', ...args], /listening on (http:\/\/[^\s]+)/);
  const url = p.match[1];
  return {
    ...p,
    url,
    async stats(): Promise<FixtureStats> {
      const res = await fetch(`${url}/__fixture/stats`);
      return (await res.json()) as FixtureStats;
    },
    async arrivals(): Promise<number[]> {
      const res = await fetch(`${url}/__fixture/arrivals`);
      return (await res.json()) as number[];
    },
    async reset(): Promise<void> {
      await fetch(`${url}/__fixture/reset`, { method: 'POST' });
    },
    async configure(options: Partial<TargetBehaviour>): Promise<void> {
      await fetch(`${url}/__fixture/config`, { method: 'PUT', body: JSON.stringify(options), headers: { 'content-type': 'application/json' } });
    },
  };
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the real `eascmd` binary. */
export function runEascmd(args: string[], opts: { input?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, [BIN.eascmd, ...args], { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1', ...opts.env } });
    started.add(proc);
    let stdout = '';
    let stderr = '';
    proc.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    proc.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`eascmd ${args.join(' ')} timed out:\n${stdout}\n${stderr}`));
    }, opts.timeoutMs ?? 60000);
    proc.on('exit', (code) => {
      clearTimeout(timer);
      started.delete(proc);
      resolve({ code: code ?? -1, stdout, stderr });
    });
    proc.stdin.end(opts.input ?? '');
  });
}

export function writeTask(dir: string, task: unknown): string {
  const file = path.join(dir, `task-${Date.now()}-${Math.random().toString(16).slice(2)}.json`);
  fs.writeFileSync(file, JSON.stringify(task, null, 2));
  return file;
}

/** Polls `check` until it returns a value, or fails after timeoutMs. */
export async function waitFor<T>(what: string, check: () => Promise<T | undefined> | T | undefined, timeoutMs = 30000, intervalMs = 200): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await check();
      if (value !== undefined && value !== null && value !== false) return value;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
}

/** Kills whatever a failing test left behind. */
export function killAllStarted(): void {
  for (const proc of started) {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
  }
  started.clear();
}

/** The agent processes still alive whose command line mentions `marker`. */
export function livePids(marker: string): number[] {
  const pids: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmd = fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      if (cmd.includes(marker)) pids.push(Number(entry));
    } catch {
      // the process ended while we looked
    }
  }
  return pids;
}

/** The last top-level JSON document of `--json` output (pretty-printed documents, one after another). */
export function lastJson<T>(stdout: string): T {
  const text = stdout.trim();
  const start = text.lastIndexOf('\n{');
  return JSON.parse(start >= 0 ? text.slice(start + 1) : text) as T;
}

export const OPENAI_FIXTURE = path.join(ROOT, 'dist', 'fixtures', 'openai-service.js');

export interface OpenAiFixtureProcess extends TestProcess {
  url: string;
  stats(): Promise<OpenAiStats>;
  /** Zeroes the counters (and the prompt and body digests). */
  reset(): Promise<void>;
  configure(options: Partial<OpenAiBehaviour>): Promise<void>;
}

/** The OpenAI-compatible streaming fixture as its own process. */
export async function startOpenAiFixture(args: string[] = []): Promise<OpenAiFixtureProcess> {
  const p = await startProcess(OPENAI_FIXTURE, ['--port', '0', ...args], /openai-service listening on (http:\/\/[^\s]+)/);
  const url = p.match[1];
  return {
    ...p,
    url,
    async stats(): Promise<OpenAiStats> {
      const res = await fetch(`${url}/__fixture/stats`);
      return (await res.json()) as OpenAiStats;
    },
    async reset(): Promise<void> {
      await fetch(`${url}/__fixture/reset`, { method: 'POST' });
    },
    async configure(options: Partial<OpenAiBehaviour>): Promise<void> {
      const res = await fetch(`${url}/__fixture/config`, { method: 'PUT', body: JSON.stringify(options), headers: { 'content-type': 'application/json' } });
      if (!res.ok) throw new Error(`fixture config refused: ${await res.text()}`);
    },
  };
}
