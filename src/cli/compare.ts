import * as fs from 'node:fs';
import { BenchError, CompareFigure, EXIT_CODES } from '../contract';
import { formatNumber } from '../output/format';
import { Cell, renderTable } from '../output/table';
import { CommandSpec } from './command';
import { GlobalArgs } from './context';

interface CompareArgs extends GlobalArgs {
  a: string;
  b: string;
  'max-regression'?: number;
  html?: string;
}

/** `+12.5%`, `-3%`, `n/a` (from 0). */
function pct(f: CompareFigure): string {
  if (f.DiffPct === null) return 'n/a';
  return `${f.DiffPct > 0 ? '+' : ''}${formatNumber(f.DiffPct, 2)}%`;
}

function figuresTable(figures: readonly CompareFigure[]): string {
  return renderTable(
    ['Figure', 'A', 'B', 'Diff', 'Diff %', 'p', 'Verdict'],
    figures.map((f): Cell[] => [f.Figure, formatNumber(f.A, 3), formatNumber(f.B, 3), formatNumber(f.Diff, 3), pct(f), f.PValue === null ? '-' : formatNumber(f.PValue, 4), f.Verdict === 'regressed' ? 'REGRESSED' : f.Verdict]),
    { align: [undefined, 'right', 'right', 'right', 'right', 'right', undefined] },
  );
}

/**
 * `bench compare A[:ROUND] B[:ROUND]`: every figure of round B against round
 * A, each judged regressed, improved or within noise (docs/report.md). Exits
 * 99 when a figure regressed, 0 when none did, 1 on a usage or API error.
 */
export const compareCommand: CommandSpec<CompareArgs> = {
  command: 'compare <a> <b>',
  describe: 'Compare two rounds (TASK or TASK:ROUND; A the baseline) figure by figure; exit 99 when a figure regressed',
  builder: (y) =>
    y
      .positional('a', { type: 'string', demandOption: true, describe: 'The baseline: TASK or TASK:ROUND (default: its last round)' })
      .positional('b', { type: 'string', demandOption: true, describe: 'The round judged against it: TASK or TASK:ROUND' })
      .option('max-regression', { type: 'number', requiresArg: true, describe: 'The floor, percent: a change smaller than this is never a regression (default 5)' })
      .option('html', { type: 'string', requiresArg: true, describe: 'Also write the comparison report (HTML, both percentile curves) to this file' }),
  run: async (args, ctx) => {
    if (args.maxRegression !== undefined && !(Number.isFinite(args.maxRegression) && args.maxRegression >= 0)) {
      throw new BenchError('InvalidParameter', `--max-regression: must be a percentage of 0 or more, got ${String(args.maxRegression)}`, { field: 'max-regression' });
    }
    const conn = await ctx.connect();
    const { Html: html, ...res } = await conn.client.compareRounds(args.a, args.b, { maxRegressionPct: args.maxRegression, html: args.html !== undefined });
    if (args.html !== undefined) {
      try {
        fs.writeFileSync(args.html, html ?? '');
      } catch (err) {
        throw new BenchError('InvalidParameter', `--html: cannot write ${args.html}: ${(err as Error).message}`, { field: 'html' });
      }
    }
    const code = res.Regressed > 0 ? EXIT_CODES.thresholdFailed : EXIT_CODES.passed;
    if (ctx.json) {
      ctx.out.json(res);
      return code;
    }
    ctx.verboseRequestId(res.RequestId);
    ctx.out.print(`A: ${res.A.TaskName}:${res.A.RoundId} (${res.A.ServiceName}, ${res.A.Mode}, ${res.A.StartTime})`);
    ctx.out.print(`B: ${res.B.TaskName}:${res.B.RoundId} (${res.B.ServiceName}, ${res.B.Mode}, ${res.B.StartTime})`);
    ctx.out.print(figuresTable(res.Figures));
    ctx.out.print(`Judged by ${res.Test} at p < ${res.Alpha}, with a floor of ${res.MaxRegressionPct}%.`);
    if (args.html !== undefined) ctx.out.ok(`Comparison report written to ${args.html}`);
    const regressed = res.Figures.filter((f) => f.Verdict === 'regressed').map((f) => f.Figure);
    ctx.out.print(regressed.length > 0 ? `Compare: regressed: ${regressed.join(', ')} (${res.Improved} improved)` : `Compare: nothing regressed (${res.Improved} improved)`);
    return code;
  },
};
