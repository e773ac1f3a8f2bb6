import { deflateSync } from 'node:zlib';
import { AgentToController, LlmRequestRecord, PROTOCOL_VERSION } from '../../src/contract';
import { createLatencyHistogram, encodeHistogram, recordUs } from '../../src/measure/histogram';

/** A real encoded histogram of a few samples, as an agent sends it. */
export const HISTOGRAM = ((): string => {
  const h = createLatencyHistogram();
  for (const us of [120, 900, 15000]) recordUs(h, us);
  return encodeHistogram(h);
})();

export const LLM_RECORD: LlmRequestRecord = {
  agent: 0, seq: 3, sendMs: 1700000000000.5, endMs: 1700000000100.25, ttftMs: 20.5, e2elMs: 99.75, itlMs: [1.5, 2, 3.25],
  inputTokens: 12, outputTokens: 4, tokenSource: 'usage', success: true, status: 200,
};

/** One valid message of each type an agent sends (its figures agree with each other); `second` defaults to the current one. */
export function validAgentMessages(hello: { agentId: string; token: string }, second = Math.floor(Date.now() / 1000)): AgentToController[] {
  return [
    { type: 'hello', agentId: hello.agentId, token: hello.token, pid: 42, host: 'box', version: PROTOCOL_VERSION },
    { type: 'ready' },
    {
      type: 'stats',
      frame: {
        second, requests: 3, sent: 4, statusCodes: { '200': 2, '503': 1 }, bytesIn: 100, bytesOut: 200, dropped: 0, inFlight: 1,
        rtHistogram: HISTOGRAM, lagHistogram: '', totalSent: 4, eventLoopLagMs: 0.25,
        llmRecords: [LLM_RECORD, { ...LLM_RECORD, seq: 4, ttftMs: null, e2elMs: null, itlMs: [], success: false, status: 599, error: 'boom' }],
      },
    },
    { type: 'done', reason: 'limit', totalSent: 4 },
    { type: 'log', level: 'warn', message: 'careful' },
  ];
}

/** One ZigZag LEB128-64b9B word of the HdrHistogram V2 payload (a count, or minus a run of empty buckets). */
export function zigZagWord(value: number): Buffer {
  let v = value >= 0 ? value * 2 : -value * 2 - 1;
  const bytes: number[] = [];
  for (let n = 0; n < 8 && v >= 128; n++) {
    bytes.push((v % 128) | 0x80);
    v = Math.floor(v / 128);
  }
  bytes.push(v);
  return Buffer.from(bytes);
}

/** What a hostile agent can put in a histogram: any header field, any payload, any envelope length. */
export interface HostileHistogramSpec {
  cookie?: number;
  digits?: number;
  lowest?: number;
  highest?: number;
  /** Defaults to the words' real length. */
  payloadLength?: number;
  /** Defaults to one count of 1 in bucket 0. */
  words?: Buffer;
  /** Defaults to the compressed data's real length. */
  compressedLength?: number;
}

/** An HdrHistogram V2 compressed base64 text built field by field, as hostile as asked. */
export function hostileHistogram(spec: HostileHistogramSpec): string {
  const words = spec.words ?? zigZagWord(1);
  const header = Buffer.alloc(40);
  header.writeInt32BE(spec.cookie ?? 0x1c849313, 0);
  header.writeInt32BE(spec.payloadLength ?? words.length, 4);
  header.writeInt32BE(0, 8);
  header.writeInt32BE(spec.digits ?? 3, 12);
  const int64 = (value: number, at: number): void => {
    header.writeUInt32BE(Math.floor(value / 2 ** 32), at);
    header.writeUInt32BE(value % 2 ** 32, at + 4);
  };
  int64(spec.lowest ?? 1, 16);
  int64(spec.highest ?? 60_000_000, 24);
  int64(1, 32);
  const compressed = deflateSync(Buffer.concat([header, words]), { level: 9 });
  const envelope = Buffer.alloc(8);
  envelope.writeInt32BE(0x1c849314, 0);
  envelope.writeInt32BE(spec.compressedLength ?? compressed.length, 4);
  return Buffer.concat([envelope, compressed]).toString('base64');
}
