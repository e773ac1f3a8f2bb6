import type { LlmRequestRecord } from '../../src/contract';
import { validateTask } from '../../src/contract';
import { recordsCsv } from '../../controller/metrics/llm/result';

const base = { service: { serviceName: 'demo', url: 'http://127.0.0.1:9/x' }, data: { content: 'aGVsbG8K' } };

/** The fields the validator named, or [] when the task is valid. */
function fieldsOf(task: unknown): string[] {
  const result = validateTask(task);
  return result.ok ? [] : result.errors.map((e) => e.field);
}

describe('serviceName is a task-name alphabet', () => {
  test.each(['/../../../x', 'a/b', '..', 'x y', 'a\\b', 'dé', 'a.b', 'x\0', 'a'.repeat(65)])('%j is refused naming service.serviceName', (serviceName) => {
    expect(fieldsOf({ ...base, service: { ...base.service, serviceName } })).toEqual(['service.serviceName']);
  });

  test.each(['demo', 'xgb_test', 'A-b_9', 'a'.repeat(64)])('%j is accepted', (serviceName) => {
    expect(fieldsOf({ ...base, service: { ...base.service, serviceName } })).toEqual([]);
  });
});

describe('data.content size', () => {
  test('a 9 MB base64 body validates without a stack overflow', () => {
    const content = Buffer.alloc(7 * 1024 * 1024, 'x').toString('base64');
    expect(content.length).toBeGreaterThan(9_000_000);
    expect(fieldsOf({ ...base, data: { content } })).toEqual([]);
  });

  test('more than 64 MB is refused naming data.content', () => {
    const result = validateTask({ ...base, data: { content: 'A'.repeat(64 * 1024 * 1024 + 4) } });
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.errors).toEqual([{ field: 'data.content', message: `must be at most ${64 * 1024 * 1024} characters` }]);
  });

  test.each(['A===', 'AA=A', '====', 'AAA'])('%j is not base64', (content) => {
    expect(fieldsOf({ ...base, data: { content } })).toEqual(['data.content']);
  });
});

describe('rates have a floor and a step', () => {
  test.each([
    [{ optional: { mode: 'scan', minQPS: 1e-300 } }, 'optional.minQPS'],
    [{ optional: { mode: 'scan', minQPS: 0.05 } }, 'optional.minQPS'],
    [{ optional: { mode: 'scan', qpsGrowthDelta: 1e-9 } }, 'optional.qpsGrowthDelta'],
    [{ optional: { mode: 'manual', maxQPS: 0.01 } }, 'optional.maxQPS'],
    [{ optional: { mode: 'manual', maxQPS: 2.55 } }, 'optional.maxQPS'],
    [{ llm: { api: 'chat', model: 'm', testMode: 'rate', requestRate: 1e-300 } }, 'llm.requestRate'],
  ])('%j is refused naming %s', (extra, field) => {
    expect(fieldsOf({ ...base, ...extra })).toEqual([field]);
  });

  test('0.1 and steps of 0.1 are accepted', () => {
    expect(fieldsOf({ ...base, optional: { mode: 'scan', minQPS: 0.1, qpsGrowthDelta: 0.3, maxQPS: 2.5 } })).toEqual([]);
    expect(fieldsOf({ ...base, llm: { api: 'chat', model: 'm', testMode: 'rate', requestRate: 0.7 } })).toEqual([]);
  });
});

describe('header lines', () => {
  test.each([
    ['X-A:b\r\nX-B: c', /control characters/],
    ['X-A:b\nX-B: c', /control characters/],
    ['X-A:b\0', /control characters/],
    ['X-A:b\x7f', /control characters/],
    ['X A:b', /header name must be a token/],
    ['X\r\nA:b', /header name must be a token/],
    ['Bad(name):b', /header name must be a token/],
  ])('%j is refused naming http.headers[0]', (line, message) => {
    const result = validateTask({ ...base, http: { headers: [line] } });
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.errors.map((e) => e.field)).toEqual(['http.headers[0]']);
      expect(result.errors[0].message).toMatch(message);
    }
  });

  test('a tab inside a value is allowed, as HTTP allows it', () => {
    expect(fieldsOf({ ...base, http: { headers: ['X-A:b\tc'] } })).toEqual([]);
  });
});

describe('records CSV', () => {
  const record = (error: string): LlmRequestRecord => ({
    agent: 1, seq: 1, sendMs: 0, endMs: 5, ttftMs: null, e2elMs: null, itlMs: [], inputTokens: 0, outputTokens: 0, tokenSource: 'usage', success: false, status: 500, error,
  });
  const errorCell = (error: string): string => {
    const line = recordsCsv([record(error)]).split('\n').slice(1).join('\n').replace(/\n$/, '');
    // the error is the 14th cell; the last (queueMs, empty here) follows it
    return line.split(',').slice(13, -1).join(',');
  };

  test.each([
    ['=HYPERLINK("http://x")', `"'=HYPERLINK(""http://x"")"`],
    ['+1', "'+1"],
    ['-1', "'-1"],
    ['@SUM(1)', "'@SUM(1)"],
    ['\t=1', "'\t=1"],
    ['\r=1', `"'\r=1"`],
    ['plain', 'plain'],
  ])('a service error %j cannot be read as a formula', (error, cell) => {
    expect(errorCell(error)).toBe(cell);
  });

  test('quotes, commas and newlines are quoted as RFC 4180 says', () => {
    expect(errorCell('say "hi", then\nbye')).toBe('"say ""hi"", then\nbye"');
    const csv = recordsCsv([record('a,b')]);
    expect(csv.split('\n')[1]).toBe('1,1,0,5,false,500,,,,,0,0,usage,"a,b",');
  });
});
