import * as fs from 'node:fs';
import { BenchError, RECORDS_FORMATS, RecordsFormat } from '../contract';
import { CommandSpec } from './command';
import { NameArgs, withName } from './task-command';

interface RecordsArgs extends NameArgs {
  format?: RecordsFormat;
  output?: string;
}

/** Rows of a CSV document after its header: line ends outside quoted cells (an error text may hold a newline). */
export function csvRecordCount(csv: string): number {
  let lines = 0;
  let quoted = false;
  for (const c of csv) {
    if (c === '"') quoted = !quoted;
    else if (c === '\n' && !quoted) lines++;
  }
  if (csv.length > 0 && !csv.endsWith('\n')) lines++;
  return Math.max(0, lines - 1);
}

function writeOutput(file: string, text: string): void {
  try {
    fs.writeFileSync(file, text);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new BenchError('InvalidParameter', `cannot write ${file}: ${code === 'ENOENT' ? 'no such directory' : code ?? (err as Error).message}`, { resource: file });
  }
}

/**
 * `bench records NAME [--format csv|json] [--output FILE]`: every per-request
 * record of an llm task's current (or last) round, as the controller's
 * `records` route gives them. CSV by default; `--json` means `--format json`.
 */
export const recordsCommand: CommandSpec<RecordsArgs> = {
  command: 'records <name>',
  describe: 'Download the per-request records of an LLM task (its current or last round)',
  builder: (y) =>
    withName(y)
      .option('format', { choices: RECORDS_FORMATS, describe: 'csv (default) or json (the API response, with every ITL gap)' })
      .option('output', { alias: 'o', type: 'string', requiresArg: true, describe: 'Write the records to FILE instead of stdout' })
      .check((argv) => !(argv.json && argv.format === 'csv') || '--json prints the records as JSON; it cannot be combined with --format csv'),
  run: async (args, ctx) => {
    const format: RecordsFormat = args.format ?? (ctx.json ? 'json' : 'csv');
    const conn = await ctx.connect();
    let text: string;
    let count: number;
    let requestId: string | undefined;
    if (format === 'json') {
      const res = await conn.client.getLlmRecords(conn.region, args.name);
      if (!args.output) {
        ctx.out.json(res);
        return;
      }
      text = `${JSON.stringify(res, null, 2)}\n`;
      count = res.Records.length;
      requestId = res.RequestId;
    } else {
      text = await conn.client.getLlmRecordsCsv(conn.region, args.name);
      if (!args.output) {
        ctx.out.stdout.write(text);
        return;
      }
      count = csvRecordCount(text);
    }
    writeOutput(args.output, text);
    const line = `${count} records of benchmark task ${args.name} written to ${args.output}`;
    // Under --json stdout stays free of lines: the note goes to stderr.
    if (ctx.json) {
      ctx.out.note(`[OK] ${line}`);
      return;
    }
    ctx.out.requestId(requestId);
    ctx.out.ok(line);
  },
};
