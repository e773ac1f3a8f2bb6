import { AgentToController, LlmRequestRecord, PROTOCOL_VERSION } from '../../src/contract';
import { createLatencyHistogram, encodeHistogram, recordUs } from '../../controller/metrics/histogram';

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

/** One valid message of each type an agent sends; `second` defaults to the current one. */
export function validAgentMessages(hello: { agentId: string; token: string }, second = Math.floor(Date.now() / 1000)): AgentToController[] {
  return [
    { type: 'hello', agentId: hello.agentId, token: hello.token, pid: 42, host: 'box', version: PROTOCOL_VERSION },
    { type: 'ready' },
    {
      type: 'stats',
      frame: {
        second, requests: 10, sent: 11, statusCodes: { '200': 9, '503': 1 }, bytesIn: 100, bytesOut: 200, dropped: 0, inFlight: 1,
        rtHistogram: HISTOGRAM, lagHistogram: '', totalSent: 11, eventLoopLagMs: 0.25,
        llmRecords: [LLM_RECORD, { ...LLM_RECORD, seq: 4, ttftMs: null, e2elMs: null, itlMs: [], success: false, status: 599, error: 'boom' }],
      },
    },
    { type: 'done', reason: 'limit', totalSent: 11 },
    { type: 'log', level: 'warn', message: 'careful' },
  ];
}
