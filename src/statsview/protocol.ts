import { StatsPoint, StatsStreamFrame, TaskDetail } from '../contract';

/**
 * What the statsview server pushes to the browsers: the controller's frames
 * as they are, plus the state of the statsview's own link to the controller
 * (the page shows a banner while it is down).
 */

/** `lost`: the controller stream dropped and is being re-opened; `connected`: back (after a loss). */
export type LinkState = 'connecting' | 'connected' | 'lost';

export type BrowserFrame = StatsStreamFrame | { Type: 'link'; State: LinkState };

/** The page's path and the paths under it, served on 127.0.0.1 only. */
export const PAGE_PATH = '/eas-benchmark/statsview';
export const ECHARTS_PATH = `${PAGE_PATH}/echarts.min.js`;
export const SCRIPT_PATH = `${PAGE_PATH}/app.js`;
export const BROWSER_WS_PATH = `${PAGE_PATH}/ws`;

/** The frame a browser gets on connect: the whole round so far. */
export function historyFrame(task: TaskDetail, series: StatsPoint[]): StatsStreamFrame {
  return { Type: 'history', Task: task, Series: series };
}
