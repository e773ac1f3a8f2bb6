import * as fs from 'node:fs';
import * as path from 'node:path';
import yargs, { Argv } from 'yargs';
import { ApiError } from '../api/errors';
import { packageRoot } from '../api/embedded';
import { BenchError } from '../contract';
import { Lines, colorEnabled } from '../output/lines';
import { expandDefineArgs } from './argv';
import { CommandSpec } from './command';
import { agentsCommand } from './agents';
import { checkCommand } from './check';
import { compareCommand } from './compare';
import { historyCommand } from './history';
import { configCommand } from './config';
import { controllerCommands } from './controller';
import { CliContext, CliIo, GlobalArgs } from './context';
import { createCommand } from './create';
import { deleteCommand } from './delete';
import { descCommand } from './desc';
import { CliError } from './errors';
import { lsCommand } from './ls';
import { recomputeCommand } from './recompute';
import { recordsCommand } from './records';
import { reportCommand } from './report';
import { serviceCommands } from './service';
import { startCommand } from './start';
import { stopCommand } from './stop';
import { updateCommand } from './update';
import { visualizeCommand } from './visualize';

/**
 * The CLI root: yargs wiring, and the one place where an error becomes a
 * message and an exit code. 0 success (and a cancelled prompt), 1 a failed
 * command (`[ERROR] <Code>: <Message>`), 2 a usage error (with help), 130
 * CTRL+C during --wait; `--wait` and `check` exit by the round's verdict
 * (99 a threshold failed, 98 no result: EXIT_CODES, SPEC 7).
 */

export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;

function packageVersion(): string {
  try {
    const pkg: unknown = JSON.parse(fs.readFileSync(path.join(packageRoot(), 'package.json'), 'utf8'));
    const version = typeof pkg === 'object' && pkg !== null ? (pkg as { version?: unknown }).version : undefined;
    return typeof version === 'string' ? version : 'unknown';
  } catch {
    return 'unknown';
  }
}

type Action = { run: () => Promise<void | number>; ctx: CliContext };

function register<A extends GlobalArgs>(y: Argv<GlobalArgs>, spec: CommandSpec<A>, io: CliIo, select: (action: Action) => void): Argv<GlobalArgs> {
  return y.command<A>(spec.command, spec.describe, spec.builder, (args) => {
    const ctx = new CliContext(io, args);
    // Run after parsing, outside yargs, so a command's error is not mistaken for a usage error.
    select({ ctx, run: () => spec.run(args, ctx) });
  });
}

/** Prints the one error line (and the RequestId / JSON around it); returns the exit code. */
/** What to do about an error whose cure is the user's, added to its line. */
function hintFor(err: BenchError): string {
  // the controller refused the key: the config file's access id, key or endpoint is not the controller's
  if (err.code === 'Unauthorized') return '; check the access id, key and endpoint with: eascmd config';
  return '';
}

export function reportError(err: unknown, out: Lines, json: boolean, debug: boolean): number {
  const bench = err instanceof BenchError ? err : new BenchError('InternalError', err instanceof Error ? err.message : String(err));
  const label = bench instanceof CliError ? bench.label : bench.code;
  const message = bench.message + hintFor(bench);
  const requestId = bench instanceof ApiError ? bench.requestId : undefined;
  if (json && !out.jsonWritten) {
    out.json({ ...(requestId ? { RequestId: requestId } : {}), Code: label, Message: message, ...(bench.field ? { Field: bench.field } : {}) });
  } else if (!json) {
    out.requestId(requestId);
  }
  out.error(label, message);
  // Stack traces are for developers only.
  if (debug && err instanceof Error && err.stack) out.note(err.stack);
  return bench instanceof CliError ? bench.exitCode : EXIT_FAILED;
}

export async function run(argv: readonly string[], io: CliIo): Promise<number> {
  let action: Action | undefined;
  // yargs may fail more than once per parse ("Did you mean ls?", then "Unknown argument: lss").
  let usage: { messages: string[]; help: string } | undefined;
  const select = (a: Action): void => {
    action = a;
  };

  const root: Argv<GlobalArgs> = yargs(expandDefineArgs(argv))
    .scriptName('eascmd')
    .usage('$0 <command> [options]\n\nStress-testing client of an eas-bench controller.')
    .option('config', { alias: 'c', type: 'string', requiresArg: true, global: true, describe: 'Config file (default $EASCMD_CONFIG or ~/.eas/config)' })
    .option('endpoint', { type: 'string', requiresArg: true, global: true, describe: 'Controller URL for this call (overrides the config file)' })
    .option('json', { type: 'boolean', default: false, global: true, describe: "Print the controller's JSON response instead of lines" })
    .option('yes', { alias: 'y', type: 'boolean', default: false, global: true, describe: 'Answer yes to confirmation prompts' })
    .option('verbose', { type: 'boolean', default: false, global: true, describe: 'Also print the [RequestId] line of every command (without it only create, ls and update print one)' });

  register(root, configCommand, io, select)
    .command('controller', 'The local controller eascmd started in the background: status, stop, logs', (ctl: Argv<GlobalArgs>) =>
      controllerCommands(ctl, (y, spec) => register(y, spec, io, select)),
    )
    .command('bench', 'Stress-testing tasks', (bench: Argv<GlobalArgs>) => {
      register(bench, createCommand, io, select);
      register(bench, lsCommand, io, select);
      register(bench, descCommand, io, select);
      register(bench, visualizeCommand, io, select);
      register(bench, reportCommand, io, select);
      register(bench, recordsCommand, io, select);
      register(bench, recomputeCommand, io, select);
      register(bench, updateCommand, io, select);
      register(bench, stopCommand, io, select);
      register(bench, startCommand, io, select);
      register(bench, deleteCommand, io, select);
      register(bench, agentsCommand, io, select);
      register(bench, checkCommand, io, select);
      register(bench, compareCommand, io, select);
      register(bench, historyCommand, io, select);
      bench.command('service', 'The local service registry (~/.eas/services.json): add, list', (svc: Argv<GlobalArgs>) =>
        serviceCommands(svc, (y, spec) => register(y, spec, io, select)),
      );
      return bench.demandCommand(1, 'Specify a bench command').recommendCommands();
    })
    .demandCommand(1, 'Specify a command')
    .recommendCommands()
    .strict()
    .help()
    .alias('help', 'h')
    .version(packageVersion())
    .wrap(Math.min(100, io.stdout.columns ?? 100))
    .exitProcess(false)
    .fail((message: string | undefined, err: Error | undefined, y: Argv<GlobalArgs>) => {
      // A thrown error that is not a yargs validation failure: let it surface as a command error.
      if (!message && err) throw err;
      if (!usage) {
        let help = '';
        y.showHelp((text: string) => {
          help = text;
        });
        usage = { messages: [], help };
      }
      usage.messages.push(message ?? 'invalid usage');
    });

  const fallbackOut = new Lines(io.stdout, io.stderr, colorEnabled(io.stdout, io.env));
  const debug = io.env.EASCMD_DEBUG === '1';
  try {
    await root.parseAsync();
  } catch (err) {
    return reportError(err, fallbackOut, false, debug);
  }
  if (usage) {
    const suggestions = usage.messages.filter((m) => m.startsWith('Did you mean'));
    const problems = usage.messages.filter((m) => !m.startsWith('Did you mean'));
    io.stderr.write(`${usage.help}\n\n${[...problems, ...suggestions].join('\n')}\n`);
    return EXIT_USAGE;
  }
  if (!action) return EXIT_OK; // --help or --version was printed
  try {
    return (await action.run()) ?? EXIT_OK;
  } catch (err) {
    return reportError(err, action.ctx.out, action.ctx.json, debug);
  }
}
