import { encodeRequests } from '../../agent/raw-http/request-encoder';
import { rawSenderRefusal } from '../../agent/raw-http/request-encoder';
import { prepareRequests } from '../../agent/undici-sender';
import { SecondAggregator } from '../../controller/metrics/aggregate';
import { decodeFrame, FrameRefused } from '../../controller/metrics/frame-histograms';
import { evaluateThresholds } from '../../controller/metrics/thresholds';
import { parseAgentMessage, taskThresholds, thresholdUnit, validateTask, weightedCycle, type AgentToController, type MixedRequest, type RequestTemplate, type RoundResult, type TaskSpec } from '../../src/contract';
import { createLatencyHistogram, encodeHistogram, recordUs } from '../../src/measure/histogram';
import { validAgentMessages } from '../helpers/agent-frames';

const mixed = (name: string, weight: number, extra: Partial<MixedRequest> = {}): MixedRequest => ({ name, url: `http://127.0.0.1:9/api/${name}`, method: 'GET', headers: [], bodies: [], weight, ...extra });
const template = (mix: MixedRequest[]): RequestTemplate => ({ url: mix[0].url, method: mix[0].method, headers: mix[0].headers, bodies: mix[0].bodies, timeoutMs: 1000, mix });

describe('the weighted picker', () => {
  test('smooth weighted round-robin: 3:1 is exactly three and one in every cycle of 4, spread, not bunched', () => {
    expect(weightedCycle([3, 1])).toEqual([0, 0, 1, 0]);
    expect(weightedCycle([5, 1, 1])).toEqual([0, 0, 1, 0, 2, 0, 0]);
    const cycle = weightedCycle([7, 2, 1]);
    expect(cycle.length).toBe(10);
    expect([0, 1, 2].map((i) => cycle.filter((c) => c === i).length)).toEqual([7, 2, 1]);
  });

  test('both senders prepare one cycle in the weighted order, each named request with its own line, headers and body', () => {
    const t = template([mixed('a', 3), mixed('b', 1, { method: 'POST', headers: [['x-kind', 'b']], bodies: [Buffer.from('hi').toString('base64')] })]);
    const raw = encodeRequests(t).requests.map((b) => b.toString('latin1'));
    expect(raw.map((r) => r.split(' ')[1])).toEqual(['/api/a', '/api/a', '/api/b', '/api/a']);
    expect(raw[2]).toContain('POST /api/b HTTP/1.1\r\n');
    expect(raw[2]).toContain('x-kind: b\r\n');
    expect(raw[2].endsWith('content-length: 2\r\n\r\nhi')).toBe(true);
    const undici = prepareRequests(t);
    expect(undici.origin).toBe('http://127.0.0.1:9');
    expect(undici.requests.map((r) => `${r.options.method} ${r.options.path}`)).toEqual(['GET /api/a', 'GET /api/a', 'POST /api/b', 'GET /api/a']);
  });

  test('the raw sender leaves a mix of HEAD and other methods to undici (its parser reads a load as one or the other)', () => {
    expect(rawSenderRefusal(template([mixed('a', 1), mixed('b', 1)]))).toBeNull();
    expect(rawSenderRefusal(template([mixed('a', 1), mixed('b', 1, { method: 'HEAD' })]))).toBe('HEAD is mixed with other methods');
  });
});

describe('requests in the task', () => {
  const base = { service: { serviceName: 'demo', url: 'http://127.0.0.1:8080/api/predict/demo' } };
  const errorsOf = (requests: unknown, extra: Record<string, unknown> = {}) => {
    const result = validateTask({ ...base, ...extra, requests });
    return result.ok ? [] : result.errors;
  };

  test('a valid mix passes; each problem is refused at its field', () => {
    expect(errorsOf([{ name: 'search', path: '/search?q=1', weight: 3 }, { name: 'order', method: 'POST', url: 'http://127.0.0.1:8080/order', body: '{"id":1}', headers: ['Content-Type:application/json'] }])).toEqual([]);
    expect(errorsOf([{ name: 'a', path: '/a' }, { name: 'a', path: '/b' }])).toEqual([{ field: 'requests[1].name', message: '"a" is named twice: each name has its own figures' }]);
    expect(errorsOf([{ name: 'a' }])[0]).toMatchObject({ field: 'requests[0]', message: expect.stringContaining('"path"') });
    expect(errorsOf([{ name: 'a', url: 'http://other:1/x' }])[0]).toMatchObject({ field: 'requests[0].url', message: expect.stringContaining('origin http://127.0.0.1:8080') });
    expect(errorsOf([{ name: 'a', path: 'x' }])[0].field).toBe('requests[0].path');
    expect(errorsOf([{ name: 'a', path: '/x', data: 'not base64!' }])[0].field).toBe('requests[0].data');
    expect(errorsOf([{ name: 'a', path: '/x', weight: 0 }])[0].field).toBe('requests[0].weight');
    expect(errorsOf([{ name: 'a', path: '/x' }], { data: { content: 'aGVsbG8K' } })[0].field).toBe('data');
    expect(errorsOf(Array.from({ length: 33 }, (_, i) => ({ name: `n${i}`, path: '/x' })))[0].field).toBe('requests');
  });
});

describe('per-name figures in a stats frame', () => {
  // 3 responses (2 of 200, one 503), its rtHistogram (HISTOGRAM) 3 samples
  const frame = validAgentMessages({ agentId: 'a1', token: 't' }).find((m) => m.type === 'stats') as Extract<AgentToController, { type: 'stats' }>;
  const one = (() => {
    const h = createLatencyHistogram();
    recordUs(h, 500);
    return encodeHistogram(h);
  })();
  const parse = (byName: unknown) => parseAgentMessage(JSON.stringify({ ...frame, frame: { ...frame.frame, llmRecords: undefined, byName } }));

  test('names that add up to the frame are taken, and two agents\' names merge exactly into the second', () => {
    const search = (() => {
      const h = createLatencyHistogram();
      recordUs(h, 1000);
      recordUs(h, 3000);
      return encodeHistogram(h);
    })();
    const byName = { search: { requests: 2, errors: 0, rtHistogram: search }, order: { requests: 1, errors: 1, rtHistogram: one } };
    const parsed = parse(byName);
    if (typeof parsed === 'string' || parsed.type !== 'stats') throw new Error(String(parsed));
    expect(parsed.frame.byName).toEqual(byName);
    const seconds = new SecondAggregator();
    seconds.add('a1', parsed.frame);
    seconds.add('a2', parsed.frame);
    const point = seconds.finalize(parsed.frame.second, { elapsed: 0, agentsDesired: 2, agentsAvailable: 2 }).point;
    // TP99 3.001: the top of HDR's bucket for 3000 µs at 3 significant digits, as the round's own TP figures
    expect(point.ByName?.map((n) => [n.Name, n.Requests, n.Errors, n.QPS, n.TP50, n.TP99])).toEqual([
      ['search', 4, 0, 4, 1, 3.001],
      ['order', 2, 2, 2, 0.5, 0.5],
    ]);
  });

  test('a frame whose names do not add up to its requests or errors, or over 32 names, is refused with the field', () => {
    expect(parse({ search: { requests: 2, errors: 0, rtHistogram: one } })).toBe("stats: frame.byName's requests add up to 2 but frame.requests is 3");
    expect(parse({ search: { requests: 2, errors: 1, rtHistogram: one }, order: { requests: 1, errors: 1, rtHistogram: one } })).toBe("stats: frame.byName's errors add up to 2 but 1 responses of the frame failed");
    expect(parse({ search: { requests: 1, errors: 2, rtHistogram: one } })).toBe('stats: frame.byName."search".errors (2) is over its requests (1)');
    const many = Object.fromEntries(Array.from({ length: 33 }, (_, i) => [`n${i}`, { requests: 0, errors: 0, rtHistogram: '' }]));
    expect(parse(many)).toBe('stats: frame.byName has 33 names, over 32');
    expect(parse({ 'bad name': { requests: 3, errors: 1, rtHistogram: one } })).toBe('stats: frame.byName."bad name" is not a request name');
  });

  test("a name's histogram must hold one sample per response it counts (checked where the frame is decoded)", () => {
    const ok = { ...frame.frame, llmRecords: undefined, byName: { search: { requests: 2, errors: 0, rtHistogram: one }, order: { requests: 1, errors: 1, rtHistogram: one } } };
    expect(() => decodeFrame(ok)).toThrow(new FrameRefused('frame.byName.search.rtHistogram', 'holds 1 samples but the name counts 2 responses'));
  });
});

describe('thresholds on a named request', () => {
  const task = (thresholds: Record<string, string>) => ({
    service: { serviceName: 'demo', url: 'http://127.0.0.1:8080/' },
    requests: [{ name: 'search', path: '/s' }, { name: 'v1.order', path: '/o' }],
    thresholds,
  });

  test('<name>.<stat> is known for the names of the task only (names may hold dots), with the hint naming them', () => {
    expect(validateTask(task({ 'search.TP99': '< 200', 'v1.order.TP99.9': '< 500', 'search.ErrorRate': '== 0' })).ok).toBe(true);
    const refused = validateTask(task({ 'nosuch.TP99': '< 200' }));
    expect(refused.ok ? [] : refused.errors).toEqual([{ field: 'thresholds.nosuch.TP99', message: expect.stringContaining('or <request name>.<statistic> (TP50, TP90, TP99, TP99.9, ErrorRate, QPS; e.g. search.TP99)') }]);
    expect(validateTask({ ...task({}), requests: undefined, thresholds: { 'search.TP99': '< 1' } }).ok).toBe(false);
  });

  test("a name's threshold is judged on its own figures, in ms, and says nothing measured while it has no response", () => {
    const thresholds = taskThresholds(task({ 'search.TP99': '< 5', 'v1.order.TP99.9': '< 5' }) as TaskSpec);
    const named = (name: string, requests: number, tp: number) => ({ Name: name, Requests: requests, Errors: 0, ErrorRate: 0, QPS: requests, TP50: tp, TP90: tp, TP99: tp, TP999: tp });
    const result = { TotalRequests: 10, TP99: 1, ByName: [named('search', 9, 4), named('v1.order', 1, 6)] } as unknown as RoundResult;
    expect(evaluateThresholds(thresholds, { result }).map((r) => [r.Metric, r.Value, r.Passed])).toEqual([
      ['search.TP99', 4, true],
      ['v1.order.TP99.9', 6, false],
    ]);
    expect(thresholdUnit('v1.order.TP99.9')).toBe(' ms');
    const none = evaluateThresholds(thresholds, { result: { ...result, ByName: [named('search', 9, 4)] } });
    expect(none[1]).toMatchObject({ Value: null, Passed: false });
  });
});
