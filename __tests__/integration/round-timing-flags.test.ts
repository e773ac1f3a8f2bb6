import { spawnSync } from 'node:child_process';
import type { LlmResult } from '../../src/contract';
import { createAndWait, writeLlmTask } from '../helpers/llm';
import { BIN, ControllerProcess, killAllStarted, OpenAiFixtureProcess, startController, startOpenAiFixture, tempDir } from '../helpers/processes';

/**
 * A controller process takes the round's waits as `--round-*` flags, so a test
 * that starts one can shorten them: here an LLM run of about 4 s gets the drift
 * section that a run needs over a minute for by default (`--round-drift-min-run-s`).
 */
describe('eascmd-controller --round-* flags', () => {
  let controller: ControllerProcess | undefined;
  let fixture: OpenAiFixtureProcess | undefined;

  afterAll(async () => {
    await controller?.stop();
    await fixture?.stop();
    killAllStarted();
  });

  test('--round-drift-min-run-s 1: an LLM run of about 4 s has a drift section', async () => {
    fixture = await startOpenAiFixture();
    await fixture.configure({ ttftMs: 20, tpotMs: 2 });
    const dir = tempDir('round-timing');
    controller = await startController({ args: ['--round-drift-min-run-s', '1', '--round-stop-wait-ms', '1000'] });
    const file = writeLlmTask(dir, fixture.url, { testMode: 'concurrency', concurrency: 1, dataset: { type: 'synthetic', inputTokens: [10, 10], outputTokens: [10, 10] } });
    const task = await createAndWait(controller, file);
    expect(task.Status).toBe('Stopped');
    const drift = (task.LLM as LlmResult).Drift;
    // 100 requests of 20 + 9 * 2 ms one after the other: both halves measured
    expect(drift?.TTFT.FirstHalf).toBeGreaterThan(0);
    expect(drift?.TTFT.SecondHalf).toBeGreaterThan(0);
  });

  test.each([
    ['--round-stop-wait-ms=-1', '--round-stop-wait-ms must be a number >= 0, not -1'],
    ['--round-finalize-grace-s=soon', '--round-finalize-grace-s must be a number >= 0, not NaN'],
  ])('%s is refused in one line, by its flag', (flag, line) => {
    const res = spawnSync(BIN.controller, ['--port', '0', '--data-dir', tempDir('round-timing-bad'), flag], { encoding: 'utf8', timeout: 20_000 });
    expect(res.status).toBe(1);
    expect(res.stderr).toBe(`eascmd-controller: ${line}\n`);
  });
});
