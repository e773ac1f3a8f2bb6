import * as fs from 'node:fs';
import * as path from 'node:path';
import { signedFetch } from '../helpers/api';
import { ControllerProcess, FixtureProcess, killAllStarted, lastJson, runEascmd, startController, startFixture, tempDir, writeTask } from '../helpers/processes';
import { RunningS3rver, S3RVER_CREDENTIALS, startS3rver } from '../helpers/s3rver';
import { launchBrowser, recordUrls } from '../helpers/browser';
import { renderReportHtml } from '../../controller/reports/html';
import type { ReportData } from '../../controller/reports/model';

interface Detail {
  TaskName: string;
  Status: string;
  Message: string;
  Result: { TotalRequests: number };
}

describe('reports in the stores', () => {
  let s3: RunningS3rver;
  let fixture: FixtureProcess;
  const dir = tempDir('report');

  beforeAll(async () => {
    s3 = await startS3rver(['reports']);
    fixture = await startFixture(['--latency-ms', '2']);
  });
  afterAll(async () => {
    await fixture?.stop();
    await s3?.close();
    killAllStarted();
  });

  const run = async (controller: ControllerProcess): Promise<{ detail: Detail; url: string; counted: number }> => {
    await fixture.reset();
    // thresholds that a 2 ms service holds: the report's headline has a real verdict with a thresholds table
    const task = writeTask(dir, { service: { serviceName: 'demo', url: `${fixture.url}/r` }, optional: { mode: 'manual', concurrency: 2, duration: 3 }, thresholds: { TP99: '< 1000', ErrorRate: '<= 0.01' } });
    const res = await runEascmd(['-c', controller.configFile, 'bench', 'create', task, '--wait', '--json']);
    const detail = lastJson<Detail>(res.stdout);
    const report = await runEascmd(['-c', controller.configFile, 'bench', 'report', detail.TaskName]);
    const url = /report url: (\S+)$/m.exec(report.stdout)?.[1] ?? '';
    return { detail, url, counted: (await fixture.stats()).requests };
  };

  test('a report in MinIO/S3 is fetched back through the presigned URL that `bench report` prints', async () => {
    const controller = await startController({ args: ['--report-store', `s3://reports/bench?endpoint=${s3.endpoint}&forcePathStyle=true`], env: S3RVER_CREDENTIALS });
    try {
      const { detail, url, counted } = await run(controller);
      expect(url.startsWith(`${s3.endpoint}/reports/bench/summary/${detail.TaskName}-10001-`)).toBe(true);
      expect(new URL(url).pathname).toMatch(new RegExp(`/summary/${detail.TaskName}-10001-[0-9a-f]{32}\\.html$`));
      expect(url).toContain('X-Amz-Signature=');
      const res = await fetch(url);
      expect(res.status).toBe(200);
      const html = await res.text();
      expect(html).toContain('<h2>Test Result</h2>');
      const api = await signedFetch(controller.url, controller.accessId, controller.secret, 'GET', `/api/v2/benchmark-tasks/cn-local/${detail.TaskName}/report`);
      const json = (await (await fetch(api.json.JsonUrl as string)).json()) as Detail;
      expect(json.Result.TotalRequests).toBe(counted);
      expect(detail.Result.TotalRequests).toBe(counted);
    } finally {
      await controller.stop();
    }
  });

  test('an unreachable store: retried, the Message says so, and `bench report` gives the local copy', async () => {
    const controller = await startController({ args: ['--report-store', 's3://reports/bench?endpoint=http://127.0.0.1:9&forcePathStyle=true'], env: S3RVER_CREDENTIALS });
    try {
      const { detail, url } = await run(controller);
      expect(detail.Status).toBe('Stopped');
      expect(detail.Message).toMatch(/report upload to the s3 store failed after 3 attempts \(.+\); the local copy is kept at http:\/\/127\.0\.0\.1:\d+\/reports\/summary\//);
      expect(url).toMatch(new RegExp(`^${controller.url}/reports/summary/${detail.TaskName}-10001-[0-9a-f]{32}\\.html$`));
      expect((await fetch(url)).status).toBe(200);
    } finally {
      await controller.stop();
    }
  });

  test('a local report is named with 128 random bits: its URL opens without credentials, the name from the task name alone is a 404', async () => {
    const controller = await startController();
    try {
      const { detail, url } = await run(controller);
      const secret = new RegExp(`^${controller.url}/reports/summary/${detail.TaskName}-10001-([0-9a-f]+)\\.html$`).exec(url)?.[1] ?? '';
      expect(secret.length).toBeGreaterThanOrEqual(24);
      expect((await fetch(url)).status).toBe(200);
      expect((await fetch(url.replace(/\.html$/, '.json'))).status).toBe(200);
      expect((await fetch(`${controller.url}/reports/summary/${detail.TaskName}-10001.html`)).status).toBe(404);
      expect((await fetch(`${controller.url}/reports/summary/${detail.TaskName}-10001.json`)).status).toBe(404);
      expect((await fetch(`${controller.url}/reports/summary/`)).status).toBe(404);
    } finally {
      await controller.stop();
    }
  });

  test('a real browser opens the report offline: every section and chart, no console error, no request leaving the file', async () => {
    const controller = await startController();
    const browser = await launchBrowser();
    try {
      const { url, counted } = await run(controller);
      const file = path.join(controller.dataDir, 'reports', ...new URL(url).pathname.split('/').slice(2));
      const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
      const errors: string[] = [];
      page.on('console', (m) => {
        if (m.type() === 'error') errors.push(m.text());
      });
      page.on('pageerror', (e) => errors.push(e.message));
      const requests = recordUrls(page);
      await page.goto(`file://${file}`);
      const headings = await page.locator('h2').allTextContents();
      for (const section of ['Basic Information', 'Stress Testing Configurations', 'Test Result', 'Test Monitoring']) expect(headings).toContain(section);
      expect(await page.locator('figure[id^="chart-"] svg').count()).toBeGreaterThanOrEqual(7);
      expect(await page.textContent('body')).toContain(String(counted));
      const shot = process.env.UPDATE_DOCS_IMAGES ? path.join(__dirname, '..', '..', 'docs', 'img', 'report.png') : path.join(dir, 'report.png');
      await page.screenshot({ path: shot, fullPage: true });
      expect(fs.statSync(shot).size).toBeGreaterThan(10000);
      expect(errors).toEqual([]);
      expect(requests.filter((u) => u !== `file://${file}` && !u.startsWith('data:'))).toEqual([]);
    } finally {
      await browser.close();
      await controller.stop();
    }
  });

  test('in a real browser the report opens on its verdict, then the key figures, and its charts span the page', async () => {
    const controller = await startController();
    const browser = await launchBrowser();
    try {
      const { detail } = await run(controller);
      const api = await signedFetch(controller.url, controller.accessId, controller.secret, 'GET', `/api/v2/benchmark-tasks/cn-local/${detail.TaskName}/report`);
      const data = (await (await fetch(api.json.JsonUrl as string)).json()) as ReportData;
      // the round's own verdict, as the controller wrote it
      if (!data.Verdict) throw new Error('the report data has no Verdict');
      expect(data.Verdict.Outcome).toBe('passed');
      expect(data.Verdict.Thresholds.map((t) => [t.Metric, t.Passed])).toEqual([['TP99', true], ['ErrorRate', true]]);
      const file = path.join(dir, 'headline.html');
      fs.writeFileSync(file, renderReportHtml(data));
      const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
      await page.goto(`file://${file}`);
      const headings = await page.locator('h2').allTextContents();
      expect(headings[0]).toBe(`Verdict: ${data.Verdict.Outcome}`);
      expect(headings[1]).toBe('Key figures');
      expect(await page.locator('#verdict .verdict-text').textContent()).toBe(data.Verdict.Text);
      // the headline is on the first screen, above the fold
      const box = await page.locator('#verdict').boundingBox();
      expect(box && box.y + box.height).toBeLessThan(900);
      expect(await page.locator('#verdict table').nth(1).locator('tr').count()).toBe(1 + data.Verdict.Thresholds.length);
      // the charts take the page's width, not a fixed half of it
      const body = await page.locator('body').boundingBox();
      const chart = await page.locator('#chart-qps svg').boundingBox();
      expect(chart && body && chart.width / body.width).toBeGreaterThan(0.95);
    } finally {
      await browser.close();
      await controller.stop();
    }
  });
});
