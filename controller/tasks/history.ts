import type { HistoryRound } from '../../src/contract';
import { TaskEntry } from './entry';
import { formatTime } from './naming';
import { modeName, RoundRecord } from './record';

/**
 * The finished rounds run against one service, newest first (`bench
 * history`, and the report's "earlier rounds"): every round every kept task
 * still lists. The figures come from the summary a round keeps at its end;
 * a round stored before that reads its seconds once.
 */
export function serviceHistory(entries: readonly TaskEntry[], serviceName: string): HistoryRound[] {
  const rows: { endMs: number; row: HistoryRound }[] = [];
  for (const entry of entries) {
    if (entry.record.serviceName !== serviceName) continue;
    for (const round of entry.record.rounds) {
      // a running round has no verdict yet, and one that failed to start ran nothing
      if (round.endMs === undefined || !round.verdict) continue;
      rows.push({ endMs: round.endMs, row: historyRow(entry, round) });
    }
  }
  // ties (rounds ending in the same millisecond) by task then round, so the order is stable
  rows.sort((x, y) => y.endMs - x.endMs || y.row.RoundId - x.row.RoundId || x.row.TaskName.localeCompare(y.row.TaskName));
  return rows.map((r) => r.row);
}

function historyRow(entry: TaskEntry, round: RoundRecord): HistoryRound {
  const summary = round.summary ?? summaryOf(entry, round);
  return {
    TaskName: entry.taskName,
    RoundId: round.roundId,
    StartTime: formatTime(round.startMs),
    EndTime: formatTime(round.endMs ?? round.startMs),
    Mode: modeName(entry.record),
    ...(round.capacity ? { CapacityQPS: round.capacity.QPS } : {}),
    QPS: summary.QPS,
    TP99: summary.TP99,
    ErrorRate: summary.ErrorRate,
    Outcome: round.verdict?.Outcome ?? 'no result',
  };
}

function summaryOf(entry: TaskEntry, round: RoundRecord): NonNullable<RoundRecord['summary']> {
  const { result } = entry.figures(round);
  return { QPS: result.QPS, TP99: result.TP99, ErrorRate: result.ErrorRate };
}
