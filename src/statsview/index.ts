import { ControllerClient } from '../api/client';
import { ApiError } from '../api/errors';
import { BenchError, StatsStreamFrame, TaskDetail, isFinalStatus } from '../contract';
import { Lines } from '../output/lines';
import { renderSummary } from '../output/summary';
import { StatsHistory } from './history';
import { BrowserFrame, LinkState } from './protocol';
import { PageServer } from './server';
import { ControllerStream } from './upstream';

/**
 * The statsview (SPEC 2.3): a page on 127.0.0.1 fed by one signed websocket
 * to the controller's stats stream. CTRL+C closes the page, never the task.
 * When the task ends while the page is served, the summary goes to the
 * terminal and the command returns after a short grace period so the pages
 * get the last frame. A task that had already ended when the page was opened
 * gets its summary at once, and the page stays until CTRL+C (there is nothing
 * to wait for, but the charts are worth a look).
 */
export interface StatsviewOptions {
  client: ControllerClient;
  region: string;
  taskName: string;
  /** Printed in the "reopen it with" hint: eascmd -c CONFIG bench visualize NAME. */
  configPath: string;
  /** Where the three lines and the summary go (the CLI's output). */
  out: Lines;
  /** How long the page stays after the task ended, so browsers get the last frame. */
  endGraceMs?: number;
}

const DEFAULT_END_GRACE_MS = 2000;
/** How much longer than the grace period the report URL is waited for. */
const REPORT_WAIT_MS = 5000;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Quotes a path for the hint line only when a shell would need it. */
function shellWord(word: string): string {
  return /^[\w@%+=:,./~-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

export async function runStatsview(opts: StatsviewOptions): Promise<void> {
  const { client, region, taskName, out } = opts;
  // Fails with TaskNotFound (and the like) before anything is served; the
  // stream's upgrade answers a bare 401/404 that says less.
  const first: TaskDetail = await client.getTask(region, taskName);
  const openedFinal = isFinalStatus(first.Status);
  const history = new StatsHistory();
  let link: LinkState = 'connecting';

  const pages = new PageServer({
    greeting: () => {
      const frames: BrowserFrame[] = [];
      const snapshot = history.snapshot();
      if (snapshot) frames.push(snapshot);
      if (link === 'lost') frames.push({ Type: 'link', State: 'lost' });
      return frames;
    },
  });
  const url = await pages.listen();

  let finish: (err?: unknown) => void = () => undefined;
  const finished = new Promise<void>((resolve, reject) => {
    finish = (err?: unknown) => (err === undefined ? resolve() : reject(err));
  });

  // A round that ends while served: summary, then close after the grace period.
  // `live` turns true once the task was seen not final (a new round of a finished task counts too).
  let live = !openedFinal;
  let ending = false;
  const onFrame = (frame: StatsStreamFrame): void => {
    const relay = history.apply(frame);
    pages.broadcast(relay);
    if (!isFinalStatus(frame.Task.Status)) {
      live = true;
      return;
    }
    if (live && !ending) {
      ending = true;
      void endRound(frame.Task);
    }
  };

  const endRound = async (task: TaskDetail): Promise<void> => {
    out.print(renderSummary(task));
    const graceMs = opts.endGraceMs ?? DEFAULT_END_GRACE_MS;
    // The report URL too, as --wait prints it, unless the report store is slow.
    const report = client.getReport(region, taskName).then(
      (r) => out.ok(`Benchmark task ${taskName} report url: ${r.ReportUrl}`),
      () => undefined,
    );
    await Promise.all([sleep(graceMs), Promise.race([report, sleep(graceMs + REPORT_WAIT_MS)])]);
    finish();
  };

  const upstream = new ControllerStream({
    sign: () => client.statsStreamRequest(region, taskName),
    handlers: {
      frame: onFrame,
      link: (state) => {
        link = state;
        pages.broadcast({ Type: 'link', State: state });
        out.note(state === 'lost' ? 'connection to the controller lost, reconnecting...' : 'reconnected to the controller');
      },
      refused: () => {
        // Refused or closed on purpose: if the task is gone there is nothing left to show.
        client.getTask(region, taskName).then(
          () => undefined,
          (err: unknown) => {
            if (err instanceof ApiError && err.code === 'TaskNotFound') finish(new BenchError('TaskNotFound', `task ${taskName} was deleted while the statsview was open`, { resource: taskName }));
          },
        );
      },
    },
  });

  const onSigint = (): void => finish();
  process.once('SIGINT', onSigint);

  if (openedFinal) out.print(renderSummary(first));
  out.ok(`Click the link ${url} to observe realtime visualization details, you can turn it off with CTRL+C.`);
  out.print('Turning off will not interrupt the benchmark test task, and you can reopen it by the visualize command:');
  out.print(`eascmd -c ${shellWord(opts.configPath)} bench visualize ${taskName}`);
  upstream.start();

  try {
    await finished;
  } finally {
    process.removeListener('SIGINT', onSigint);
    upstream.close();
    await pages.close();
  }
}
