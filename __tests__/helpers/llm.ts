import { OPENAI_FIXTURE_DEFAULTS, type OpenAiBehaviour } from '../../fixtures/openai-service';
import type { GetTaskResponse, LlmRecordsResponse, LlmResult } from '../../src/contract';
import { signedGetText } from './api';
import { ControllerProcess, killAllStarted, lastJson, OpenAiFixtureProcess, runEascmd, startController, startOpenAiFixture, tempDir, writeTask } from './processes';

/** Helpers of the LLM integration tests: tasks against the OpenAI fixture, run through the real eascmd. */

/** An llm task file for the fixture at `url`: chat, model `fixture`, 100 requests, then `llm` and `extra` on top. */
export function writeLlmTask(dir: string, url: string, llm: Record<string, unknown>, extra: Record<string, unknown> = {}): string {
  return writeTask(dir, { service: { serviceName: 'llm_fixture', url }, llm: { api: 'chat', model: 'fixture', requestCount: 100, ...llm }, ...extra });
}

/** `eascmd -c CONFIG ARGS...` against the controller; its stdout, or an error with both streams when it fails. */
export async function eascmdOk(controller: ControllerProcess, args: string[]): Promise<string> {
  const res = await runEascmd(['-c', controller.configFile, ...args], { timeoutMs: 60000 });
  if (res.code !== 0) throw new Error(`eascmd ${args.join(' ')} failed (${res.code}):\n${res.stdout}\n${res.stderr}`);
  return res.stdout;
}

/** `eascmd bench create FILE --wait --json`: the final task detail. */
export async function createAndWait(controller: ControllerProcess, file: string): Promise<GetTaskResponse> {
  return lastJson<GetTaskResponse>(await eascmdOk(controller, ['bench', 'create', file, '--wait', '--json']));
}

/** `eascmd bench create FILE --wait`: the lines it printed (progress, summary, report URL). */
export function createAndWaitLines(controller: ControllerProcess, file: string): Promise<string> {
  return eascmdOk(controller, ['bench', 'create', file, '--wait']);
}

/** The task detail by the API. */
export async function taskDetail(controller: ControllerProcess, name: string): Promise<GetTaskResponse> {
  return JSON.parse((await signedGetText(controller, `/api/v2/benchmark-tasks/cn-local/${name}`)).text) as GetTaskResponse;
}

/** `GET .../records?format=json`. */
export async function llmRecords(controller: ControllerProcess, name: string): Promise<LlmRecordsResponse> {
  const res = await signedGetText(controller, `/api/v2/benchmark-tasks/cn-local/${name}/records?format=json`);
  if (res.status !== 200) throw new Error(`records of ${name}: HTTP ${res.status} ${res.text}`);
  return JSON.parse(res.text) as LlmRecordsResponse;
}

/** Fails when `measured` is further than `tolerance` (a fraction) from `expected`. */
export function within(measured: number, expected: number, tolerance = 0.05): void {
  const error = Math.abs(measured - expected) / expected;
  if (error > tolerance) throw new Error(`measured ${measured} is ${(error * 100).toFixed(1)}% from ${expected}`);
}

/** A run of `useLlmFixtureRuns`: the final task detail and its LLM section. */
export interface LlmRun {
  task: GetTaskResponse;
  llm: LlmResult;
}

/** The fixture's defaults with quicker tokens: each test of `useLlmFixtureRuns` sets what it needs on top. */
const NEUTRAL: Partial<OpenAiBehaviour> = { ...OPENAI_FIXTURE_DEFAULTS, ttftMs: 20, tpotMs: 2 };

/** What useLlmFixture started for a describe block. */
export interface LlmFixtureStarted {
  controller: ControllerProcess;
  fixture: OpenAiFixtureProcess;
  dir: string;
}

/**
 * One OpenAI fixture (started with `fixtureArgs`) and one controller process
 * for a describe block, handed to `onStarted` once up, stopped after it.
 * Returns the block's figures: lines pushed there are printed at its end.
 */
export function useLlmFixture(prefix: string, fixtureArgs: string[], onStarted: (started: LlmFixtureStarted) => void, controllerArgs: (dir: string) => string[] = () => []): string[] {
  let started: Partial<LlmFixtureStarted> = {};
  const figures: string[] = [];
  beforeAll(async () => {
    const dir = tempDir(prefix);
    started = { dir };
    started.fixture = await startOpenAiFixture(fixtureArgs);
    started.controller = await startController({ args: controllerArgs(dir) });
    onStarted(started as LlmFixtureStarted);
  });
  afterAll(async () => {
    await started.controller?.stop();
    await started.fixture?.stop();
    killAllStarted();
    if (figures.length) process.stdout.write(`${figures.join('\n')}\n`);
  });
  return figures;
}

/**
 * One OpenAI fixture and one controller process for a describe block, and
 * `run(behaviour, llm)`: the fixture reset and told `behaviour` (on top of
 * NEUTRAL), then an llm task of 100 requests created through eascmd and
 * waited for. Figures pushed to `figures` are printed after the block.
 */
export function useLlmFixtureRuns(prefix: string): {
  run(behaviour: Partial<OpenAiBehaviour>, llm: Record<string, unknown>): Promise<LlmRun>;
  controller(): ControllerProcess;
  fixture(): OpenAiFixtureProcess;
  dir(): string;
  figures: string[];
} {
  let controller: ControllerProcess | undefined;
  let fixture: OpenAiFixtureProcess | undefined;
  let dir: string | undefined;
  const figures = useLlmFixture(prefix, [], (started) => ({ controller, fixture, dir } = started), (d) => ['--data-root', d]);
  const need = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error('the fixture runs are used before their beforeAll ran');
    return value;
  };
  return {
    async run(behaviour, llm) {
      await need(fixture).reset();
      await need(fixture).configure({ ...NEUTRAL, ...behaviour });
      const file = writeTask(need(dir), { service: { serviceName: 'llm_modes', url: need(fixture).url }, llm: { api: 'chat', model: 'fixture', testMode: 'concurrency', requestCount: 100, ...llm } });
      const task = await createAndWait(need(controller), file);
      expect(task.Status).toBe('Stopped');
      return { task, llm: task.LLM as LlmResult };
    },
    controller: () => need(controller),
    fixture: () => need(fixture),
    dir: () => need(dir),
    figures,
  };
}
