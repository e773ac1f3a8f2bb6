import { detailView } from '../../controller/api/views';
import { createTask, deleteAllTasks, idleLauncher, startInProcessController, InProcessController, waitForStatus } from '../helpers/controller';
import { FixtureProcess, killAllStarted, startFixture, waitFor } from '../helpers/processes';

/**
 * `GET /metrics` itself (SPEC 8, docs/metrics.md): open unless a token is
 * set, then a bearer token; a finished round stays exported for the keep
 * time (after its task is deleted too) and then goes; every label is one of
 * a bounded few.
 */

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** The samples of a scrape in the text format (our metrics' label values hold no quotes or commas). */
function parseScrape(text: string): Sample[] {
  return text.split('\n').filter((line) => line !== '' && !line.startsWith('#')).map((line) => {
    const m = /^([a-z_:][a-z0-9_:]*)(?:\{(.*)\})? (\S+)$/i.exec(line);
    if (!m) throw new Error(`not a sample line: ${line}`);
    const labels = Object.fromEntries([...(m[2] ?? '').matchAll(/([a-z_]+)="([^"]*)"/g)].map((l) => [l[1], l[2]]));
    return { name: m[1], labels, value: Number(m[3]) };
  });
}

async function scrape(c: InProcessController, authorization?: string): Promise<Sample[]> {
  const res = await fetch(`${c.url}/metrics`, { headers: authorization ? { authorization } : {} });
  if (res.status !== 200) throw new Error(`GET /metrics answered ${res.status}`);
  return parseScrape(await res.text());
}

const LABELS = new Set(['task', 'round', 'code', 'class', 'window', 'quantile', 'state', 'status', 'kind']);

describe('GET /metrics', () => {
  let fixture: FixtureProcess;
  beforeAll(async () => {
    fixture = await startFixture(['--latency-ms', '1']);
  });
  afterAll(async () => {
    await fixture?.stop();
    killAllStarted();
  });

  test('without --metrics-token it is open, in the Prometheus text format, every task status listed', async () => {
    const c = await startInProcessController();
    try {
      const res = await fetch(`${c.url}/metrics`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
      const tasks = parseScrape(await res.text()).filter((s) => s.name === 'easbench_tasks');
      expect(tasks.map((s) => s.labels.status).sort()).toEqual(['CreateFailed', 'Creating', 'Deleting', 'Error', 'Running', 'Stopped', 'Stopping', 'Terminated', 'UpdateFailed', 'Updating']);
      expect(tasks.every((s) => s.value === 0)).toBe(true);
    } finally {
      await c.close();
    }
  });

  test('with --metrics-token only `Authorization: Bearer <token>` gets in; anything else is a 401 that says nothing more', async () => {
    const token = 'a-metrics-token-of-some-length';
    const c = await startInProcessController({ metricsToken: token });
    try {
      for (const authorization of [undefined, 'Bearer', `Bearer ${token}x`, `Bearer ${token.slice(0, -1)}`, `Basic ${token}`, token, 'Bearer a']) {
        const res = await fetch(`${c.url}/metrics`, { headers: authorization ? { authorization } : {} });
        expect([authorization, res.status]).toEqual([authorization, 401]);
        expect(res.headers.get('www-authenticate')).toBe('Bearer realm="metrics"');
        expect(await res.json()).toMatchObject({ Code: 'Unauthorized', Message: 'missing or invalid credentials' });
      }
      expect((await scrape(c, `Bearer ${token}`)).some((s) => s.name === 'easbench_tasks')).toBe(true);
      expect((await scrape(c, `bearer ${token}`)).some((s) => s.name === 'easbench_tasks')).toBe(true);
    } finally {
      await c.close();
    }
  });

  test('a round whose agents are still launching: its agents by state, and no latency figure of nothing measured', async () => {
    const c = await startInProcessController({}, { launcher: idleLauncher });
    try {
      const name = await createTask(c, { service: { serviceName: 'prom_idle', url: `${fixture.url}/ok` }, optional: { mode: 'manual', agentCount: 2, concurrency: 1, duration: 60 } });
      const samples = await waitFor('the launching agents in a scrape', async () => {
        const s = await scrape(c);
        return s.some((x) => x.name === 'easbench_agents' && x.labels.task === name && x.labels.state === 'launching' && x.value === 2) ? s : undefined;
      }, 10000, 50);
      const ofTask = samples.filter((x) => x.labels.task === name);
      expect(ofTask.filter((x) => x.name === 'easbench_agents' && x.labels.state !== 'launching').map((x) => x.value)).toEqual([0, 0, 0, 0, 0]);
      expect(ofTask.filter((x) => /^easbench_(response_time|requests_total)/.test(x.name))).toEqual([]);
      expect(ofTask.filter((x) => x.name === 'easbench_errors_total').every((x) => x.value === 0)).toBe(true);
      expect(samples.find((x) => x.name === 'easbench_tasks' && x.labels.status === 'Creating')?.value).toBe(1);
      await deleteAllTasks(c);
    } finally {
      await c.close();
    }
  });

  test('a finished round stays exported for the keep time, after its task is deleted too, then goes; every label is bounded', async () => {
    const c = await startInProcessController({ metricsKeepS: 6 });
    try {
      const name = await createTask(c, { service: { serviceName: 'prom_keep', url: `${fixture.url}/ok` }, optional: { mode: 'manual', concurrency: 1, duration: 2 } });
      const seen: Sample[] = [];
      const one = (samples: Sample[], metric: string, labels: Record<string, string>): number | undefined =>
        samples.find((s) => s.name === metric && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;
      await waitFor('a scrape of the running round: the task Running, its agent ready', async () => {
        const samples = await scrape(c);
        seen.push(...samples);
        return one(samples, 'easbench_tasks', { status: 'Running' }) === 1 && one(samples, 'easbench_agents', { task: name, state: 'ready' }) === 1 ? true : undefined;
      }, 30000, 100);
      const done = await waitForStatus(c, name, ['Stopped']);
      const requestsOf = (samples: Sample[]): number => samples.filter((s) => s.name === 'easbench_requests_total' && s.labels.task === name).reduce((sum, s) => sum + s.value, 0);
      const ended = await scrape(c);
      seen.push(...ended);
      expect(requestsOf(ended)).toBe(done.Result?.TotalRequests);
      await deleteAllTasks(c);
      expect(() => detailView(c.controller.manager, name)).toThrow(/does not exist/);
      const afterDelete = await scrape(c);
      expect(requestsOf(afterDelete)).toBe(done.Result?.TotalRequests);
      await waitFor('the round to leave the export after its keep time', async () => (requestsOf(await scrape(c)) === 0 ? true : undefined), 20000, 250);
      const unexpected = seen.flatMap((s) => Object.keys(s.labels).filter((l) => !LABELS.has(l)).map((l) => `${s.name}{${l}}`));
      expect(unexpected).toEqual([]);
      for (const s of seen) {
        if (s.labels.code !== undefined) expect(s.labels.code).toMatch(/^\d{3}$/);
        if (s.labels.quantile !== undefined) expect(s.labels.quantile).toMatch(/^(0|1|0\.\d+)$/);
        if (s.labels.window !== undefined) expect(['round', 'second']).toContain(s.labels.window);
      }
    } finally {
      await c.close();
    }
  });
});
