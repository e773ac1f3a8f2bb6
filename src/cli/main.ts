import { run } from './app';

/**
 * Entry point of `eascmd` (bin/eascmd requires the built copy). The exit
 * code is set rather than forced so buffered output reaches a pipe first.
 */
run(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin, env: process.env }).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`[ERROR] InternalError: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
