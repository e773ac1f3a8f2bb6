import { applyOptionalUpdate, definesToUpdate, mergeOptional, normalizeTask, parseTaskJson, parseDefine, parseHeaderLine, resolveOptional, TaskSpec, validateTask } from '../../src/contract';
import { formatTime, newTaskId, newTaskName } from '../../controller/tasks/naming';

const base = { service: { serviceName: 'xgb_test' }, data: { content: 'aGVsbG8K' } };

describe('task validation', () => {
  test('accepts the reference examples', () => {
    expect(validateTask(base).ok).toBe(true);
    expect(validateTask({ service: { serviceName: 'demo' }, data: { path: 'oss://examplebucket/test1.bin,oss://examplebucket/test2.bin' } }).ok).toBe(true);
    expect(validateTask({ ...base, optional: { mode: 'scan', maxQPS: 1000, minQPS: 500, qpsGrowthDelta: 100, adjustInterval: 30 } }).ok).toBe(true);
    expect(validateTask({ ...base, optional: { mode: 'manual', agentCount: 1, concurrency: 5 } }).ok).toBe(true);
  });

  test.each([
    [{ ...base, optional: { duration: 1201 } }, 'optional.duration', 'must be <= 1200'],
    [{ ...base, optional: { duration: 0 } }, 'optional.duration', 'must be >= 1'],
    [{ ...base, optional: { duration: '60' } }, 'optional.duration', 'must be an integer, got a string'],
    [{ ...base, optional: { mode: 'turbo' } }, 'optional.mode', 'must be one of auto, scan, manual, stages, replay'],
    [{ ...base, optional: { faultTolerate: 2 } }, 'optional.faultTolerate', 'must be <= 1'],
    [{ ...base, extra: 1 }, 'extra', 'unknown field'],
    [{ ...base, optional: { maxqps: 100 } }, 'optional.maxqps', 'unknown field; did you mean optional.maxQPS?'],
    [{ ...base, optional: { concurency: 2 } }, 'optional.concurency', 'unknown field; did you mean optional.concurrency?'],
    [{ ...base, sevice: { serviceName: 'x' } }, 'sevice', 'unknown field; did you mean service?'],
    [{ ...base, http: { headers: ['NoColon'] } }, 'http.headers[0]', 'must look like "Name:value"'],
    [{ ...base, http: { headers: [7] } }, 'http.headers[0]', 'must be a string, got a number'],
    [{ ...base, http: { timeout: 1.5 } }, 'http.timeout', 'must be an integer'],
    [{ data: { content: 'aGVsbG8K' } }, 'service', 'is required'],
    [{ service: { serviceName: '' } }, 'service.serviceName', 'must not be empty'],
    [{ ...base, data: { content: 'not base64!' } }, 'data.content', 'must be base64 (for example the output of `echo -n BODY | base64`)'],
    [{ ...base, service: { serviceName: 'x', url: 'ftp://h/x' } }, 'service.url', 'must use http or https'],
    [{ ...base, optional: { mode: 'scan', minQPS: 600, maxQPS: 500 } }, 'optional.minQPS', 'must be <= optional.maxQPS (500)'],
    [{ ...base, llm: { api: 'chat', model: 'm', testMode: 'concurrency', concurrency: 201 } }, 'llm.concurrency', 'must be <= 200'],
    [{ ...base, llm: { api: 'chat', model: 'm', testMode: 'rate' } }, 'llm.requestRate', 'is required when llm.testMode is rate'],
    [{ ...base, llm: { api: 'chat', model: 'm', testMode: 'rate', requestRate: 1, burstiness: 0.05 } }, 'llm.burstiness', 'must be >= 0.1'],
    [[], '(root)', 'must be an object, got an array'],
  ])('%j is refused at %s', (task, field, message) => {
    const result = validateTask(task);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.errors[0]).toEqual({ field, message });
  });

  test('a JSON syntax error is given at its line and column, not a character position', () => {
    const at = (text: string): string => {
      try {
        parseTaskJson(text);
      } catch (err) {
        return (err as Error).message;
      }
      return 'parsed';
    };
    expect(at('{\n  "service": {"serviceName": "a"},\n  optional: {}\n}')).toBe('not valid JSON: Expected double-quoted property name at line 3, column 3');
    expect(at('{\n  "service": {"serviceName": "a"},\n')).toMatch(/^not valid JSON: .+ at line 3, column 1$/);
    expect(at('{"a": 1,}')).toMatch(/^not valid JSON: .+ at line 1, column 9$/);
  });

  /** The spec as the controller shows it, written from the options resolved once. */
  const shown = (task: TaskSpec): TaskSpec => normalizeTask(task, resolveOptional(task));
  const llm = { api: 'chat' as const, model: 'm', testMode: 'throughput' as const };

  test('defaults follow the spec', () => {
    const r = resolveOptional(base);
    expect(r).toEqual({ mode: 'auto', durationS: 600, agentCount: 1, concurrency: 2, minQPS: 100, qpsGrowthDelta: 50, adjustIntervalS: 60, maxQPS: 10000, maxRtMs: null, faultTolerate: 0.001, faultAction: 'revise', requestCount: null });
    expect(resolveOptional({ ...base, optional: { mode: 'manual' } }).maxQPS).toBeNull();
    expect(shown({ ...base, optional: { mode: 'manual' } }).optional).toEqual({ mode: 'manual', duration: 600, agentCount: 1, concurrency: 2 });
  });

  test('an llm task keeps optional.agentCount in any mode (its agents share the llm load)', () => {
    expect(shown({ ...base, llm, optional: { agentCount: 3 } }).optional?.agentCount).toBe(3);
    expect(shown({ ...base, llm }).optional?.agentCount).toBe(1);
    expect(shown({ ...base, optional: { agentCount: 3 } }).optional?.agentCount).toBeUndefined();
  });

  test('an llm task runs its llm section\'s duration and request count; its optional section is shown as given', () => {
    const task: TaskSpec = { ...base, llm: { ...llm, testMode: 'concurrency', duration: 60, requestCount: 200 }, optional: { duration: 90 } };
    expect(resolveOptional(task)).toMatchObject({ durationS: 60, requestCount: 200 });
    expect(resolveOptional({ ...task, llm: { ...task.llm!, continuous: true } }).requestCount).toBeNull();
    expect(resolveOptional({ ...base, llm }).durationS).toBe(300);
    expect(shown(task).optional).toMatchObject({ duration: 90 });
    expect(shown(task).optional?.requestCount).toBeUndefined();
  });

  test('an update merges into the options under their own names, units where the JSON has none', () => {
    const options = resolveOptional({ ...base, optional: { mode: 'scan' } });
    const merged = mergeOptional(options, { maxRT: 250, duration: 120, adjustInterval: 30, maxQPS: 800, faultAction: 'stop' });
    expect(merged).toEqual({ ...options, maxRtMs: 250, durationS: 120, adjustIntervalS: 30, maxQPS: 800, faultAction: 'stop' });
    expect(options.maxRtMs).toBeNull();
  });

  test('header values may contain colons', () => {
    expect(parseHeaderLine('Authorization:Bearer a:b:c')).toEqual({ name: 'Authorization', value: 'Bearer a:b:c' });
    expect(parseHeaderLine(':x')).toBeUndefined();
  });
});

describe('-D updates', () => {
  test('parse into an update body', () => {
    const update = definesToUpdate(['optional.concurrency=4', 'optional.agentCount=2', 'optional.faultAction=stop'].map(parseDefine));
    expect(update).toEqual({ concurrency: 4, agentCount: 2, faultAction: 'stop' });
  });

  test('only keys of the mode can change, and ranges still hold', () => {
    const manual = { ...base, optional: { mode: 'manual' as const } };
    expect(applyOptionalUpdate(manual, { concurrency: 8 }).optional?.concurrency).toBe(8);
    expect(() => applyOptionalUpdate(manual, { maxRT: 100 })).toThrow('optional.maxRT: cannot be updated in manual mode');
    expect(() => applyOptionalUpdate(manual, { concurrency: 0 })).toThrow('optional.concurrency: must be >= 1');
    expect(() => parseDefine('optional.concurrency')).toThrow('expected -Dsection.key=value');
    expect(() => definesToUpdate([parseDefine('service.url=x')])).toThrow('service.url: only optional.* fields can be updated');
  });

  test('an llm task changes only its agent count live, whatever optional.mode says', () => {
    const llm = { service: { serviceName: 'chat', url: 'http://127.0.0.1:9/' }, optional: { mode: 'auto' as const }, llm: { api: 'chat' as const, model: 'm', testMode: 'concurrency' as const, concurrency: 4 } };
    expect(applyOptionalUpdate(llm, { agentCount: 2 }).optional?.agentCount).toBe(2);
    expect(() => applyOptionalUpdate(llm, { maxQPS: 100 })).toThrow('optional.maxQPS: cannot be updated in an llm task (updatable: agentCount)');
    // a trace's records are split into the agents' lanes at the start: not even the agent count changes
    const trace = { ...llm, llm: { ...llm.llm, testMode: 'rate' as const, dataset: { type: 'trace' as const, path: '/t.jsonl' } } };
    expect(() => applyOptionalUpdate(trace, { agentCount: 2 })).toThrow(
      "optional.agentCount: cannot be updated in an llm trace replay (its records are split over the round's agents from the start; nothing is updatable)",
    );
  });
});

describe('names and ids', () => {
  test('task names follow benchmark-<service>-<4 hex> and avoid taken names', () => {
    const taken = new Set<string>();
    for (let i = 0; i < 200; i++) {
      const name = newTaskName('XGB_Test', (n) => taken.has(n));
      expect(name).toMatch(/^benchmark-xgb-test-[0-9a-f]{4}$/);
      expect(taken.has(name)).toBe(false);
      taken.add(name);
    }
  });

  test('ids and times have the reference shapes', () => {
    expect(newTaskId()).toMatch(/^eas-b-[a-z0-9]{18}$/);
    expect(formatTime(Date.UTC(2022, 5, 17, 9, 58, 1))).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/);
  });
});
