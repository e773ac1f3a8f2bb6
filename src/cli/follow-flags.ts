import { Argv } from 'yargs';
import { GlobalArgs } from './context';
import { FollowFlags } from './follow';

/** `--wait` and `--visualize`, shared by create and start. */
export function withFollowFlags<T extends GlobalArgs>(y: Argv<T>): Argv<T & FollowFlags> {
  return (
    y
      .option('wait', { type: 'boolean', default: false, describe: 'Stay until the task ends: progress, then the summary and the report URL' })
      .option('visualize', { type: 'boolean', default: false, describe: 'Open the live statsview page even when stdout is not a terminal' })
      // yargs' .conflicts() counts a boolean's default as given, so check by hand.
      .check((argv) => {
        if (argv.wait && argv.visualize) throw new Error('--wait and --visualize cannot be used together (--wait prints the progress and summary here)');
        if (argv.json && argv.visualize) throw new Error('--json and --visualize cannot be used together (the page prints lines to stdout)');
        return true;
      })
  );
}
