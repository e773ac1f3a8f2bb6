import { run } from './app';

/**
 * The reader of stdout went away (`eascmd bench records NAME | head -1`):
 * whatever is left to print has nobody to read it, so end quietly with 0, as
 * `cat` or `ls` do. Without a listener the EPIPE would be an uncaught error
 * with a stack trace; a command that waits (visualize, --wait) notices at its
 * next line, since a pipe only reports a gone reader on a write.
 */
function quietOnClosedReader(err: NodeJS.ErrnoException): void {
  if (err.code === 'EPIPE') process.exit(0);
  process.stderr.write(`[ERROR] InternalError: cannot write to stdout: ${err.message}\n`);
  process.exit(1);
}
process.stdout.on('error', quietOnClosedReader);
// Nothing can be reported once stderr's reader is gone; the command ends with its own code.
process.stderr.on('error', () => undefined);

// Entry point of `eascmd` (bin/eascmd requires the built copy). The exit
// code is set rather than forced so buffered output reaches a pipe first.
run(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin, env: process.env }).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`[ERROR] InternalError: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
