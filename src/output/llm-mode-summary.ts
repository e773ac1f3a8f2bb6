import { datasetLine, type HalfDrift, type LlmModeSections } from '../contract';
import { formatNumber } from './format';
import { Cell, renderTable } from './table';

const n = (x: number): string => formatNumber(x, 2);

function driftTable(rows: [string, HalfDrift, string][]): string {
  const cells: Cell[][] = rows.map(([name, d, unit]) => [name, `${n(d.FirstHalf)}${unit}`, `${n(d.SecondHalf)}${unit}`, `${d.ChangePct >= 0 ? '+' : ''}${n(d.ChangePct)}%`, d.Flagged ? 'FLAGGED' : 'ok']);
  return renderTable(['Drift', 'First half', 'Second half', 'Change', ''], cells, { align: ['left', 'right', 'right', 'right', 'left'] });
}

/**
 * The run modes' sections under the AISBench tables of the summary, in the
 * stress tester's words: retries, drift, token-sweep, consistency, sessions
 * and tool calls, and the load sweep's steps, each only when the run has it.
 */
export function llmModeSummary(s: LlmModeSections): string[] {
  const out: string[] = [];
  if (s.Dataset) out.push(`Dataset: ${datasetLine(s.Dataset)}`);
  if (s.Warmup) out.push(`Warm-up: ${s.Warmup.RequestsPerAgent} requests per agent sent first, left out of every figure and record`);
  if (s.Retries) out.push(`Retries: ${s.Retries.RetriedRequests} requests retried (${s.Retries.RetryAttempts} extra sends), ${s.Retries.RecoveredRequests} recovered`);
  if (s.Drift) {
    out.push(`Drift, first half against second half (flagged over ${s.Drift.ThresholdPct}%)${s.Drift.Flagged ? ': DEGRADED' : ''}:`);
    out.push(driftTable([['TTFT', s.Drift.TTFT, ' ms'], ['TPOT', s.Drift.TPOT, ' ms'], ['Decode', s.Drift.DecodeTokensPerSecond, ' tok/s']]));
  }
  if (s.TokenSweep) {
    const rows: Cell[][] = s.TokenSweep.Points.map((p) => [p.PromptTokens, p.N, `${n(p.TTFTMean)} ms`, `${n(p.TTFTMedian)} ms`, `${n(p.TTFTPer1kTokens)} ms`]);
    out.push(`Token sweep: prefill scaling ${s.TokenSweep.Scaling} (TTFT ∝ tokens^${s.TokenSweep.Exponent})`);
    out.push(renderTable(['Prompt tokens', 'N', 'TTFT mean', 'TTFT median', 'TTFT per 1k tokens'], rows, { align: ['right', 'right', 'right', 'right', 'right'] }));
  }
  if (s.Consistency) {
    const c = s.Consistency;
    out.push(`Consistency: same prompt x ${c.TTFT.N} sequential runs`);
    out.push(`  Decode TPS: ${n(c.DecodeTokensPerSecond.Mean)} ± ${n(c.DecodeTokensPerSecond.Stddev)} (stddev ${n(c.DecodeTokensPerSecond.CvPct)}%)`);
    out.push(`  TTFT: ${n(c.TTFT.Mean)} ± ${n(c.TTFT.Stddev)} ms (stddev ${n(c.TTFT.CvPct)}%)`);
    out.push(driftTable([['TTFT', c.TTFTDrift, ' ms'], ['Decode', c.DecodeDrift, ' tok/s']]));
  }
  if (s.Sessions) {
    const x = s.Sessions;
    out.push(`Sessions: ${x.SessionsCompleted} of ${x.SessionsStarted} completed, ${x.Turns} turns; per-turn latency p50/p95/p99 ${n(x.TurnLatencyP50)}/${n(x.TurnLatencyP95)}/${n(x.TurnLatencyP99)} ms`);
    out.push(renderTable(['Turn', 'N', 'TTFT mean', 'Input tokens'], x.ByTurn.map((t) => [t.Turn, t.N, `${n(t.TTFTMean)} ms`, n(t.InputTokensMean)]), { align: ['right', 'right', 'right', 'right'] }));
  }
  if (s.ToolCalls) {
    const t = s.ToolCalls;
    out.push(`Tool calls: ${t.CalledTool} of ${t.Requests} answers called a tool (${n(t.CallRatePct)}%), ${t.Parsed} parsed (${n(t.ParseRatePct)}%); call latency mean ${n(t.CallLatencyMean)} ms, p50 ${n(t.CallLatencyP50)} ms, p99 ${n(t.CallLatencyP99)} ms`);
  }
  if (s.Sweep) {
    const w = s.Sweep;
    const unit = w.By === 'rate' ? 'req/s' : 'streams';
    const p = `p${w.SloPercentile}`;
    const ms = (v: number | null): string => (v === null ? '-' : `${n(v)} ms`);
    out.push(`Sweep by ${w.By}: ${w.Outcome}${w.Knee ? `; knee at ${w.Knee.Load} ${unit} (${n(w.Knee.RequestThroughput)} req/s, ${w.Knee.LatencyMetric} ${n(w.Knee.LatencyMs)} ms)` : ''}`);
    const rows: Cell[][] = w.Steps.map((x) => [`${x.Load}`, x.Phase, `${x.Seconds}${x.GeneratorLimitedSeconds ? ` (+${x.GeneratorLimitedSeconds} limited)` : ''}`, n(x.RequestThroughput), n(x.Goodput), ms(x.TTFT), ms(x.TPOT), ms(x.E2EL), `${x.Verdict}: ${x.Why}`]);
    out.push(renderTable([`Load (${unit})`, 'Phase', 'Seconds', 'req/s', 'Goodput', `TTFT ${p}`, `TPOT ${p}`, `E2EL ${p}`, 'Verdict'], rows, { align: ['right', 'left', 'right', 'right', 'right', 'right', 'right', 'right', 'left'] }));
  }
  return out;
}
