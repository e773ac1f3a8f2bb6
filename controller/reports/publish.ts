import { ReportStore } from '../storage';
import { renderReportHtml } from './html';
import { ReportData, reportKey } from './model';

export interface PublishedReport {
  reportUrl: string;
  jsonUrl: string;
  keys: string[];
  /** Set when the upload to the configured store failed and the URLs are the local copy's. */
  uploadError?: string;
}

export interface PublishOptions {
  /** Attempts at the configured store before falling back to the local copy. */
  attempts: number;
  /** First backoff; doubled after each failed attempt. */
  backoffMs: number;
}

async function putBoth(store: ReportStore, data: ReportData, secret: string, html: Buffer, json: Buffer): Promise<PublishedReport> {
  const htmlKey = reportKey(data.TaskName, data.RoundId, secret, 'html');
  const jsonKey = reportKey(data.TaskName, data.RoundId, secret, 'json');
  await store.put(jsonKey, json, 'application/json');
  await store.put(htmlKey, html, 'text/html; charset=utf-8');
  return { reportUrl: await store.url(htmlKey), jsonUrl: await store.url(jsonKey), keys: [htmlKey, jsonKey] };
}

/**
 * Renders a round's report (HTML + JSON) and stores it. A copy always goes to
 * the controller's local disk first, so an unreachable store loses nothing:
 * the upload is retried with backoff, and if it still fails the local URLs are
 * returned with the reason. `secret` is the unguessable part of the keys
 * (see reportKey), the same each time a round's report is written again.
 */
export async function publishReport(store: ReportStore, local: ReportStore, data: ReportData, secret: string, options: PublishOptions): Promise<PublishedReport> {
  const html = Buffer.from(renderReportHtml(data));
  const json = Buffer.from(JSON.stringify(data, null, 1));
  const localCopy = await putBoth(local, data, secret, html, json);
  if (store === local) return localCopy;
  let lastError = '';
  for (let attempt = 0; attempt < options.attempts; attempt++) {
    if (attempt > 0) await new Promise((r) => setTimeout(r, options.backoffMs * 2 ** (attempt - 1)));
    try {
      return await putBoth(store, data, secret, html, json);
    } catch (err) {
      lastError = (err as Error).message || String(err);
    }
  }
  return { ...localCopy, uploadError: `report upload to the ${store.kind} store failed after ${options.attempts} attempts (${lastError}); the local copy is kept at ${localCopy.reportUrl}` };
}
