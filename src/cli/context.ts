import * as os from 'node:os';
import { Connection, connect } from '../api/connect';
import { resolveConfigPath } from '../api/config';
import { LocalPaths, localPaths } from '../api/embedded';
import { Lines, colorEnabled } from '../output/lines';
import { confirm } from './prompt';

/** The process streams and environment, passed in so tests run commands in-process. */
export interface CliIo {
  stdout: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
  stdin: NodeJS.ReadableStream & { isTTY?: boolean };
  env: NodeJS.ProcessEnv;
  /** Home directory (default os.homedir()). */
  home?: string;
  timing?: Partial<Timing>;
}

/** How often and how long commands poll. */
export interface Timing {
  /** Status polling of create/start/update/stop/delete. */
  pollIntervalMs: number;
  /** Polling while `--wait` shows progress (the controller's figures change each second). */
  waitPollIntervalMs: number;
  /** Give up when a task shows no change (status, agents, message) for this long. */
  statusTimeoutMs: number;
  /** Plain progress lines when stdout is not a terminal. */
  plainProgressEveryMs: number;
  /** How long a finished round may take to publish its report. */
  reportTimeoutMs: number;
  /** How long polling rides out a controller that does not answer (a restart). */
  unreachableGraceMs: number;
}

export const DEFAULT_TIMING: Timing = {
  pollIntervalMs: 500,
  waitPollIntervalMs: 1000,
  statusTimeoutMs: 120_000,
  plainProgressEveryMs: 5000,
  reportTimeoutMs: 30_000,
  unreachableGraceMs: 10_000,
};

/** Options every command accepts. */
export interface GlobalArgs {
  config?: string;
  endpoint?: string;
  json: boolean;
  yes: boolean;
  /** Also the `[RequestId]` lines the reference's samples do not show (stop, start, delete, desc, report). */
  verbose?: boolean;
}

export class CliContext {
  readonly out: Lines;
  readonly json: boolean;
  readonly yes: boolean;
  readonly verbose: boolean;
  readonly configPath: string;
  readonly timing: Timing;
  private connection?: Promise<Connection>;

  constructor(
    readonly io: CliIo,
    private readonly args: GlobalArgs,
  ) {
    this.out = new Lines(io.stdout, io.stderr, colorEnabled(io.stdout, io.env));
    this.json = args.json;
    this.yes = args.yes;
    this.verbose = args.verbose === true;
    this.configPath = resolveConfigPath(args.config, io.env, io.home).path;
    this.timing = { ...DEFAULT_TIMING, ...io.timing };
  }

  /** The user's home: where ~/.eas lives. */
  get home(): string {
    return this.io.home ?? os.homedir();
  }

  /** Where the local (embedded) controller keeps its data, log and pid. */
  localPaths(): LocalPaths {
    return localPaths(this.home);
  }

  /** Progress bars and the implicit statsview only make sense on a terminal. */
  get stdoutIsTTY(): boolean {
    return this.io.stdout.isTTY === true;
  }

  /** The controller connection, made once (may start the embedded controller). */
  connect(): Promise<Connection> {
    this.connection ??= connect({
      configPath: this.configPath,
      endpointOverride: this.args.endpoint,
      home: this.io.home,
      // Under --json the note goes to stderr so stdout stays one JSON document.
      notify: (line) => (this.json ? this.out.note(`[OK] ${line}`) : this.out.ok(line)),
    });
    return this.connection;
  }

  /**
   * `[RequestId]: <id>` for commands whose reference sample shows none (stop,
   * start, delete, desc, report): only under --verbose, so the lines scripts
   * read are the reference's.
   */
  verboseRequestId(id: string | undefined): void {
    if (this.verbose) this.out.requestId(id);
  }

  confirm(question: string): Promise<boolean> {
    // The question goes where the user sees it and scripts do not parse it:
    // stderr under --json, or when a terminal user's stdout is piped.
    const toStderr = this.json || (this.io.stdin.isTTY === true && !this.stdoutIsTTY);
    return confirm(question, { yes: this.yes, stdin: this.io.stdin, output: toStderr ? this.io.stderr : this.io.stdout });
  }

  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => setTimeout(resolve, ms));
  }
}
