import { ControllerClient } from '../api/client';
import { BenchError } from '../contract';

/**
 * Placeholder: the statsview (SPEC 2.3) is written separately and replaces
 * this file. The CLI calls runStatsview after create/start (on a terminal or
 * with --visualize) and for `bench visualize`.
 */
export interface StatsviewOptions {
  client: ControllerClient;
  region: string;
  taskName: string;
  /** Printed in the "reopen it with" hint: eascmd -c CONFIG bench visualize NAME. */
  configPath: string;
}

export async function runStatsview(opts: StatsviewOptions): Promise<void> {
  void opts;
  throw new BenchError('InternalError', 'statsview is not available in this build');
}
