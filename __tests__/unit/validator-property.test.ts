import fc from 'fast-check';
import { BenchError, InvalidFieldError, parseDefine, definesToUpdate, validateTask } from '../../src/contract';

const valid = { service: { serviceName: 'demo', url: 'http://127.0.0.1:9/x' }, data: { content: 'aGVsbG8K' }, optional: { mode: 'manual', duration: 10 } };

/** Known field paths, so mutations land where the validator must name them. */
const PATHS = [
  'service.serviceName', 'service.url', 'service.requestToken', 'data.content', 'data.path', 'data.multiLine',
  'http.headers', 'http.method', 'http.timeout', 'optional.mode', 'optional.duration', 'optional.requestCount',
  'optional.agentCount', 'optional.concurrency', 'optional.minQPS', 'optional.qpsGrowthDelta', 'optional.adjustInterval',
  'optional.maxQPS', 'optional.maxRT', 'optional.faultTolerate', 'optional.faultAction',
];

function setPath(target: Record<string, unknown>, path: string, value: unknown): void {
  const [section, key] = path.split('.');
  const inner = (target[section] as Record<string, unknown> | undefined) ?? {};
  target[section] = { ...inner, [key]: value };
}

describe('the task validator under random input', () => {
  test('never throws on any JSON value, and every error names a field', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 6 }), (value) => {
        const result = validateTask(value);
        if (!result.ok) {
          expect(result.errors.length).toBeGreaterThan(0);
          for (const e of result.errors) {
            expect(typeof e.field).toBe('string');
            expect(e.message.length).toBeGreaterThan(0);
          }
        }
      }),
      { numRuns: 2000 },
    );
  });

  test('a wrong value at a known path is refused naming that path (or a path inside it)', () => {
    fc.assert(
      fc.property(fc.constantFrom(...PATHS), fc.oneof(fc.string(), fc.double(), fc.integer(), fc.boolean(), fc.constant(null), fc.array(fc.integer()), fc.object()), (path, value) => {
        const task = JSON.parse(JSON.stringify(valid)) as Record<string, unknown>;
        setPath(task, path, value);
        const result = validateTask(task);
        if (!result.ok) {
          const named = result.errors.some((e) => e.field === path || e.field.startsWith(`${path}[`) || e.field === path.split('.')[0] || path.startsWith(`${e.field}.`) || e.field === 'data');
          expect(named).toBe(true);
        }
      }),
      { numRuns: 3000 },
    );
  });

  test('deeply nested input is refused, not a crash', () => {
    let deep: unknown = 1;
    for (let i = 0; i < 5000; i++) deep = { a: deep };
    const result = validateTask({ ...valid, extra: deep });
    expect(result.ok).toBe(false);
  });
});

describe('-D parsing under random input', () => {
  test('either parses or raises InvalidFieldError naming the field, never anything else', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 80 }), (text) => {
        try {
          const define = parseDefine(text);
          expect(define.field).toMatch(/^[A-Za-z][A-Za-z0-9]*(\.[A-Za-z][A-Za-z0-9]*)+$/);
          try {
            definesToUpdate([define]);
          } catch (err) {
            expect(err).toBeInstanceOf(InvalidFieldError);
          }
        } catch (err) {
          expect(err).toBeInstanceOf(BenchError);
          expect((err as BenchError).code).toBe('InvalidField');
        }
      }),
      { numRuns: 3000 },
    );
  });

  test('optional.KEY=VALUE round-trips numbers, booleans and strings', () => {
    fc.assert(
      fc.property(fc.constantFrom('concurrency', 'agentCount', 'maxQPS', 'faultAction'), fc.oneof(fc.integer({ min: 0, max: 1e6 }), fc.boolean(), fc.constantFrom('stop', 'revise')), (key, value) => {
        const update = definesToUpdate([parseDefine(`optional.${key}=${String(value)}`)]);
        expect(update[key]).toEqual(value);
      }),
    );
  });
});
