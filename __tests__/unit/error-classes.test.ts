import { Socket } from 'node:net';
import {
  addErrorClasses,
  ERROR_CLASSES,
  errorClassLines,
  formatErrorClassLine,
  parseAgentMessage,
  type AgentStatsFrame,
  type ErrorClass,
  type ErrorClassCounts,
  type RequestTemplate,
} from '../../src/contract';
import { closedPort, rawTcpServer, RawTcpServer } from '../helpers/sockets';
import { causeOfError, causeOfErrorCode, CAUSE } from '../../agent/error-cause';
import { HttpSender } from '../../agent/undici-sender';
import { RawHttpSender } from '../../agent/raw-http/raw-sender';
import type { ResultSink } from '../../agent/sender-core';
import { StatsRecorder } from '../../agent/stats-recorder';
import { LlmClient } from '../../agent/llm/client';
import { RoundAccumulator, SecondAggregator } from '../../controller/metrics/aggregate';
import { createLatencyHistogram, encodeHistogram } from '../../src/measure/histogram';

/** A TCP server on 127.0.0.1 that treats a socket with `behave` at each request's end (or at any bytes: `onAnyBytes`). */
const rawServer = (behave: (socket: Socket) => void, onAnyBytes = false): Promise<RawTcpServer> => rawTcpServer((socket) => behave(socket), onAnyBytes);

const template = (url: string, timeoutMs = 2000): RequestTemplate => ({ url, method: 'GET', headers: [], bodies: [], timeoutMs });
const senders = {
  raw: (t: RequestTemplate, sink: ResultSink) => new RawHttpSender(t, 0, sink),
  undici: (t: RequestTemplate, sink: ResultSink) => new HttpSender(t, 0, sink),
};

/** Sends `count` requests one after another through `kind`'s sender; returns each outcome's status and class. */
async function outcomes(kind: keyof typeof senders, url: string, count: number, timeoutMs = 2000): Promise<[number, ErrorClass | 'none'][]> {
  const seen: [number, ErrorClass | 'none'][] = [];
  const sender = senders[kind](template(url, timeoutMs), {
    sent: () => undefined,
    response: (_n, status, _l, _b, cause) => seen.push([status, cause >= 0 ? ERROR_CLASSES[cause] : 'none']),
  });
  try {
    for (let i = 0; i < count; i++) {
      await new Promise<void>((resolve) => {
        const now = performance.now();
        sender.send(now, now, () => resolve());
      });
    }
  } finally {
    await sender.close();
  }
  return seen;
}

describe.each(Object.keys(senders) as (keyof typeof senders)[])('every failed request is classed where it failed (%s sender)', (kind) => {
  test('a closed port is connection refused (599)', async () => {
    const port = await closedPort();
    expect(await outcomes(kind, `http://127.0.0.1:${port}/`, 3)).toEqual(Array(3).fill([599, 'connection refused']));
  });

  test('a connection the service drops before answering is connection reset; one it drops mid-answer is response cut', async () => {
    const dropped = await rawServer((socket) => socket.destroy());
    const cut = await rawServer((socket) => {
      socket.write('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly part');
      setTimeout(() => socket.destroy(), 20);
    });
    try {
      expect(await outcomes(kind, dropped.url, 2)).toEqual(Array(2).fill([599, 'connection reset']));
      expect(await outcomes(kind, cut.url, 2)).toEqual(Array(2).fill([599, 'response cut']));
    } finally {
      await dropped.close();
      await cut.close();
    }
  });

  test('an answer that is not HTTP is protocol; a complete 500 is the service status, classed by the recorder', async () => {
    const garbage = await rawServer((socket) => socket.write('SSH-2.0-OpenSSH\r\n\r\n'));
    const failing = await rawServer((socket) => socket.write('HTTP/1.1 500 Internal Server Error\r\nContent-Length: 2\r\n\r\nno'));
    try {
      expect(await outcomes(kind, garbage.url, 2)).toEqual(Array(2).fill([599, 'protocol']));
      // a complete answer carries no cause: the recorder counts a non-200 one as `http status`
      expect(await outcomes(kind, failing.url, 2)).toEqual(Array(2).fill([500, 'none']));
    } finally {
      await garbage.close();
      await failing.close();
    }
  });

  test('a request past its timeout is timeout (512)', async () => {
    const silent = await rawServer(() => undefined);
    try {
      expect(await outcomes(kind, silent.url, 2, 100)).toEqual(Array(2).fill([512, 'timeout']));
    } finally {
      await silent.close();
    }
  });
});

test('https to a service that speaks plain HTTP is TLS (undici sender)', async () => {
  // it answers the TLS hello's first bytes in plain HTTP
  const plain = await rawServer((socket) => socket.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok'), true);
  try {
    const url = plain.url.replace('http:', 'https:');
    expect(await outcomes('undici', url, 2)).toEqual(Array(2).fill([599, 'TLS']));
  } finally {
    await plain.close();
  }
});

/** One LLM request through the real client to `url`; its status and class. */
async function llmOutcome(url: string): Promise<[number, ErrorClass | 'none']> {
  let seen: [number, ErrorClass | 'none'] = [0, 'none'];
  const client = new LlmClient(
    { url, headers: [], timeoutMs: 2000, agentIndex: 0, retries: 0 },
    { next: () => ({ body: Buffer.from('{"model":"m","prompt":"hi","stream":true}'), promptTokens: 1 }) },
    {
      sent: () => undefined,
      response: (_n, status, _l, _b, cause) => (seen = [status, cause >= 0 ? ERROR_CLASSES[cause] : 'none']),
      enableLlmRecords: () => undefined,
      llmSent: () => undefined,
      llmRecord: () => undefined,
    },
    () => undefined,
  );
  try {
    await client.prepare();
    await new Promise<void>((resolve) => client.send(performance.now(), performance.now(), () => resolve()));
  } finally {
    await client.close();
  }
  return seen;
}

test('the LLM client classes its failures: refused, a stream cut after its 200 head, the service own error status', async () => {
  const port = await closedPort();
  const sse = 'HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n';
  const cut = await rawServer((socket) => {
    socket.write(`${sse}1d\r\ndata: {"choices":[{"text":"a"}]}\n\n\r\n`);
    setTimeout(() => socket.destroy(), 20);
  });
  const failing = await rawServer((socket) => socket.write('HTTP/1.1 503 Service Unavailable\r\nContent-Length: 4\r\n\r\nbusy'));
  const errorEvent = await rawServer((socket) => {
    const event = 'event: error\ndata: {"error":{"message":"overloaded","code":529}}\n\n';
    socket.end(`${sse}${event.length.toString(16)}\r\n${event}\r\n0\r\n\r\n`);
  });
  try {
    expect(await llmOutcome(`http://127.0.0.1:${port}/v1/completions`)).toEqual([599, 'connection refused']);
    expect(await llmOutcome(`${cut.url}v1/completions`)).toEqual([599, 'incomplete stream']);
    // a complete answer carries no cause: the recorder counts it as `http status`
    expect(await llmOutcome(`${failing.url}v1/completions`)).toEqual([503, 'none']);
    expect(await llmOutcome(`${errorEvent.url}v1/completions`)).toEqual([529, 'none']);
  } finally {
    await cut.close();
    await failing.close();
    await errorEvent.close();
  }
});

test('error codes map to their classes: DNS, TLS, reset, refused, parse errors', () => {
  const name = (cause: number): string => ERROR_CLASSES[cause];
  expect(name(causeOfErrorCode('ENOTFOUND', false))).toBe('DNS');
  expect(name(causeOfErrorCode('EAI_AGAIN', false))).toBe('DNS');
  expect(name(causeOfErrorCode('ECONNREFUSED', false))).toBe('connection refused');
  expect(name(causeOfErrorCode('ECONNRESET', false))).toBe('connection reset');
  expect(name(causeOfErrorCode('EPIPE', false))).toBe('connection reset');
  expect(name(causeOfErrorCode('ECONNRESET', true))).toBe('response cut');
  expect(name(causeOfErrorCode('DEPTH_ZERO_SELF_SIGNED_CERT', false))).toBe('TLS');
  expect(name(causeOfErrorCode('ERR_TLS_CERT_ALTNAME_INVALID', false))).toBe('TLS');
  expect(name(causeOfErrorCode('HPE_INVALID_CONSTANT', true))).toBe('protocol');
  expect(name(causeOfErrorCode('UND_ERR_CONNECT_TIMEOUT', false))).toBe('timeout');
  expect(name(causeOfErrorCode('SOMETHING_NEW', false))).toBe('other');
  expect(name(causeOfError(Object.assign(new Error('Expected HTTP/'), { name: 'HTTPParserError' }), false))).toBe('protocol');
  expect(CAUSE.none).toBe(-1);
});

describe('counts by class, from the recorder to the round', () => {
  test("the recorder counts each second's failures by class, a complete non-200 answer as http status", () => {
    const frames: AgentStatsFrame[] = [];
    const recorder = new StatsRecorder({ inFlight: () => 0, totalSent: () => 0, takeConnectionWaitMaxMs: () => 0 }, (f) => frames.push(f));
    recorder.start();
    const now = performance.now();
    for (let i = 0; i < 5; i++) recorder.response(now, 599, 1000, 0, CAUSE.refused);
    recorder.response(now, 512, 1000, 0, CAUSE.timeout);
    recorder.response(now, 503, 1000, 10, CAUSE.none);
    recorder.response(now, 200, 1000, 10, CAUSE.none);
    recorder.flush();
    const withRequests = frames.filter((f) => f.requests > 0);
    expect(withRequests).toHaveLength(1);
    expect(withRequests[0].errorClasses).toEqual({ 'connection refused': 5, timeout: 1, 'http status': 1 });
    // the frame as the controller parses it keeps the classes
    const parsed = parseAgentMessage(JSON.stringify({ type: 'stats', frame: withRequests[0] }));
    expect(typeof parsed === 'object' && parsed.type === 'stats' && parsed.frame.errorClasses).toEqual({ 'connection refused': 5, timeout: 1, 'http status': 1 });
  });

  test('a frame with an unknown class or a bad count is refused with the field named', () => {
    const frames: AgentStatsFrame[] = [];
    const recorder = new StatsRecorder({ inFlight: () => 0, totalSent: () => 0, takeConnectionWaitMaxMs: () => 0 }, (f) => frames.push(f));
    recorder.start();
    recorder.flush();
    const frame = frames[0];
    expect(parseAgentMessage(JSON.stringify({ type: 'stats', frame: { ...frame, errorClasses: { boom: 1 } } }))).toBe('stats: frame.errorClasses key "boom" is not an error class');
    expect(parseAgentMessage(JSON.stringify({ type: 'stats', frame: { ...frame, errorClasses: { timeout: -1 } } }))).toBe('stats: frame.errorClasses.timeout must be a count');
    expect(parseAgentMessage(JSON.stringify({ type: 'stats', frame: { ...frame, errorClasses: [] } }))).toBe('stats: frame.errorClasses must be an object');
  });

  test("agents' classes merge exactly into the second and the round, and always sum to the errors", () => {
    const aggregator = new SecondAggregator();
    const base = { sent: 0, bytesIn: 0, bytesOut: 0, dropped: 0, inFlight: 0, rtHistogram: '', lagHistogram: '', totalSent: 0, eventLoopLagMs: 0 };
    // the controller checks that a frame's RT histogram holds one sample per response
    const rt = (requests: number): string => {
      const h = createLatencyHistogram();
      h.recordValueWithCount(1000, requests);
      return encodeHistogram(h);
    };
    aggregator.add('a', { ...base, second: 100, requests: 10, rtHistogram: rt(10), statusCodes: { '200': 2, '599': 8 }, errorClasses: { 'connection refused': 6, 'connection reset': 2 } });
    aggregator.add('b', { ...base, second: 100, requests: 5, rtHistogram: rt(5), statusCodes: { '599': 4, '500': 1 }, errorClasses: { 'connection refused': 4, 'http status': 1 } });
    // an agent that names no causes, and one that claims more than it failed: the sum still holds
    aggregator.add('c', { ...base, second: 100, requests: 3, rtHistogram: rt(3), statusCodes: { '512': 3 } });
    aggregator.add('d', { ...base, second: 100, requests: 1, rtHistogram: rt(1), statusCodes: { '599': 1 }, errorClasses: { protocol: 50 } });
    const context = { elapsed: 1, agentsDesired: 4, agentsAvailable: 4 };
    const second = aggregator.finalize(100, context);
    expect(second.point.Errors).toBe(17);
    expect(second.point.ErrorClasses).toEqual({ 'connection refused': 10, 'connection reset': 2, 'http status': 1, protocol: 1, other: 3 });
    const clean = aggregator.finalize(101, context);
    expect(clean.point.ErrorClasses).toBeUndefined();

    const round = new RoundAccumulator();
    round.addSecond(second.point, second.rtHistogram, second.lagHistogram);
    round.addSecond(clean.point, clean.rtHistogram, clean.lagHistogram);
    round.addSecond(second.point, second.rtHistogram, second.lagHistogram);
    const result = round.result();
    const sum = Object.values(result.ErrorClasses ?? {}).reduce((a, b) => a + b, 0);
    expect(sum).toBe(result.ErrorRequests);
    expect(result.ErrorClasses).toEqual({ 'connection refused': 20, 'connection reset': 4, 'http status': 2, protocol: 2, other: 6 });

    // a second stored before classes existed makes the round's classes unknown rather than wrong
    const old = new RoundAccumulator();
    const { ErrorClasses: _dropped, ...oldPoint } = second.point;
    old.addSecond(oldPoint, second.rtHistogram, second.lagHistogram);
    expect(old.result().ErrorClasses).toBeUndefined();
  });

  test('addErrorClasses adds exactly the errors it is given', () => {
    const target: ErrorClassCounts = { timeout: 1 };
    addErrorClasses(target, { timeout: 2, TLS: 5 }, 4);
    expect(target).toEqual({ timeout: 3, TLS: 2 });
  });

  test('each class prints with its status and share, most first', () => {
    const lines = errorClassLines({ 'connection refused': 96_704, timeout: 10, 'http status': 3 }, 96_717).map(formatErrorClassLine);
    expect(lines).toEqual(['599 connection refused: 96,704 (99.99%)', '512 timeout: 10 (0.01%)', 'http status: 3 (0.00%)']);
    expect(errorClassLines({ 'connection refused': 96_704 }, 96_704).map(formatErrorClassLine)).toEqual(['599 connection refused: 96,704 (100.00%)']);
  });
});
