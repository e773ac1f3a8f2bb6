import * as fs from 'node:fs';
import * as path from 'node:path';
import { bodyDigest } from '../../fixtures/openai-service';
import { llmRecords, useLlmFixtureRuns } from '../helpers/llm';

const TOKENIZER_FIXTURE = path.join(__dirname, '..', '..', 'fixtures', 'tokenizers', 'word-level.tokenizer.json');

/** The llm options that change what is sent and counted, not the run mode (those: llm-modes.test.ts). */
describe('LLM options against the OpenAI fixture', () => {
  const { run, controller, fixture, dir, figures } = useLlmFixtureRuns('llm-options');

  test('llm.tokenizer: a tokenizer.json counts what usage does not give, and the result names it; ShareGPT outputLength is max_tokens; no ignore_eos unless asked', async () => {
    const prompts = ['Hello world, the quick fox!', 'the the the'];
    const file = path.join(dir(), 'sharegpt-tok.json');
    fs.writeFileSync(file, JSON.stringify(prompts.map((value) => ({ conversations: [{ from: 'human', value }] }))));
    // the controller reads it like any data source: under its data roots
    const tokenizer = path.join(dir(), 'models', 'word-level', 'tokenizer.json');
    fs.mkdirSync(path.dirname(tokenizer), { recursive: true });
    fs.copyFileSync(TOKENIZER_FIXTURE, tokenizer);
    const { llm } = await run({ usage: false }, { concurrency: 4, tokenizer, dataset: { type: 'sharegpt', path: file, outputLength: 12 } });
    const stats = await fixture().stats();
    // word-level: "hello world , the quick fox !" is 7 tokens (o200k: 8), "the the the" 3; the answer " hello" x 12 is 12
    expect(llm.Total.InputTokens).toMatchObject({ Min: 3, Max: 7, N: 100 });
    expect(llm.Common.TotalInputTokens).toBe(50 * 7 + 50 * 3);
    expect(llm.Common.TotalGeneratedTokens).toBe(100 * 12);
    expect(llm.Tokenizer).toBe('tokenizer.json word-level/tokenizer.json');
    expect(llm.TokenSource).toBe('tokenizer (tokenizer.json word-level/tokenizer.json: the service sent no usage)');
    expect(stats.bodies).toEqual(Object.fromEntries(prompts.map((content) => [bodyDigest({ model: 'fixture', messages: [{ role: 'user', content }], max_tokens: 12 }), 50])));
    expect(stats.ignoreEos).toBe(0);
    const synthetic = await run({}, { concurrency: 4, dataset: { type: 'synthetic', inputTokens: [10, 10], outputTokens: [10, 10] } });
    expect(synthetic.llm.Tokenizer).toBe('gpt-tokenizer o200k_base');
    expect((await fixture().stats()).ignoreEos).toBe(0);
    await run({}, { concurrency: 4, ignoreEos: true, dataset: { type: 'synthetic', inputTokens: [10, 10], outputTokens: [10, 10] } });
    expect((await fixture().stats()).ignoreEos).toBe(100);
  });

  test('llm.retries: every 10th request fails at the fixture and is sent again; retried requests are counted apart', async () => {
    const { llm } = await run({ errorRate: 0.1 }, { retries: 1, dataset: { type: 'synthetic', inputTokens: [10, 10], outputTokens: [10, 10] } });
    const stats = await fixture().stats();
    // serial sends: S = 100 + floor(S / 10) gives 111 sends, sends 10, 20, ..., 110 failing and each retry succeeding
    expect(stats.requests).toBe(111);
    expect(stats.failed).toBe(11);
    expect(llm.Retries).toEqual({ RetriedRequests: 11, RetryAttempts: 11, RecoveredRequests: 11 });
    expect(llm.Common).toMatchObject({ TotalRequests: 100, SuccessRequests: 100, FailedRequests: 0 });
    const without = await run({ errorRate: 0.1 }, { dataset: { type: 'synthetic', inputTokens: [10, 10], outputTokens: [10, 10] } });
    expect(without.llm.Common).toMatchObject({ TotalRequests: 100, FailedRequests: 10 });
    expect(without.llm.Retries).toBeUndefined();
  });

  test('llm.warmupRequests: sent first, left out of every figure and record, said in the result', async () => {
    const cold = { ttftMs: 30, tpotMs: 5, coldRequests: 3, coldMs: 300 };
    const llm = { concurrency: 4, dataset: { type: 'synthetic', inputTokens: [10, 10], outputTokens: [10, 10] } };
    // without: the service's three cold first requests are in the figures
    const without = await run(cold, llm);
    expect(without.llm.Total.TTFT.Max).toBeGreaterThan(cold.coldMs);
    expect(without.llm.Warmup).toBeUndefined();
    const { task, llm: warmed } = await run(cold, { ...llm, warmupRequests: 3 });
    const served = await fixture().stats();
    figures.push(`warm-up 3: TTFT max ${warmed.Total.TTFT.Max} ms (without: ${without.llm.Total.TTFT.Max} ms, the first 3 served ${cold.coldMs} ms slower); the service got ${served.requests} requests, the figures count ${warmed.Common.TotalRequests}`);
    expect(served.requests).toBe(103);
    expect(warmed.Common).toMatchObject({ TotalRequests: 100, SuccessRequests: 100 });
    expect(warmed.Total.TTFT.N).toBe(100);
    // none of the cold ones (30 + 300 ms) is in the figures; the longest is a warm one, however busy the machine
    expect(warmed.Total.TTFT.Max).toBeLessThan(cold.coldMs);
    expect((await llmRecords(controller(), task.TaskName)).Records).toHaveLength(100);
    expect(warmed.Warmup).toEqual({ RequestsPerAgent: 3, Excluded: 'every figure and record' });
  });
});
