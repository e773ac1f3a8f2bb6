import { encodeRequests } from '../../agent/raw-http/request-encoder';
import { rawSenderRefusal } from '../../agent/raw-http/request-encoder';
import { prepareRequests } from '../../agent/undici-sender';
import { validateTask, weightedCycle, type MixedRequest, type RequestTemplate } from '../../src/contract';

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
