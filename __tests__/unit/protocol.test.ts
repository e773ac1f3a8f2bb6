import fc from 'fast-check';
import {
  AGENT_LIMITS,
  AgentAssignment,
  AgentToController,
  isOwnOrigin,
  parseAgentMessage,
  parseControllerMessage,
  STATS_REFUSAL_PREFIX,
} from '../../src/contract';
import { LlmSecondRecorder } from '../../src/measure/llm-second';
import { LLM_RECORD, validAgentMessages } from '../helpers/agent-frames';

const record = LLM_RECORD;
const VALID = validAgentMessages({ agentId: 'demo-10001-1', token: 'tok' }, 1700000000);

const llmWith = (metrics: Record<string, unknown>): Record<string, unknown> => ({
  requests: 1, success: 1, usage: 1, metrics, maxInFlight: 1, busyMs: 0, maxFromMs: null, maxUntilMs: null, firstSendMs: null, lastEndMs: null,
});

const frameOf = (patch: Record<string, unknown>): string => {
  const stats = VALID[2] as Extract<AgentToController, { type: 'stats' }>;
  return JSON.stringify({ type: 'stats', frame: { ...stats.frame, ...patch } });
};

describe('agent messages (parseAgentMessage)', () => {
  test('every valid message comes back equal, as a fresh object', () => {
    for (const message of VALID) {
      const text = JSON.stringify(message);
      const parsed = parseAgentMessage(text);
      expect(parsed).toEqual(message);
      expect(parsed).not.toBe(message);
    }
  });

  test('unknown fields are dropped, so nothing unchecked reaches the round or the stored records', () => {
    const stats = VALID[2] as Extract<AgentToController, { type: 'stats' }>;
    const padded = { ...stats, extra: 'x', frame: { ...stats.frame, junk: [1, 2], llmRecords: [{ ...record, hidden: 'y'.repeat(100) }] } };
    const parsed = parseAgentMessage(JSON.stringify(padded));
    expect(parsed).toEqual({ ...stats, frame: { ...stats.frame, llmRecords: [record] } });
  });

  test.each([
    ['null', 'not an object'],
    ['', 'not JSON'],
    ['[1,2]', 'not an object'],
    ['"hello"', 'not an object'],
    ['{"type":"hello"}', 'hello.agentId'],
    ['{"type":"hello","agentId":"a","pid":1,"host":"h","version":1}', 'hello.token'],
    ['{"type":"hello","agentId":"a","token":"","pid":1,"host":"h","version":1}', 'hello.token'],
    ['{"type":"hello","agentId":"a\\n","token":"t","pid":1,"host":"h","version":1}', 'hello.agentId'],
    ['{"type":"hello","agentId":"a","token":"t","pid":-1,"host":"h","version":1}', 'hello.pid'],
    ['{"type":"hello","agentId":"a","token":"t","pid":1.5,"host":"h","version":1}', 'hello.pid'],
    ['{"type":"stats"}', 'stats: frame must be an object'],
    ['{"type":"done","reason":"bored","totalSent":1}', 'done.reason'],
    ['{"type":"done","reason":"limit","totalSent":-3}', 'done.totalSent'],
    ['{"type":"log","level":"debug","message":"m"}', 'log.level'],
    ['{"type":"log","level":"info","message":7}', 'log.message'],
    ['{"type":{"toString":1}}', 'unknown message type object'],
    ['{"type":"dance"}', 'unknown message type dance'],
  ])('%s is refused (%s)', (text, reason) => {
    const parsed = parseAgentMessage(text);
    expect(typeof parsed).toBe('string');
    expect(parsed).toContain(reason);
  });

  test.each([
    [{ requests: -1 }, 'frame.requests'],
    [{ sent: 1.5 }, 'frame.sent'],
    [{ second: '1700000000' }, 'frame.second'],
    [{ bytesIn: 1e300 }, 'frame.bytesIn'],
    [{ eventLoopLagMs: -0.5 }, 'frame.eventLoopLagMs'],
    [{ rtHistogram: 42 }, 'frame.rtHistogram'],
    [{ rtHistogram: 'not base64!' }, 'frame.rtHistogram'],
    [{ lagHistogram: 'A'.repeat(AGENT_LIMITS.histogramChars + 4) }, 'frame.lagHistogram'],
    [{ statusCodes: [] }, 'frame.statusCodes'],
    [{ statusCodes: { ok: 1 } }, 'frame.statusCodes'],
    [{ statusCodes: { '200': -1 } }, 'frame.statusCodes.200'],
    [{ llmRecords: {} }, 'frame.llmRecords'],
    [{ statusCodes: { '200': 2, '503': 2 } }, 'frame.statusCodes add up to 4 but frame.requests is 3'],
    [{ requests: 2 ** 53 - 1, statusCodes: { '200': 2 ** 53 - 1 } }, `frame.requests of 9007199254740991 is over ${AGENT_LIMITS.frameCount}`],
    [{ bytesIn: 2 ** 41 }, 'frame.bytesIn of 2199023255552 is over'],
    [{ llm: { requests: 1, success: 2, usage: 0, metrics: {}, maxInFlight: 1, busyMs: 0, maxFromMs: null, maxUntilMs: null, firstSendMs: null, lastEndMs: null } }, 'frame.llm.success (2) is over frame.llm.requests (1)'],
    [{ llm: llmWith({ InputTokens: { h: '', n: 1, sum: 1e308, min: 1e308, max: 1e308 } }) }, 'frame.llm.metrics.InputTokens.max of 1e+308 is over 1000000000000'],
    [{ llm: llmWith({ TTFT: { h: '', n: 1, sum: 500, min: 5, max: 10 } }) }, 'frame.llm.metrics.TTFT.sum (500) is not what 1 values between 5 and 10 add up to'],
    [{ llm: llmWith({ TTFT: { h: '', n: 2, sum: 10, min: 5, max: 5 } }) }, 'frame.llm.metrics.TTFT.n (2) is over frame.llm.success (1)'],
    [{ llm: llmWith({ ITLGap: { h: '', n: AGENT_LIMITS.frameGaps + 1, sum: AGENT_LIMITS.frameGaps + 1, min: 1, max: 1 } }) }, `frame.llm.metrics.ITLGap.n (${AGENT_LIMITS.frameGaps + 1}) is over ${AGENT_LIMITS.frameGaps}`],
  ])('a stats frame with %j is refused naming %s', (patch, field) => {
    const parsed = parseAgentMessage(frameOf(patch));
    expect(typeof parsed).toBe('string');
    expect(parsed).toContain(field);
    expect(parsed).toMatch(new RegExp(`^${STATS_REFUSAL_PREFIX}`));
  });

  test('ITL over every gap counts one value a token gap, not a request: many gaps of one request are accepted', () => {
    const parsed = parseAgentMessage(frameOf({ llm: llmWith({ ITLGap: { h: '', n: 528, sum: 528 * 12, min: 12, max: 12 } }) }));
    expect(typeof parsed).toBe('object');
  });

  describe('the client queue time (rate mode): E2ELWithQueue is E2EL plus ClientQueueTime, request by request', () => {
    /** A second as an honest agent measures it: the recorder's own frame of two requests, one held 250 ms for a slot, one sent at its time. */
    const honest = (): Record<string, unknown> => {
      const recorder = new LlmSecondRecorder();
      const t0 = performance.now();
      for (const [seq, queueMs] of [[1, 250.125], [2, 0]] as const) {
        recorder.began(t0);
        recorder.ended(t0 + 400, { ...record, seq, queueMs, e2elMs: 400 + seq, ttftMs: 100 });
      }
      return { ...recorder.take(t0 + 1000) } as unknown as Record<string, unknown>;
    };
    const metricsOf = (llm: Record<string, unknown>) => llm.metrics as Record<string, { h: string; n: number; sum: number; min: number; max: number }>;

    test('an honest second is accepted, its queue figures as measured', () => {
      const llm = honest();
      const parsed = parseAgentMessage(frameOf({ llm }));
      if (typeof parsed === 'string' || parsed.type !== 'stats') throw new Error(`refused: ${String(parsed)}`);
      expect(parsed.frame.llm?.metrics.ClientQueueTime).toMatchObject({ n: 2, sum: 250.125, min: 0, max: 250.125 });
      expect(parsed.frame.llm?.metrics.E2ELWithQueue).toMatchObject({ n: 2, sum: 401 + 402 + 250.125, min: 402, max: 651.125 });
    });

    test.each([
      ['no E2ELWithQueue beside the queue times', (m: ReturnType<typeof metricsOf>) => delete m.E2ELWithQueue, 'frame.llm.metrics.E2ELWithQueue.n (0) is not frame.llm.metrics.ClientQueueTime.n (2)'],
      ['a sum that is not E2EL plus the queue', (m: ReturnType<typeof metricsOf>) => (m.E2ELWithQueue.sum -= 100), "is not E2EL's sum (803) plus the queue times' (250.125)"],
      ['a value under every E2EL', (m: ReturnType<typeof metricsOf>) => (m.E2ELWithQueue.min = 300), "frame.llm.metrics.E2ELWithQueue.min (300) is under E2EL's min (401)"],
      ['a max past the two maxes together', (m: ReturnType<typeof metricsOf>) => (m.E2ELWithQueue.max = 700), "frame.llm.metrics.E2ELWithQueue.max (700) is not between the queue time's max (250.125) and that plus E2EL's max (402)"],
      ['more queue times than E2ELs', (m: ReturnType<typeof metricsOf>) => ((m.E2EL.n = 1), (m.E2EL.sum = 401), (m.E2EL.max = 401)), 'frame.llm.metrics.E2ELWithQueue.n (2) is over frame.llm.metrics.E2EL.n (1)'],
    ])('%s is refused', (_what, spoil, reason) => {
      const llm = honest();
      spoil(metricsOf(llm));
      const parsed = parseAgentMessage(frameOf({ llm: { ...llm, requests: 2, success: 2, usage: 2 } }));
      expect(typeof parsed).toBe('string');
      expect(parsed).toContain(reason);
    });

    test('a record with a negative queue time is left out', () => {
      const parsed = parseAgentMessage(frameOf({ llmRecords: [{ ...record, queueMs: -1 }, { ...record, seq: 9, queueMs: 12.5 }] }));
      if (typeof parsed === 'string' || parsed.type !== 'stats') throw new Error(`refused: ${String(parsed)}`);
      expect(parsed.frame.llmRecords).toEqual([{ ...record, seq: 9, queueMs: 12.5 }]);
      expect(parsed.droppedRecords?.reason).toContain('frame.llmRecords[0].queueMs must be a number >= 0');
    });
  });

  test.each([
    [[null], 'frame.llmRecords[0] must be an object'],
    [[{ ...record, itlMs: [1, 'x'] }], 'frame.llmRecords[0].itlMs'],
    [[record, { ...record, tokenSource: 'guess' }], 'frame.llmRecords[1].tokenSource'],
    [[{ ...record, ttftMs: -1 }], 'frame.llmRecords[0].ttftMs'],
    [[{ ...record, inputTokens: 1.5 }, { ...record, inputTokens: -3 }, { ...record, outputTokens: 1e308 }], 'frame.llmRecords[0].inputTokens must be a count'],
    [[{ ...record, error: 'e'.repeat(AGENT_LIMITS.llmErrorChars + 1) }], 'frame.llmRecords[0].error'],
  ])('a record with a bad field (%#) is left out and counted, naming %s; the frame and its other records stand', (bad, reason) => {
    const parsed = parseAgentMessage(frameOf({ llmRecords: [...bad, { ...record, seq: 99 }] }));
    if (typeof parsed === 'string' || parsed.type !== 'stats') throw new Error(`refused: ${String(parsed)}`);
    const good = bad.filter((r) => r === record);
    expect(parsed.frame.llmRecords).toEqual([...good, { ...record, seq: 99 }]);
    expect(parsed.droppedRecords).toEqual({ count: bad.length - good.length, reason: expect.stringContaining(reason) as string });
    expect(parsed.frame.requests).toBe(3);
  });

  test('never throws, whatever the text', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.jsonValue().map((v) => JSON.stringify(v))), (text) => {
        const parsed = parseAgentMessage(text);
        if (typeof parsed !== 'string') expect(['hello', 'ready', 'stats', 'done', 'log']).toContain(parsed.type);
      }),
      { numRuns: 3000 },
    );
    let deep = '1';
    for (let i = 0; i < 100000; i++) deep = `[${deep}]`;
    expect(parseAgentMessage(deep)).toBe('not an object');
  });
});

const assignment: AgentAssignment = {
  taskId: 'eas-b-1', roundId: 10001, agentIndex: 0, agentCount: 1, startOffset: 0,
  request: { url: 'http://127.0.0.1:9/x', method: 'POST', headers: [['A', 'b']], bodies: ['eA=='], timeoutMs: 5000 },
  load: { kind: 'closed', concurrency: 2, maxQps: null }, requestLimit: null, waitForStart: true,
};

describe('controller messages (parseControllerMessage)', () => {
  test('valid messages pass', () => {
    expect(parseControllerMessage(JSON.stringify({ type: 'assign', assignment }))).toEqual({ type: 'assign', assignment });
    const llm = { ...assignment, load: { kind: 'llm', testMode: 'rate', concurrency: 1, ratePerS: 2.5, maxInFlight: null, burstiness: 1, seed: 0 }, llm: { api: 'chat', model: 'm', ignoreEos: false, maxTokens: null, source: { kind: 'synthetic', inputTokens: [8, 8], outputTokens: [4, 4], seed: 1 } } };
    expect(parseControllerMessage(JSON.stringify({ type: 'assign', assignment: llm }))).toEqual({ type: 'assign', assignment: llm });
    expect(parseControllerMessage('{"type":"load","load":{"kind":"open","qps":12.5,"maxInFlight":100}}')).toEqual({ type: 'load', load: { kind: 'open', qps: 12.5, maxInFlight: 100 } });
  });

  test.each([
    [{ request: { ...assignment.request, headers: [['A']] } }],
    [{ request: { ...assignment.request, bodies: [1] } }],
    [{ request: { ...assignment.request, timeoutMs: 'x' } }],
    [{ roundId: -1 }],
    [{ load: { kind: 'closed', concurrency: -2, maxQps: null } }],
    [{ load: { kind: 'llm', testMode: 'rate', concurrency: 1, ratePerS: 1, maxInFlight: null, burstiness: 1, seed: 0 } }],
    [{ waitForStart: 'yes' }],
  ])('an assignment with %j is refused', (patch) => {
    expect(parseControllerMessage(JSON.stringify({ type: 'assign', assignment: { ...assignment, ...patch } }))).toBe('malformed assign');
  });

  test('never throws, whatever the text', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.jsonValue().map((v) => JSON.stringify(v))), (text) => {
        parseControllerMessage(text);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('websocket origins (isOwnOrigin)', () => {
  test.each([
    [undefined, '127.0.0.1:8080', true],
    ['http://127.0.0.1:8080', '127.0.0.1:8080', true],
    ['http://LOCALHOST:8080', 'localhost:8080', true],
    ['http://example.com', 'example.com:80', true],
    ['http://evil.example', '127.0.0.1:8080', false],
    ['http://127.0.0.1:8081', '127.0.0.1:8080', false],
    ['http://127.0.0.1:8080@evil.example', '127.0.0.1:8080', false],
    ['null', '127.0.0.1:8080', false],
    ['', '127.0.0.1:8080', false],
    ['file:///tmp/x.html', '127.0.0.1:8080', false],
    ['http://127.0.0.1:8080', undefined, false],
  ])('Origin %s with Host %s: %s', (origin, host, allowed) => {
    expect(isOwnOrigin(origin, host)).toBe(allowed);
  });
});
