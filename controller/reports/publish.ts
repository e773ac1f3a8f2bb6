import { ReportStore } from '../storage';
import { renderReportHtml } from './html';
import { ReportData, reportKey } from './model';

export interface PublishedReport {
  reportUrl: string;
  jsonUrl: string;
  keys: string[];
}

/** Renders a round's report (HTML + JSON) and puts both into the store. */
export async function publishReport(store: ReportStore, data: ReportData): Promise<PublishedReport> {
  const htmlKey = reportKey(data.TaskName, data.RoundId, 'html');
  const jsonKey = reportKey(data.TaskName, data.RoundId, 'json');
  await store.put(jsonKey, Buffer.from(JSON.stringify(data, null, 1)), 'application/json');
  await store.put(htmlKey, Buffer.from(renderReportHtml(data)), 'text/html; charset=utf-8');
  return { reportUrl: await store.url(htmlKey), jsonUrl: await store.url(jsonKey), keys: [htmlKey, jsonKey] };
}
