import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import { run } from '../../src/cli/app';
import { Timing } from '../../src/cli/context';

/** Runs the CLI in-process with captured streams and fast polling. */

export interface InProcessResult {
  code: number;
  stdout: string;
  stderr: string;
}

class Capture extends Writable {
  text = '';
  isTTY = false;
  override _write(chunk: Buffer | string, _enc: BufferEncoding, done: () => void): void {
    this.text += chunk.toString();
    done();
  }
}

export const FAST_TIMING: Partial<Timing> = {
  pollIntervalMs: 5,
  waitPollIntervalMs: 5,
  // real agent processes start in a second or two, much longer on busy shared cores
  statusTimeoutMs: 30_000,
  plainProgressEveryMs: 0,
  reportTimeoutMs: 500,
  unreachableGraceMs: 0,
};

export function tempHome(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'eas-bench-cli-'));
}

/** The config file `eascmd` reads in a temp home, for a controller's key; returns its path. */
export function writeCliConfig(home: string, controller: { url: string; accessId: string; secret: string }, region = 'cn-local'): string {
  const file = path.join(home, '.eas', 'config');
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, `[default]\naccess_id = ${controller.accessId}\naccess_key = ${controller.secret}\nendpoint = ${controller.url}\nregion = ${region}\n`, { mode: 0o600 });
  return file;
}

export async function runCli(args: string[], opts: { home: string; input?: string; env?: NodeJS.ProcessEnv; timing?: Partial<Timing> }): Promise<InProcessResult> {
  const stdout = new Capture();
  const stderr = new Capture();
  const stdin = new PassThrough();
  stdin.end(opts.input ?? '');
  const code = await run(args, {
    stdout,
    stderr,
    stdin,
    env: { NO_COLOR: '1', ...opts.env },
    home: opts.home,
    timing: { ...FAST_TIMING, ...opts.timing },
  });
  return { code, stdout: stdout.text, stderr: stderr.text };
}
