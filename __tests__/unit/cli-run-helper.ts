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
  constructor(private readonly onText?: (textSoFar: string) => void) {
    super();
  }
  override _write(chunk: Buffer | string, _enc: BufferEncoding, done: () => void): void {
    this.text += chunk.toString();
    this.onText?.(this.text);
    done();
  }
}

/** The line the statsview prints once its page is served (and CTRL+C closes it). */
export const STATSVIEW_SERVED = 'to observe realtime visualization details, you can turn it off with CTRL+C.';

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

/** A task file in `home` (an object as JSON, a string as it is). */
export function writeTaskFile(home: string, task: unknown): string {
  const file = path.join(home, 'task.json');
  fs.writeFileSync(file, typeof task === 'string' ? task : JSON.stringify(task));
  return file;
}

/** `onStdout`: called with everything printed so far, at each write (to act while the command runs). */
export async function runCli(
  args: string[],
  opts: { home: string; input?: string; env?: NodeJS.ProcessEnv; timing?: Partial<Timing>; onStdout?: (textSoFar: string) => void },
): Promise<InProcessResult> {
  const stdout = new Capture(opts.onStdout);
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
