import * as fs from 'node:fs';
import * as path from 'node:path';
import { bodyDigest, promptDigest, promptText } from '../../fixtures/openai-service';
import type { GetTaskResponse, LlmResult } from '../../src/contract';
import { createAndWait, eascmdOk, llmRecords, taskDetail, useLlmFixture, writeLlmTask } from '../helpers/llm';
import { ControllerProcess, OpenAiFixtureProcess, runEascmd, waitFor } from '../helpers/processes';

const TTFT_MS = 100;
const TPOT_MS = 5;
/** The fixture's output length when a request gives no max_tokens (ShareGPT sends none). */
const DEFAULT_OUTPUT_TOKENS = 16;

/** `{digest: n}` for each digest. */
function counts(digests: readonly string[], n: number): Record<string, number> {
  return Object.fromEntries(digests.map((d) => [d, n]));
}

describe('LLM test modes and datasets end to end: what the OpenAI fixture received is what was asked', () => {
  let controller: ControllerProcess;
  let fixture: OpenAiFixtureProcess;
  let dir: string;
  const figures = useLlmFixture('llm-datasets', ['--ttft-ms', String(TTFT_MS), '--tpot-ms', String(TPOT_MS), '--default-output-tokens', String(DEFAULT_OUTPUT_TOKENS)], (started) => ({ controller, fixture, dir } = started), (d) => ['--data-root', d]);

  beforeEach(() => fixture.reset());

  const run = async (llm: Record<string, unknown>, extra: Record<string, unknown> = {}): Promise<{ task: GetTaskResponse; llm: LlmResult }> => {
    const task = await createAndWait(controller, writeLlmTask(dir, fixture.url, llm, extra));
    expect(task.Status).toBe('Stopped');
    return { task, llm: task.LLM as LlmResult };
  };

  test('bench update -Doptional.agentCount changes the agents of a running llm task; other keys are refused', async () => {
    const file = writeLlmTask(dir, fixture.url, { testMode: 'concurrency', concurrency: 2, requestCount: 120, dataset: { type: 'synthetic', inputTokens: [20, 20], outputTokens: [10, 10] } });
    const name = /Task \[(\S+)\]/.exec(await eascmdOk(controller, ['bench', 'create', file]))?.[1] ?? '';
    await waitFor('Running', async () => (await taskDetail(controller, name)).Status === 'Running');
    const refused = await runEascmd(['-c', controller.configFile, 'bench', 'update', name, '-Doptional.maxQPS=5']);
    expect(refused.stderr.trim()).toBe('[ERROR] InvalidField: optional.maxQPS: cannot be updated in an llm task (updatable: agentCount)');
    await eascmdOk(controller, ['bench', 'update', name, '-Doptional.agentCount=2']);
    await waitFor('2 agents', async () => (await taskDetail(controller, name)).AvailableAgent === 2, 15000);
    const end = await waitFor('Stopped', async () => {
      const t = await taskDetail(controller, name);
      return t.Status === 'Stopped' ? t : undefined;
    }, 30000);
    const records = (await llmRecords(controller, name)).Records;
    // the second agent's streams are in the records too, and every request the fixture answered is one of them
    expect(new Set(records.map((r) => r.agent))).toEqual(new Set([0, 1]));
    expect(records.length).toBe(120);
    expect((await fixture.stats()).requests).toBe(120);
    expect(end.Events?.some((e) => e.Kind === 'update' && /1 -> 2 agents/.test(e.Message))).toBe(true);
  });

  test('sharegpt dataset from a local file: the first human turn of each conversation, round robin, as a chat message without max_tokens', async () => {
    const doc = [
      { id: 'a', conversations: [{ from: 'system', value: 'Be brief.' }, { from: 'human', value: 'What is the capital of France?' }, { from: 'gpt', value: 'Paris.' }, { from: 'human', value: 'a second turn, not used' }] },
      { id: 'b', conversations: [{ from: 'gpt', value: 'a reply with no question: skipped' }] },
      { id: 'c', messages: [{ role: 'user', content: 'Write a haiku about load testing.' }, { role: 'assistant', content: 'Requests pile up' }] },
      { id: 'd', conversations: [{ from: 'human', value: 'Übersetze „Hallo Welt“ ins Japanische 🙂' }] },
      { id: 'e', conversations: [{ from: 'user', value: `Summarise this: ${'lorem ipsum '.repeat(40)}` }] },
    ];
    const prompts = [doc[0].conversations?.[1].value, doc[2].messages?.[0].content, doc[3].conversations?.[0].value, doc[4].conversations?.[0].value] as string[];
    const file = path.join(dir, 'sharegpt.json');
    fs.writeFileSync(file, JSON.stringify(doc));
    const { llm } = await run({ testMode: 'concurrency', concurrency: 10, dataset: { type: 'sharegpt', path: file } });
    const stats = await fixture.stats();
    expect(stats.requests).toBe(100);
    expect(stats.byPath).toEqual({ '/v1/chat/completions': 100 });
    // 4 prompts, 100 requests: 25 each, each body exactly {model, messages: [the prompt]} (no max_tokens, no ignore_eos)
    expect(stats.prompts).toEqual(counts(prompts.map(promptDigest), 25));
    expect(stats.bodies).toEqual(counts(prompts.map((content) => bodyDigest({ model: 'fixture', messages: [{ role: 'user', content }] })), 25));
    expect(llm.Common).toMatchObject({ TotalRequests: 100, SuccessRequests: 100, TotalGeneratedTokens: 100 * DEFAULT_OUTPUT_TOKENS, TotalInputTokens: stats.promptTokens });
    expect(llm.Total.OutputTokens).toMatchObject({ Min: DEFAULT_OUTPUT_TOKENS, Max: DEFAULT_OUTPUT_TOKENS });
    expect(llm.TokenSource).toBe('usage');
    figures.push(`sharegpt: ${prompts.length} prompts x 25 requests as received by the fixture, input tokens ${llm.Total.InputTokens.Min}..${llm.Total.InputTokens.Max} (total ${llm.Common.TotalInputTokens} = fixture ${stats.promptTokens}), TTFT avg ${llm.Total.TTFT.Average} ms`);
  });

  test('custom dataset from a local data file: each line is a body, sent as written with stream forced on and model added only where missing', async () => {
    const entries: Record<string, unknown>[] = [
      { model: 'custom-a', messages: [{ role: 'user', content: 'first custom body' }], max_tokens: 12, temperature: 0 },
      { messages: [{ role: 'system', content: 'You are terse.' }, { role: 'user', content: 'second body, no model' }], max_tokens: 16 },
      { model: 'custom-c', stream: false, max_tokens: 20, top_p: 0.9, messages: [{ role: 'user', content: 'third body, stream false in the file' }] },
      { model: 'custom-d', messages: [{ role: 'user', content: 'fourth body' }], max_tokens: 24, stream_options: { include_usage: false } },
    ];
    const file = path.join(dir, 'bodies.jsonl');
    fs.writeFileSync(file, `${entries.map((e) => JSON.stringify(e)).join('\n')}\n`);
    const { llm } = await run({ testMode: 'concurrency', concurrency: 8, dataset: { type: 'custom' } }, { data: { path: file, multiLine: true } });
    const stats = await fixture.stats();
    expect(stats.requests).toBe(100);
    expect(stats.bodies).toEqual(counts(entries.map((e) => bodyDigest({ model: 'fixture', ...e })), 25));
    expect(stats.prompts).toEqual(counts(entries.map((e) => promptDigest(promptText(e))), 25));
    const maxTokens = entries.map((e) => e.max_tokens as number);
    const generated = 25 * maxTokens.reduce((s, n) => s + n, 0);
    expect(stats.outputTokens).toBe(generated);
    expect(llm.Common).toMatchObject({ TotalRequests: 100, SuccessRequests: 100, TotalGeneratedTokens: generated, TotalInputTokens: stats.promptTokens });
    expect(llm.Total.OutputTokens).toMatchObject({ Min: 12, Max: 24 });
    // stream_options.include_usage is forced on, so every count came from usage
    expect(llm.TokenSource).toBe('usage');
    figures.push(`custom: ${entries.length} bodies x 25 requests as received by the fixture, output tokens ${llm.Total.OutputTokens.Min}..${llm.Total.OutputTokens.Max} (total ${generated}), TTFT avg ${llm.Total.TTFT.Average} ms`);
  });
});
