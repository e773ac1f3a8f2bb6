import { spawn } from 'node:child_process';
import { signedGetText } from '../helpers/api';
import { createAndWait, writeLlmTask } from '../helpers/llm';
import { BIN, ControllerProcess, FixtureProcess, killAllStarted, OpenAiFixtureProcess, startController, startFixture, startOpenAiFixture, tempDir, writeTask } from '../helpers/processes';

/** Linux's default pipe buffer: output larger than this cannot all be written before the reader goes. */
const PIPE_BUFFER_BYTES = 64 * 1024;

interface ClosedReaderResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  firstLine: string;
  stderr: string;
}

/**
 * The real `eascmd` with its stdout piped into a reader that closes the pipe
 * after the first line, as `| head -1` does.
 */
function runIntoClosingReader(args: string[], timeoutMs = 60000): Promise<ClosedReaderResult> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, [BIN.eascmd, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } });
    let out = '';
    let firstLine = '';
    let stderr = '';
    proc.stdout.setEncoding('utf8').on('data', (c: string) => {
      out += c;
      const end = out.indexOf('\n');
      if (end >= 0 && !firstLine) {
        firstLine = out.slice(0, end);
        proc.stdout.destroy();
      }
    });
    proc.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`eascmd ${args.join(' ')} went on after its reader closed:\n${stderr}`));
    }, timeoutMs);
    proc.on('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, firstLine, stderr });
    });
  });
}

describe('a reader that closes stdout early ends eascmd quietly with 0', () => {
  let controller: ControllerProcess;
  let llm: OpenAiFixtureProcess;
  let target: FixtureProcess;
  let dir: string;

  beforeAll(async () => {
    dir = tempDir('closed-reader');
    [controller, llm, target] = await Promise.all([startController(), startOpenAiFixture(['--ttft-ms', '1', '--tpot-ms', '1']), startFixture()]);
  });
  afterAll(async () => {
    await controller?.stop();
    await llm?.stop();
    await target?.stop();
    killAllStarted();
  });

  test('records --format json of an llm task piped into a reader that takes one line', async () => {
    const file = writeLlmTask(dir, llm.url, { testMode: 'concurrency', concurrency: 16, requestCount: 1000, dataset: { type: 'synthetic', inputTokens: [10, 10], outputTokens: [10, 10] } });
    const task = await createAndWait(controller, file);
    expect(task.Status).toBe('Stopped');
    // every ITL gap of every record: far more than the pipe holds, so eascmd is still writing when the reader goes
    const records = await signedGetText(controller, `/api/v2/benchmark-tasks/cn-local/${task.TaskName}/records?format=json`);
    expect(records.text.length).toBeGreaterThan(3 * PIPE_BUFFER_BYTES);
    const res = await runIntoClosingReader(['-c', controller.configFile, 'bench', 'records', task.TaskName, '--format', 'json']);
    expect(res.firstLine).toBe('{');
    expect(res).toMatchObject({ code: 0, signal: null, stderr: '' });
  }, 120000);

  test('create --wait keeps following the task; its next progress line finds the reader gone', async () => {
    const file = writeTask(dir, { service: { serviceName: 'demo', url: target.url }, optional: { mode: 'manual', agentCount: 1, concurrency: 1, maxQPS: 5, duration: 30 } });
    const res = await runIntoClosingReader(['-c', controller.configFile, 'bench', 'create', file, '--wait']);
    expect(res.firstLine).toMatch(/^\[RequestId\]: /);
    expect(res).toMatchObject({ code: 0, signal: null, stderr: '' });
  }, 60000);
});
