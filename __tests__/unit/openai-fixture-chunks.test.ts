import { startOpenAiService } from '../../fixtures/openai-service';

/** The fixture's chunk log, the timing truth of bench/llm-ceiling.ts: every content chunk, in order, when it went. */
describe('OpenAI fixture: onContentChunk', () => {
  it('reports each content chunk of a stream with its tokens, no earlier than its schedule', async () => {
    const chunks: { n: number; arrivedMs: number; firstToken: number; tokens: number; sentMs: number }[] = [];
    const fixture = await startOpenAiService({ ttftMs: 20, tpotMs: 5, tokensPerChunk: 2, onContentChunk: (c) => chunks.push(c) });
    try {
      const res = await fetch(`${fixture.url}/v1/chat/completions`, { method: 'POST', body: JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'hi' }], max_tokens: 7, stream: true }) });
      const text = await res.text();
      expect(text).toContain('[DONE]');
      // the first token alone, then up to two a chunk: 1 + 2 + 2 + 2
      expect(chunks.map((c) => [c.n, c.firstToken, c.tokens])).toEqual([[1, 0, 1], [1, 1, 2], [1, 3, 2], [1, 5, 2]]);
      for (const c of chunks) {
        // a chunk goes when its last token is generated: arrival + TTFT + (last token) · TPOT
        expect(c.sentMs).toBeGreaterThanOrEqual(c.arrivedMs + 20 + (c.firstToken + c.tokens - 1) * 5 - 1);
      }
      expect(chunks.every((c, i) => i === 0 || c.sentMs >= chunks[i - 1].sentMs)).toBe(true);
    } finally {
      await fixture.close();
    }
  });
});
