/**
 * `-Doptional.concurrency=4` is the reference's syntax, but yargs reads a
 * short flag glued to letters as a group of boolean flags (-D -o -p -t ...).
 * Splitting it into `-D optional.concurrency=4` before parsing keeps the
 * reference's syntax and yargs' strictness. Nothing after `--` is touched.
 */
export function expandDefineArgs(argv: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--') {
      out.push(...argv.slice(i));
      break;
    }
    const glued = /^-D(.+)$/.exec(arg);
    if (glued) out.push('-D', glued[1].replace(/^=/, ''));
    else out.push(arg);
  }
  return out;
}
