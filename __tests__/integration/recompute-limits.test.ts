import * as fs from 'node:fs';
import * as path from 'node:path';
import { API_PREFIX } from '../../src/contract';
import { TaskStore } from '../../controller/tasks/store';
import { createTask, idleLauncher, startInProcessController } from '../helpers/controller';
import { tempDir } from '../helpers/processes';

const ROUND = 10001;

/** `n` LLM records as stored ndjson lines; each error text holds a character of 3 UTF-8 bytes, so chunks split inside one. */
function recordLines(n: number): string[] {
  return Array.from({ length: n }, (_, i) => JSON.stringify({
    agent: i % 3, seq: i, sendMs: 1_700_000_000_000 + i * 10, endMs: 1_700_000_000_500 + i * 10, ttftMs: 50 + (i % 7), e2elMs: 500,
    itlMs: Array.from({ length: 20 }, (_v, j) => 10 + ((i + j) % 5)), inputTokens: 10, outputTokens: 21, tokenSource: 'usage', success: true, status: 200, error: `€${i}`,
  }));
}

describe('records are streamed a chunk at a time', () => {
  test('every whole line comes back in order across chunks and split UTF-8; a torn last line is left out', async () => {
    const dataDir = tempDir('records-stream');
    const store = new TaskStore(dataDir);
    const lines = recordLines(6000);
    const dir = path.join(dataDir, 'tasks', 'benchmark-records-0001');
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, `round-${ROUND}.llm.ndjson`), `${lines.join('\n')}\n{"agent":1,"seq`);
    let turns = 0;
    const ticker = setInterval(() => turns++, 0);
    const seen: string[] = [];
    for await (const line of store.llmRecordLines('benchmark-records-0001', ROUND)) seen.push(line);
    clearInterval(ticker);
    expect(seen).toEqual(lines);
    // the file (over 1 MB) is read in several reads, with the event loop served between them
    expect(turns).toBeGreaterThan(0);
  });
});

describe('recompute runs one at a time per controller', () => {
  test('calls made while one runs get 429 TooManyRequests saying why; the one that ran and a later one answer in full', async () => {
    const c = await startInProcessController({}, { launcher: idleLauncher });
    try {
      const name = await createTask(c, { service: { serviceName: 'demo', url: 'http://127.0.0.1:1/x' }, llm: { model: 'm', api: 'chat', testMode: 'concurrency', concurrency: 2, duration: 60 } });
      const lines = recordLines(20_000);
      fs.writeFileSync(path.join(c.dataDir, 'tasks', name, `round-${ROUND}.llm.ndjson`), `${lines.join('\n')}\n`);
      const recompute = `${API_PREFIX}/${c.region}/${name}/recompute`;
      const answers = await Promise.all([1, 2, 3].map(() => c.call('GET', recompute)));
      const ok = answers.filter((a) => a.status === 200);
      const refused = answers.filter((a) => a.status === 429);
      expect(ok.length).toBe(1);
      expect(refused.length).toBe(2);
      expect(ok[0].json.Records).toBe(lines.length);
      for (const r of refused) {
        expect(r.json).toMatchObject({ Code: 'TooManyRequests', Message: 'another recompute is running on this controller (it runs 1 at a time); try again when it ends' });
      }
      // the slot is given back, after a success as after a failure
      expect((await c.call('GET', `${recompute}?steady=bad`)).status).toBe(400);
      expect((await c.call('GET', recompute)).json.Records).toBe(lines.length);
    } finally {
      await c.close();
    }
  });
});
