import * as fs from 'node:fs';
import * as path from 'node:path';
import { signedFetch } from './api';
import { ControllerProcess, FixtureProcess, startController, startFixture, waitFor } from './processes';

/** What the reliability tests (reliability*.test.ts) share: a task's detail and series through the API, and a fixture with a controller of the test's own. */

export interface Detail {
  TaskName: string;
  Status: string;
  Message: string;
  AvailableAgent: number;
  Events: { Kind: string; Message: string; Time: string }[];
  Result?: { TotalRequests: number; StatusCodes: Record<string, number> };
}

export interface Series {
  Status: string;
  Series: { Time: number; Requests: number }[];
}

export const get = async (c: ControllerProcess, p: string) => (await signedFetch(c.url, c.accessId, c.secret, 'GET', p)).json;
export const detail = async (c: ControllerProcess, name: string) => (await get(c, `/api/v2/benchmark-tasks/cn-local/${name}`)) as unknown as Detail;

/** Creates the task through the API and waits until it is Running; its name. */
export const createTask = async (c: ControllerProcess, task: unknown): Promise<string> => {
  const res = await signedFetch(c.url, c.accessId, c.secret, 'POST', '/api/v2/benchmark-tasks', JSON.stringify(task));
  expect(res.status).toBe(200);
  const name = res.json.TaskName as string;
  await waitFor('Running', async () => (await detail(c, name)).Status === 'Running');
  return name;
};

/** A fixture (answering after `latencyMs`) and a controller of the test's own, both stopped after it. */
export async function withFixtureAndController(latencyMs: number, run: (fixture: FixtureProcess, controller: ControllerProcess) => Promise<void>): Promise<void> {
  const fixture = await startFixture(['--latency-ms', String(latencyMs)]);
  const controller = await startController();
  try {
    await run(fixture, controller);
  } finally {
    await controller.stop();
    await fixture.stop();
  }
}

/** The HTML reports of round 10001 in the local store (their names end in a random part). */
export function reportFiles(dataDir: string, name: string): string[] {
  const dir = path.join(dataDir, 'reports', 'summary');
  return fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.startsWith(`${name}-10001-`) && f.endsWith('.html')) : [];
}
