import { ArgumentsCamelCase, Argv } from 'yargs';
import { CliContext, GlobalArgs } from './context';

/**
 * One CLI command: its yargs syntax and what it does. `run` is called by the
 * root after parsing succeeded, so usage errors (exit 2) and command errors
 * (exit 1) are told apart in one place. A command whose exit code says a
 * verdict (`--wait`, `check`: SPEC 7) returns it.
 */
export interface CommandSpec<A extends GlobalArgs> {
  command: string | readonly string[];
  describe: string;
  builder: (y: Argv<GlobalArgs>) => Argv<A>;
  run: (args: ArgumentsCamelCase<A>, ctx: CliContext) => Promise<void | number>;
}
