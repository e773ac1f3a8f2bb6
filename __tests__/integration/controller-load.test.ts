import { API_PREFIX, GetTaskResponse, isFinalStatus, ListTasksResponse, ReportResponse, StatsPoint, StatsResponse, StatsStreamFrame } from '../../src/contract';
import { openStatsStream, signedFetch } from '../helpers/api';
import { ControllerProcess, FixtureProcess, killAllStarted, startController, startFixture, waitFor } from '../helpers/processes';

/**
 * The controller under load: 4 tasks running at once while 20 clients follow
 * their stats streams and the API is called in a loop. Only functional facts
 * are asserted; the machine is shared, so the API latency is printed, not
 * judged (`npm run bench` measures it).
 */

const TASK_COUNT = 4;
const STREAMS_PER_TASK = 5;
/** Streams opened before the tasks have any second; the others open later and get the seconds so far as history. */
const EARLY_STREAMS_PER_TASK = 2;
const DURATION_S = 12;
/** The API loop stops when every task is Stopped, or at either bound. */
const MAX_API_CALLS = 2000;
const MAX_API_LOOP_MS = 90_000;
const PAUSE_BETWEEN_CALLS_MS = 10;

interface ApiCall {
  route: 'ls' | 'desc' | 'stats';
  ms: number;
  /** What is wrong with the answer; undefined when it is a 200 with a well-formed body. */
  problem?: string;
}

/** What one stream client received. */
interface StreamFollower {
  taskName: string;
  seconds: StatsPoint[];
  /** How many of the seconds came in the history frame sent on connect. */
  historySeconds: number;
  frames: number;
  /** Names of other tasks seen in frames of this stream (there should be none). */
  otherTasks: string[];
  /** `task ended` once a frame shows the task in a final status; otherwise why the stream ended before that. */
  outcome?: string;
  close(): void;
}

function follow(controller: ControllerProcess, taskName: string): StreamFollower {
  const ws = openStatsStream(controller.url, controller.accessId, controller.secret, taskName);
  const follower: StreamFollower = { taskName, seconds: [], historySeconds: 0, frames: 0, otherTasks: [], close: () => ws.close() };
  ws.on('message', (data) => {
    const frame = JSON.parse(String(data)) as StatsStreamFrame;
    if (frame.Task.TaskName !== taskName) follower.otherTasks.push(frame.Task.TaskName);
    follower.frames++;
    if (frame.Type === 'history') {
      follower.seconds.push(...frame.Series);
      follower.historySeconds = frame.Series.length;
    }
    if (frame.Type === 'second') follower.seconds.push(frame.Point);
    if (isFinalStatus(frame.Task.Status)) follower.outcome ??= 'task ended';
  });
  ws.on('error', (err) => (follower.outcome ??= `stream error: ${err.message}`));
  ws.on('close', (code) => (follower.outcome ??= `stream closed (${code}) before the task ended`));
  return follower;
}

const isPoint = (p: StatsPoint): boolean => typeof p.Time === 'number' && typeof p.Requests === 'number' && typeof p.RT?.TP99 === 'number';

/** Why a 200 body of each route is not well formed, or undefined. */
const BODY_PROBLEMS = {
  ls: (body: ListTasksResponse, names: string[]): string | undefined => {
    if (!Array.isArray(body.Tasks)) return 'no Tasks array';
    const listed = new Set(body.Tasks.map((t) => t.TaskName));
    const missing = names.filter((n) => !listed.has(n));
    return missing.length > 0 ? `tasks missing from the list: ${missing.join(', ')}` : undefined;
  },
  desc: (body: GetTaskResponse, name: string): string | undefined => {
    if (body.TaskName !== name) return `TaskName ${body.TaskName}, asked ${name}`;
    if (typeof body.Status !== 'string' || !Array.isArray(body.Events) || typeof body.Config?.service?.url !== 'string') return 'no Status, Events or Config';
    return undefined;
  },
  stats: (body: StatsResponse, name: string): string | undefined => {
    if (body.TaskName !== name) return `TaskName ${body.TaskName}, asked ${name}`;
    if (!Array.isArray(body.Series) || !body.Series.every(isPoint) || !Array.isArray(body.Events)) return 'no well-formed Series or Events';
    return undefined;
  },
};

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

describe('the controller under load: 4 tasks, 20 stats streams and API calls at once', () => {
  let controller: ControllerProcess;
  let fixture: FixtureProcess;
  const followers: StreamFollower[] = [];

  beforeAll(async () => {
    [controller, fixture] = await Promise.all([startController(), startFixture(['--latency-ms', '5'])]);
  });
  afterAll(async () => {
    for (const f of followers) f.close();
    await controller?.stop();
    await fixture?.stop();
    killAllStarted();
  });

  const api = async <T>(method: string, path: string, body?: string): Promise<{ status: number; body: T; ms: number }> => {
    const started = performance.now();
    const res = await signedFetch(controller.url, controller.accessId, controller.secret, method, path, body);
    return { status: res.status, body: res.json as unknown as T, ms: performance.now() - started };
  };
  const taskPath = (name: string, suffix = ''): string => `${API_PREFIX}/cn-local/${name}${suffix}`;

  test('every call answered, every stream gets its own task seconds only, every request counted once', async () => {
    await fixture.reset();
    // each task on its own path, so the fixture counts each task's requests apart
    const created = await Promise.all(
      Array.from({ length: TASK_COUNT }, (_, i) =>
        api<{ TaskName: string }>('POST', API_PREFIX, JSON.stringify({ service: { serviceName: 'load', url: `${fixture.url}/task-${i}` }, optional: { mode: 'manual', agentCount: 1, concurrency: 2, duration: DURATION_S } })),
      ),
    );
    expect(created.map((c) => c.status)).toEqual(Array(TASK_COUNT).fill(200));
    const names = created.map((c) => c.body.TaskName);
    const openStreams = (count: number): void => {
      for (const name of names) for (let k = 0; k < count; k++) followers.push(follow(controller, name));
    };
    openStreams(EARLY_STREAMS_PER_TASK);

    const calls: ApiCall[] = [];
    const stopped = new Set<string>();
    const loopStarted = Date.now();
    /** One GET of the loop, recorded with its latency and what is wrong with its answer, if anything. */
    const call = async <T>(route: ApiCall['route'], path: string, problemOf: (body: T) => string | undefined): Promise<T | undefined> => {
      const res = await api<T>('GET', path);
      const ok = res.status === 200;
      calls.push({ route, ms: res.ms, problem: ok ? problemOf(res.body) : `status ${res.status}` });
      return ok ? res.body : undefined;
    };
    const apiLoop = (async () => {
      for (let i = 0; i < MAX_API_CALLS && Date.now() - loopStarted < MAX_API_LOOP_MS && stopped.size < TASK_COUNT; i++) {
        const name = names[i % TASK_COUNT];
        const route = (['ls', 'desc', 'stats'] as const)[i % 3];
        if (route === 'ls') {
          await call<ListTasksResponse>(route, API_PREFIX, (body) => BODY_PROBLEMS.ls(body, names));
        } else if (route === 'desc') {
          const detail = await call<GetTaskResponse>(route, taskPath(name), (body) => BODY_PROBLEMS.desc(body, name));
          if (detail?.Status === 'Stopped') stopped.add(name);
        } else {
          await call<StatsResponse>(route, taskPath(name, '/stats'), (body) => BODY_PROBLEMS.stats(body, name));
        }
        await new Promise((r) => setTimeout(r, PAUSE_BETWEEN_CALLS_MS));
      }
    })();

    // the later streams join mid-run, so their first frame carries seconds already recorded
    await waitFor('a few seconds recorded in every task', async () => {
      const stats = await Promise.all(names.map((n) => api<StatsResponse>('GET', taskPath(n, '/stats'))));
      return stats.every((s) => s.body.Series?.length >= 3);
    }, 60_000, 250);
    const early = followers.length;
    openStreams(STREAMS_PER_TASK - EARLY_STREAMS_PER_TASK);
    await apiLoop;

    expect(stopped.size).toBe(TASK_COUNT);
    expect(calls.filter((c) => c.problem !== undefined)).toEqual([]);
    const latencies = calls.map((c) => c.ms).sort((a, b) => a - b);
    console.log(
      `controller API under load: ${calls.length} calls (ls, desc, stats) in ${((Date.now() - loopStarted) / 1000).toFixed(1)} s, ` +
        `p50 ${quantile(latencies, 0.5).toFixed(1)} ms, p99 ${quantile(latencies, 0.99).toFixed(1)} ms, max ${latencies[latencies.length - 1].toFixed(1)} ms ` +
        `(information only: npm run bench measures it)`,
    );

    await waitFor('every stream client to see its task end', () => followers.every((f) => f.outcome !== undefined), 30_000);
    expect(followers.length).toBe(TASK_COUNT * STREAMS_PER_TASK);
    // the late ones joined after 3 seconds were recorded: their history frame carried them
    expect(followers.slice(early).every((f) => f.historySeconds >= 3)).toBe(true);
    const counted = await fixture.stats();
    let totalRequests = 0;
    for (const [i, name] of names.entries()) {
      const detail = await api<GetTaskResponse>('GET', taskPath(name));
      expect(detail.body.Status).toBe('Stopped');
      const requests = detail.body.Result?.TotalRequests ?? -1;
      expect(requests).toBeGreaterThan(0);
      expect(requests).toBe(counted.byPath[`/task-${i}`]);
      totalRequests += requests;

      const series = (await api<StatsResponse>('GET', taskPath(name, '/stats'))).body.Series;
      const expected = series.map((p) => [p.Time, p.Requests]);
      for (const f of followers.filter((f) => f.taskName === name)) {
        expect({ task: name, outcome: f.outcome, otherTasks: f.otherTasks }).toEqual({ task: name, outcome: 'task ended', otherTasks: [] });
        expect(f.seconds.map((p) => [p.Time, p.Requests])).toEqual(expected);
      }

      const report = await api<ReportResponse>('GET', taskPath(name, '/report'));
      expect(report.status).toBe(200);
      const html = await fetch(report.body.ReportUrl);
      expect(html.status).toBe(200);
      expect(await html.text()).toContain('<h2>Test Result</h2>');
    }
    expect(totalRequests).toBe(counted.requests);
    console.log(`${totalRequests} requests in ${TASK_COUNT} tasks; ${followers.reduce((n, f) => n + f.frames, 0)} frames on ${followers.length} streams`);
  }, 240_000);
});
