import type { Browser, Page } from 'playwright-core';
import { BIN, ControllerProcess, runEascmd, startProcess } from './processes';

/** A task's report as `bench report` names it: the HTML served at that URL. */
export async function reportHtml(controller: ControllerProcess, taskName: string): Promise<string> {
  const report = await runEascmd(['-c', controller.configFile, 'bench', 'report', taskName]);
  const url = /report url: (\S+)$/m.exec(report.stdout)?.[1];
  if (!url) throw new Error(`bench report ${taskName} named no report url: ${report.stdout}${report.stderr}`);
  return (await fetch(url)).text();
}

/** One section of a report's HTML by its id (`requests-by-name`), or '' when it has none. */
export function reportSection(html: string, id: string): string {
  return new RegExp(`<section id="${id}">.*?</section>`, 's').exec(html)?.[0] ?? '';
}

/** The live page's chart data by chart id and series name (`window.__statsview.charts`). */
export type PageCharts = Record<string, Record<string, [number | string, number][]>>;

export interface LivePage {
  page: Page;
  /** The page's charts as they stand. */
  charts(): Promise<PageCharts>;
  /** Closes the page and stops `bench visualize`. */
  close(): Promise<void>;
}

/** `bench visualize TASK` and its page opened in `browser`. */
export async function openLivePage(browser: Browser, controller: ControllerProcess, taskName: string): Promise<LivePage> {
  const view = await startProcess(BIN.eascmd, ['-c', controller.configFile, 'bench', 'visualize', taskName], /Click the link (http:\/\/127\.0\.0\.1:\d+\/eas-benchmark\/statsview)/, { NO_COLOR: '1' }, 30000);
  const page = await browser.newPage();
  try {
    await page.goto(view.match[1]);
  } catch (err) {
    await view.stop('SIGINT');
    throw err;
  }
  return {
    page,
    charts: () => page.evaluate(() => (window as unknown as { __statsview: { charts: PageCharts } }).__statsview.charts),
    close: async () => {
      await page.close();
      await view.stop('SIGINT');
    },
  };
}
