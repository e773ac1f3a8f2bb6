import chalk from 'chalk';
import { redactText } from '../contract';
import { shownJson, shownText } from './safe-text';

/**
 * The `[RequestId]` / `[OK]` / `[ERROR]` lines every command prints. Colour
 * only on a terminal and when NO_COLOR is not set, so pipes and log files get
 * plain text. Every text is passed through `shownText`: what the controller,
 * an agent or a service chose cannot steer the terminal.
 */

export interface OutStream {
  write(chunk: string): boolean;
  isTTY?: boolean;
  columns?: number;
}

/** https://no-color.org: NO_COLOR set to anything non-empty turns colour off. */
export function colorEnabled(stream: OutStream, env: NodeJS.ProcessEnv): boolean {
  return stream.isTTY === true && !env.NO_COLOR;
}

export class Lines {
  private readonly paint: chalk.Chalk;
  /** Whether a JSON document went to stdout already (the root then adds no error document). */
  jsonWritten = false;

  constructor(
    readonly stdout: OutStream,
    readonly stderr: OutStream,
    color: boolean,
  ) {
    this.paint = new chalk.Instance({ level: color ? 1 : 0 });
  }

  /** `[RequestId]: <id>`; nothing when the controller gave none. */
  requestId(id: string | undefined): void {
    if (id) this.stdout.write(`${this.paint.gray('[RequestId]')}: ${shownText(id)}\n`);
  }

  ok(message: string): void {
    this.stdout.write(`${this.paint.green('[OK]')} ${shownText(message)}\n`);
  }

  /** `[WARNING] <message>`: the command goes on, but something is likely not what the user wants. */
  warn(message: string): void {
    this.stdout.write(`${this.paint.yellow('[WARNING]')} ${message}\n`);
  }

  /** Errors go to stderr, so `--json` output on stdout stays parseable. A message may quote a URL: its secrets are masked. */
  error(code: string, message: string): void {
    this.stderr.write(`${this.paint.red('[ERROR]')} ${shownText(code)}: ${shownText(redactText(message))}\n`);
  }

  /** A plain line (tables, prompts, the summary). */
  print(text: string): void {
    this.stdout.write(`${shownText(text)}\n`);
  }

  /** A line to stderr: notes that must not mix with --json output. */
  note(text: string): void {
    this.stderr.write(`${shownText(text)}\n`);
  }

  json(value: unknown): void {
    this.jsonWritten = true;
    this.stdout.write(`${shownJson(JSON.stringify(value, null, 2))}\n`);
  }
}
