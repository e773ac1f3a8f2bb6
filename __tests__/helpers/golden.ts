import * as fs from 'node:fs';
import * as path from 'node:path';

/**
 * Golden outputs: the reference's sample outputs (`__tests__/golden/*.txt`,
 * copied verbatim) against what `eascmd` prints, both normalised only for
 * what differs from run to run. See `__tests__/golden/README.md`.
 */

export const GOLDEN_DIR = path.join(__dirname, '..', 'golden');

export function readGolden(sample: string): string {
  return fs.readFileSync(path.join(GOLDEN_DIR, `${sample}.txt`), 'utf8');
}

export interface NormaliseOptions {
  /**
   * Keep every normalised token as wide as it was (names and ids become `#`
   * runs of their length), for tables, whose column widths follow their cells.
   */
  keepWidths?: boolean;
  /**
   * stop: the available count of the `Benchmark task is Running` line is
   * live (agents still draining when the stop was polled).
   */
  drainingAgents?: boolean;
}

const hashes = (text: string): string => '#'.repeat(text.length);

/** Replaces the per-run parts of an output (or of a reference sample) with placeholders. */
export function normalise(text: string, options: NormaliseOptions = {}): string {
  const keep = options.keepWidths === true;
  let out = text
    // the reference's report lives in its OSS bucket, ours in the controller's store
    .replace(/report url: \S+/g, 'report url: <URL>')
    .replace(/^\[RequestId\]: [0-9A-F*-]+$/gm, '[RequestId]: <RequestId>')
    .replace(/127\.0\.0\.1:\d+/g, '127.0.0.1:<PORT>')
    .replace(/eascmd -c \S+ bench/g, 'eascmd -c [config_file] bench')
    .replace(/\bbenchmark-[a-z0-9*]+(?:-[a-z0-9*]+)*/g, (name) => `benchmark-${keep ? hashes(name.slice(10)) : '<NAME>'}`)
    .replace(/\beas-b-[a-z0-9*]{18}/g, (id) => `eas-b-${keep ? hashes(id.slice(6)) : '<ID>'}`)
    .replace(/\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}/g, 'YYYY-MM-DD hh:mm:ss');
  if (options.drainingAgents) out = out.replace(/\[Agnet: \d+\/(\d+)\]: Benchmark task is Running/g, '[Agnet: i/$1]: Benchmark task is Running');
  // the reference prints a line per poll (create shows its master line twice); we print one per state
  const lines = out.split('\n');
  return lines.filter((line, i) => i === 0 || line !== lines[i - 1]).join('\n');
}
