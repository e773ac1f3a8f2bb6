import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { LlmClient } from '../../agent/llm/client';
import type { PreparedLlmRequest } from '../../agent/llm/prompts';
import { StatsRecorder } from '../../agent/stats-recorder';
import type { AgentStatsFrame } from '../../src/contract';

/*
 * What an LLM agent does before it says ready: it warms its client on a
 * stream server inside itself (the service sees none of it, no figure counts
 * it) and opens the connections it was told to open ahead, on the service.
 */

const ANSWER = ['{"choices":[{"index":0,"delta":{"content":" hi"},"finish_reason":null}]}', '{"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}', '[DONE]'].map((d) => `data: ${d}\n\n`).join('');

describe('the LLM client before the first request', () => {
  let server: http.Server;
  let url: string;
  let requests = 0;
  let connections = 0;

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      requests++;
      req.resume();
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.end(ANSWER);
      });
    });
    server.on('connection', () => connections++);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/chat/completions`;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  test('warms its path on its own server, opens the connections asked ahead, and counts nothing until it sends', async () => {
    const frames: AgentStatsFrame[] = [];
    const recorder = new StatsRecorder({ inFlight: () => 0, totalSent: () => 0, takeConnectionWaitMaxMs: () => 0 }, (f) => frames.push(f));
    recorder.enableLlmRecords();
    const request = (): PreparedLlmRequest => ({ body: Buffer.from('{"model":"m","messages":[{"role":"user","content":"hi"}],"stream":true}'), promptTokens: 1 });
    const sample = jest.fn(request);
    const client = new LlmClient({ url, headers: [], timeoutMs: 5000, agentIndex: 0, retries: 0, sample }, { next: request }, recorder, () => undefined);
    client.setConnections(8, 3);
    try {
      recorder.start();
      await client.prepare();
      // three requests went to the agent's own server, none to the service; the three connections are open on it
      expect(sample).toHaveBeenCalledTimes(3);
      expect(requests).toBe(0);
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(connections).toBe(3);
      // the first request goes on a connection opened ahead; it is the only one the frames count
      await new Promise<void>((resolve) => client.send(performance.now(), performance.now(), () => resolve()));
      recorder.flush();
      expect(requests).toBe(1);
      expect(connections).toBe(3);
      expect(frames.flatMap((f) => f.llmRecords ?? []).map((r) => r.success)).toEqual([true]);
      expect(frames.reduce((sum, f) => sum + f.sent, 0)).toBe(1);
      expect(frames.reduce((sum, f) => sum + f.requests, 0)).toBe(1);
    } finally {
      await client.close();
    }
  });
});
