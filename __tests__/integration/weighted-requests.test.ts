import type { Browser } from 'playwright-core';
import { launchBrowser } from '../helpers/browser';
import { ControllerProcess, FixtureProcess, killAllStarted, lastJson, runEascmd, startController, startFixture, tempDir, writeTask } from '../helpers/processes';
import { openLivePage, reportHtml, reportSection } from '../helpers/task-views';

interface Detail {
  TaskName: string;
  Status: string;
  DesiredAgent: number;
  Verdict?: { Thresholds?: { Metric: string; Value: number | null; Passed: boolean }[] };
  Result?: { TotalRequests: number; ByName?: { Name: string; Requests: number; Errors: number; QPS: number; TP50: number; TP90: number; TP99: number; TP999: number }[] };
}

describe('weighted requests: a mix of named requests, end to end', () => {
  let controller: ControllerProcess;
  let fixture: FixtureProcess;
  let browser: Browser;
  const dir = tempDir('weighted');
  let finished: Detail | undefined;

  beforeAll(async () => {
    fixture = await startFixture(['--latency-ms', '1']);
    controller = await startController({ args: ['--max-agent-qps', '100'] });
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await controller?.stop();
    await fixture?.stop();
    killAllStarted();
  });

  const run = async (optional: Record<string, unknown>): Promise<Detail> => {
    const task = {
      service: { serviceName: 'mix', url: `${fixture.url}/api/predict/mix` },
      requests: [
        { name: 'search', path: '/api/search?q=1', weight: 3 },
        { name: 'order', method: 'POST', path: '/api/order', body: '{"id":1}', headers: ['Content-Type:application/json'], weight: 1 },
      ],
      // a name's own figures judged (generous: this is a shared machine)
      thresholds: { 'search.ErrorRate': '== 0', 'order.TP99.9': '< 60000' },
      optional,
    };
    const res = await runEascmd(['-c', controller.configFile, 'bench', 'create', writeTask(dir, task), '--wait', '--json'], { timeoutMs: 120000 });
    return lastJson<Detail>(res.stdout);
  };

  test.each([
    ['open loop on two agents (stages)', { mode: 'stages', startQPS: 200, stages: [{ duration: 4, qps: 200 }] }],
    ['closed loop (manual)', { mode: 'manual', agentCount: 2, concurrency: 2, duration: 3 }],
  ])('%s: the service sees the names 3:1 within 10%%, on their own paths and methods, and every request is counted', async (_name, optional) => {
    await fixture.reset();
    const detail = await run(optional);
    expect(detail.Status).toBe('Stopped');
    expect(detail.DesiredAgent).toBe(2);
    const stats = await fixture.stats();
    const search = stats.byPath['/api/search'] ?? 0;
    const order = stats.byPath['/api/order'] ?? 0;
    expect(search + order).toBe(stats.requests);
    expect(detail.Result?.TotalRequests).toBe(stats.requests);
    expect(order).toBeGreaterThan(0);
    expect(Math.abs(search / order - 3) / 3).toBeLessThanOrEqual(0.1);
    expect(stats.byMethod).toEqual({ GET: search, POST: order });
    // each name's figures, merged over both agents, count what the service counted on its path
    const byName = Object.fromEntries((detail.Result?.ByName ?? []).map((n) => [n.Name, n]));
    expect(byName.search).toMatchObject({ Requests: search, Errors: 0 });
    expect(byName.order).toMatchObject({ Requests: order, Errors: 0 });
    for (const n of [byName.search, byName.order]) {
      expect(n.QPS).toBeGreaterThan(0);
      expect(n.TP50).toBeGreaterThan(0);
      expect(n.TP999).toBeGreaterThanOrEqual(n.TP99);
    }
    expect(detail.Verdict?.Thresholds?.map((t) => [t.Metric, t.Value, t.Passed])).toEqual([
      ['search.ErrorRate', 0, true],
      ['order.TP99.9', byName.order.TP999, true],
    ]);
    const desc = await runEascmd(['-c', controller.configFile, 'bench', 'desc', detail.TaskName]);
    expect(desc.stdout).toMatch(new RegExp(`\\| +Requests \\| search: ${search} requests, 0\\.00% errors, [0-9.,]+ QPS, TP50 `));
    expect(desc.stdout).toContain(`order: ${order} requests`);
    finished = detail;
  });

  test('the report and the live page show each name with its figures', async () => {
    const detail = finished!;
    const names = detail.Result?.ByName ?? [];
    const section = reportSection(await reportHtml(controller, detail.TaskName), 'requests-by-name');
    for (const n of names) expect(section).toContain(`<tr><td>${n.Name}</td><td>${n.Requests.toLocaleString('en-US')}</td><td>0</td><td>0.00%</td>`);

    const live = await openLivePage(browser, controller, detail.TaskName);
    try {
      await live.page.waitForFunction(() => document.getElementById('task-names')?.textContent !== '-', undefined, { timeout: 10000 });
      const n2 = (v: number): string => String(Number(v.toFixed(2)));
      const expected = names.map((n) => `${n.Name}: ${n.Requests} requests, 0.00% errors, ${n2(n.QPS)} QPS, TP50 ${n2(n.TP50)} ms, TP90 ${n2(n.TP90)} ms, TP99 ${n2(n.TP99)} ms, TP99.9 ${n2(n.TP999)} ms`);
      expect(await live.page.locator('#task-names').textContent()).toBe(expected.join('\n'));
    } finally {
      await live.close();
    }
  });
});
