import * as fs from 'node:fs';
import * as path from 'node:path';
import type { LlmRecordsResponse, LlmRequestRecord } from '../../src/contract';
import { createAndWait, eascmdOk, llmRecords, taskDetail, writeLlmTask } from '../helpers/llm';
import { killAllStarted, livePids, OpenAiFixtureProcess, startController, startOpenAiFixture, tempDir, waitFor } from '../helpers/processes';

/** The records of a round as the controller's data dir holds them: one JSON line each, a torn last line skipped. */
function storedRecords(dataDir: string, taskName: string, roundId: number): LlmRequestRecord[] {
  const text = fs.readFileSync(path.join(dataDir, 'tasks', taskName, `round-${roundId}.llm.ndjson`), 'utf8');
  const out: LlmRequestRecord[] = [];
  for (const line of text.split('\n')) {
    try {
      if (line) out.push(JSON.parse(line) as LlmRequestRecord);
    } catch {
      // torn by the kill
    }
  }
  return out;
}

describe('LLM per-request records across a controller restart (real controller, agents, eascmd, OpenAI fixture)', () => {
  let fixture: OpenAiFixtureProcess;
  let dir: string;
  const figures: string[] = [];

  beforeAll(async () => {
    dir = tempDir('llm-restart');
    fixture = await startOpenAiFixture(['--ttft-ms', '20', '--tpot-ms', '2']);
  });

  afterAll(async () => {
    await fixture?.stop();
    killAllStarted();
    if (figures.length) process.stdout.write(`${figures.join('\n')}\n`);
  });

  test('SIGTERM after a finished round: the next controller on the same data dir serves the same records and LLM figures', async () => {
    const first = await startController();
    const file = writeLlmTask(dir, fixture.url, { testMode: 'concurrency', concurrency: 10, dataset: { type: 'synthetic', inputTokens: [20, 40], outputTokens: [10, 10] } });
    const done = await createAndWait(first, file);
    const name = done.TaskName;
    expect(done.Status).toBe('Stopped');
    const before = await llmRecords(first, name);
    expect(before.Records).toHaveLength(100);
    await first.stop('SIGTERM');
    expect(first.proc.exitCode).toBe(0);

    const second = await startController({ dataDir: first.dataDir });
    try {
      const after = await llmRecords(second, name);
      expect(after.RoundId).toBe(before.RoundId);
      expect(after.Records).toEqual(before.Records);
      const detail = await taskDetail(second, name);
      expect(detail.Status).toBe('Stopped');
      expect(detail.LLM).toEqual(done.LLM);
      const common = detail.LLM?.Common;
      figures.push(`restart after SIGTERM: ${after.Records.length} records before and after; TTFT avg ${detail.LLM?.Total.TTFT.Average} ms, E2EL avg ${detail.LLM?.Total.E2EL.Average} ms, RequestThroughput ${common?.RequestThroughput} req/s, PrefillTokenThroughput ${common?.PrefillTokenThroughput} token/s, all equal`);

      // the same records through `eascmd bench records`, as CSV to a file and as JSON to stdout
      const csvFile = path.join(dir, `${name}.csv`);
      const line = await eascmdOk(second, ['bench', 'records', name, '--output', csvFile]);
      expect(line).toBe(`[OK] 100 records of benchmark task ${name} written to ${csvFile}\n`);
      const rows = fs.readFileSync(csvFile, 'utf8').trim().split('\n');
      expect(rows[0]).toBe('agent,seq,sendMs,endMs,success,status,ttftMs,tpotMs,itlMs,e2elMs,inputTokens,outputTokens,tokenSource,error,queueMs');
      expect(rows.slice(1).map((r) => r.split(',').slice(0, 4).join(','))).toEqual(before.Records.map((r) => [r.agent, r.seq, r.sendMs, r.endMs].join(',')));
      const json = JSON.parse(await eascmdOk(second, ['bench', 'records', name, '--format', 'json'])) as LlmRecordsResponse;
      expect(json.Records).toEqual(before.Records);
    } finally {
      await second.stop();
    }
  });

  test('SIGKILL mid-run: after a restart the task is Terminated and the records written before the kill are served', async () => {
    await fixture.reset();
    const first = await startController();
    // 40 output tokens at 2 ms: about 100 ms a request, 4 streams: 1000 requests would take 25 s
    const file = writeLlmTask(dir, fixture.url, { testMode: 'concurrency', concurrency: 4, requestCount: 1000, dataset: { type: 'synthetic', inputTokens: [20, 40], outputTokens: [40, 40] } });
    const created = await eascmdOk(first, ['bench', 'create', file]);
    const name = /Task \[([^\]]+)\]/.exec(created)?.[1] as string;
    const live = await waitFor('40 records', async () => {
      const r = await llmRecords(first, name);
      return r.Records.length >= 40 ? r : undefined;
    }, 30000, 100);
    await first.stop('SIGKILL');
    expect(first.proc.signalCode).toBe('SIGKILL');
    // agents learn of the kill from their stdin's EOF
    await waitFor('the agents to exit', () => livePids(name).length === 0, 10000, 100);

    const stored = storedRecords(first.dataDir, name, live.RoundId);
    const sent = (await fixture.stats()).requests;
    expect(stored.length).toBeGreaterThanOrEqual(live.Records.length);
    expect(stored.length).toBeLessThan(1000);
    expect(stored.length).toBeLessThanOrEqual(sent);

    const second = await startController({ dataDir: first.dataDir });
    try {
      const detail = await taskDetail(second, name);
      expect(detail.Status).toBe('Terminated');
      const after = await llmRecords(second, name);
      expect(after.RoundId).toBe(live.RoundId);
      expect(after.Records.length).toBeGreaterThan(0);
      expect(after.Records).toEqual(stored);
      expect(detail.LLM?.Common).toMatchObject({ TotalRequests: stored.length, SuccessRequests: stored.filter((r) => r.success).length });
      figures.push(`restart after SIGKILL: ${live.Records.length} records seen live, ${stored.length} in the store, ${after.Records.length} served after the restart, ${sent} requests reached the fixture; status ${detail.Status}`);
    } finally {
      await second.stop();
    }
  });
});
