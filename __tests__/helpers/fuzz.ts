import * as http from 'node:http';
import fc from 'fast-check';
import { WebSocket } from 'ws';
import { ControllerClient } from '../../src/api/client';
import { AGENT_WS_PATH, API_PREFIX } from '../../src/contract';

/**
 * A time-boxed fuzz run against a live controller: random and mutated API
 * bodies, random `-D` updates of real tasks, random paths and escapes, and
 * random websocket frames on the agents' endpoint and the stats stream, all
 * signed with a real key where a key is needed (so they reach the code behind
 * the signature check). Between batches `/healthz` must answer; the caller
 * also checks that the process is still alive at the end.
 */
export interface FuzzTarget {
  url: string;
  accessId: string;
  secret: string;
  /** A service on 127.0.0.1 that valid tasks may load. */
  serviceUrl: string;
  region?: string;
}

export interface FuzzReport {
  seconds: number;
  apiCalls: number;
  updateCalls: number;
  wsSockets: number;
  wsFrames: number;
  healthChecks: number;
  /** HTTP status -> count, over every API call. */
  statuses: Record<string, number>;
  /** Health checks that got no answer, and answers that were not JSON where JSON is promised. */
  failures: string[];
}

const KNOWN_PATHS = [
  'service.serviceName', 'service.url', 'service.requestToken', 'data.content', 'data.path', 'data.multiLine',
  'http.headers', 'http.method', 'http.timeout', 'optional.mode', 'optional.duration', 'optional.requestCount',
  'optional.agentCount', 'optional.concurrency', 'optional.minQPS', 'optional.qpsGrowthDelta', 'optional.adjustInterval',
  'optional.maxQPS', 'optional.maxRT', 'optional.faultTolerate', 'optional.faultAction', 'llm.api', 'llm.testMode',
  'llm.requestRate', 'llm.burstiness', 'llm.dataset',
];
const OPTIONAL_KEYS = ['concurrency', 'agentCount', 'maxQPS', 'maxRT', 'faultTolerate', 'faultAction', 'qpsGrowthDelta', 'adjustInterval', 'duration', 'minQPS', 'mode', 'requestCount', '__proto__', 'constructor'];
const NASTY_SEGMENTS = ['%E0%A4%A', '%', '%00', '..', '..%2F..%2Fx', '%2e%2e', 'a%2Fb', '\u00e9', 'x'.repeat(300), '%ZZ', '*', 'benchmark-demo-0000'];

function randomValue(): fc.Arbitrary<unknown> {
  return fc.oneof(
    fc.string(), fc.double(), fc.integer(), fc.boolean(), fc.constant(null), fc.array(fc.integer(), { maxLength: 5 }),
    fc.object({ maxDepth: 2 }), fc.constantFrom(1e-300, -1, 0, 1e308, Number.MAX_SAFE_INTEGER, '\r\nX-Evil: 1', '/../../x', '=cmd|calc'),
  );
}

function setPath(target: Record<string, unknown>, path: string, value: unknown): void {
  const [section, key] = path.split('.');
  const inner = (target[section] as Record<string, unknown> | undefined) ?? {};
  target[section] = { ...inner, [key]: value };
}

export async function fuzzController(target: FuzzTarget, opts: { seconds: number; seed?: number; log?: (line: string) => void }): Promise<FuzzReport> {
  const region = target.region ?? 'cn-local';
  const client = new ControllerClient({ endpoint: target.url, accessId: target.accessId, accessKey: target.secret });
  const endpoint = new URL(target.url);
  let seed = opts.seed ?? Date.now() % 2 ** 31;
  const report: FuzzReport = { seconds: opts.seconds, apiCalls: 0, updateCalls: 0, wsSockets: 0, wsFrames: 0, healthChecks: 0, statuses: {}, failures: [] };
  const sample = <T>(arb: fc.Arbitrary<T>, n: number): T[] => fc.sample(arb, { numRuns: n, seed: seed++ });
  const validTask = (): Record<string, unknown> => ({
    service: { serviceName: 'fuzz', url: target.serviceUrl },
    data: { content: 'aGVsbG8K' },
    optional: { mode: 'manual', duration: 2, concurrency: 1, agentCount: 1 },
  });
  const liveTasks: string[] = [];

  /** One raw request, signed (or not), with the path sent exactly as given. */
  const raw = (method: string, pathWithQuery: string, body: Buffer | undefined, signed: boolean, extraHeaders: Record<string, string> = {}): Promise<{ status: number; text: string }> =>
    new Promise((resolve) => {
      const headers: Record<string, string> = { ...(signed ? client.signedHeaders(method, pathWithQuery, body) : {}), ...extraHeaders };
      if (body) headers['content-type'] = 'application/json';
      const req = http.request({ host: endpoint.hostname, port: endpoint.port, method, path: pathWithQuery, headers, timeout: 10000 }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', () => resolve({ status: -1, text: '' }));
      });
      req.on('timeout', () => req.destroy(new Error('timeout')));
      req.on('error', (err) => resolve({ status: -1, text: err.message }));
      req.end(body);
    });

  const record = (where: string, res: { status: number; text: string }): void => {
    report.apiCalls++;
    report.statuses[res.status] = (report.statuses[res.status] ?? 0) + 1;
    if (res.status >= 500 && res.status !== 507) report.failures.push(`${where}: HTTP ${res.status} ${res.text.slice(0, 200)}`);
    if (res.status === -1) report.failures.push(`${where}: no answer (${res.text})`);
  };

  const health = async (): Promise<void> => {
    report.healthChecks++;
    const res = await raw('GET', '/healthz', undefined, false);
    if (res.status !== 200) report.failures.push(`healthz answered ${res.status} ${res.text.slice(0, 100)}`);
  };

  const bodies = async (): Promise<void> => {
    const batch: Buffer[] = [
      ...sample(fc.jsonValue({ maxDepth: 5 }), 8).map((v) => Buffer.from(JSON.stringify(v) ?? 'null')),
      ...sample(fc.uint8Array({ maxLength: 512 }), 4).map((b) => Buffer.from(b)),
      ...sample(fc.tuple(fc.constantFrom(...KNOWN_PATHS), randomValue()), 12).map(([p, v]) => {
        const task = validTask();
        setPath(task, p, v);
        return Buffer.from(JSON.stringify(task));
      }),
    ];
    for (const body of batch) {
      const res = await raw('POST', API_PREFIX, body, true);
      record('POST task', res);
      if (res.status === 200) {
        const name = (JSON.parse(res.text) as { TaskName?: string }).TaskName;
        if (name) liveTasks.push(name);
      }
    }
  };

  const updates = async (): Promise<void> => {
    const names = liveTasks.slice(-3);
    if (names.length === 0) return;
    const defines = sample(fc.tuple(fc.constantFrom(...OPTIONAL_KEYS), randomValue()), 10);
    for (const [key, value] of defines) {
      const name = names[report.updateCalls % names.length];
      report.updateCalls++;
      record('PUT update', await raw('PUT', `${API_PREFIX}/${region}/${name}`, Buffer.from(JSON.stringify({ optional: { [key]: value } })), true));
    }
  };

  const paths = async (): Promise<void> => {
    const names = [...NASTY_SEGMENTS, ...liveTasks.slice(-2)];
    const combos = sample(fc.tuple(fc.constantFrom('GET', 'PUT', 'DELETE', 'POST'), fc.constantFrom(...names), fc.constantFrom('', '/start', '/stop', '/report', '/stats', '/records?format=csv', '/records?format=%FF', '/x/y'), fc.boolean()), 12);
    for (const [method, name, tail, signed] of combos) {
      // deleting and restarting real tasks is part of the fuzz, but keep them mostly alive for the updates
      if (method === 'DELETE' && liveTasks.includes(name) && tail === '') liveTasks.splice(liveTasks.indexOf(name), 1);
      record(`${method} path`, await raw(method, `${API_PREFIX}/${region}/${name}${tail}`, undefined, signed));
    }
  };

  const sockets = async (): Promise<void> => {
    const frames = [
      ...sample(fc.jsonValue({ maxDepth: 4 }), 10).map((v) => JSON.stringify(v) ?? 'null'),
      ...sample(fc.record({ type: fc.constantFrom('hello', 'ready', 'stats', 'done', 'log', 'assign'), token: fc.oneof(fc.string(), fc.integer(), fc.constant(undefined)), agentId: fc.oneof(fc.string(), fc.constant(null)), version: fc.oneof(fc.constant(1), fc.integer()), frame: fc.oneof(fc.object({ maxDepth: 2 }), fc.constant(null)) }, { requiredKeys: ['type'] }), 10).map((v) => JSON.stringify(v)),
      'null', '{"type":"stats"}', '{"type":"hello"}', '[]', '"hello"',
    ];
    const binaries = sample(fc.uint8Array({ maxLength: 256 }), 3).map((b) => Buffer.from(b));
    const stream = liveTasks.length > 0 ? client.statsStreamRequest(region, liveTasks[liveTasks.length - 1]) : undefined;
    const targets: { url: string; headers: Record<string, string> }[] = [
      { url: `ws://${endpoint.host}${AGENT_WS_PATH}`, headers: {} },
      { url: `ws://${endpoint.host}${AGENT_WS_PATH}`, headers: { Origin: 'http://evil.example' } },
      { url: `ws://${endpoint.host}${API_PREFIX}/${region}/%E0%A4%A/stats/stream`, headers: {} },
      ...(stream ? [{ url: stream.url, headers: stream.headers }] : []),
    ];
    await Promise.all(targets.map((t) => new Promise<void>((resolve) => {
      report.wsSockets++;
      const ws = new WebSocket(t.url, { headers: t.headers, handshakeTimeout: 5000 });
      const done = (): void => {
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        ws.terminate();
        done();
      }, 3000);
      ws.on('open', () => {
        for (const f of frames) {
          if (ws.readyState !== WebSocket.OPEN) break;
          ws.send(f);
          report.wsFrames++;
        }
        for (const b of binaries) if (ws.readyState === WebSocket.OPEN) ws.send(b);
        ws.close();
      });
      ws.on('close', done);
      ws.on('error', () => undefined);
      ws.on('unexpected-response', (_req, res) => {
        res.resume();
        done();
      });
    })));
  };

  const deadline = Date.now() + opts.seconds * 1000;
  let round = 0;
  while (Date.now() < deadline) {
    round++;
    await bodies();
    await updates();
    await paths();
    await sockets();
    await health();
    if (round % 5 === 0) opts.log?.(`fuzz: ${report.apiCalls} API calls, ${report.wsFrames} frames, ${report.failures.length} failures`);
  }
  // the controller must still answer a signed call with a well-formed list
  try {
    const list = await client.listTasks();
    if (!Array.isArray(list.Tasks)) report.failures.push('list answered without Tasks');
  } catch (err) {
    report.failures.push(`list failed at the end: ${(err as Error).message}`);
  }
  await health();
  return report;
}
