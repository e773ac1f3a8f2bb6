import * as diagnostics from 'node:diagnostics_channel';
import type { IncomingMessage, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { Controller, ControllerDeps, createController } from '../../controller/app';
import { AgentLauncher } from '../../controller/fleet/launcher';
import { detailView, listView } from '../../controller/api/views';
import { ControllerOptions } from '../../controller/config';
import { API_PREFIX, TaskDetail, TaskStatus } from '../../src/contract';
import { signedFetch } from './api';
import { ROOT, tempDir, waitFor } from './processes';

/**
 * The real controller built in-process (controller/app.ts) on port 0 with a
 * temp data dir: what the CLI and API-client tests talk to.
 */

/** The agent entry point of the build: in-process controllers (under ts-jest) start real agents from it. */
export const AGENT_MAIN = path.join(ROOT, 'dist', 'agent', 'main.js');

/** Agents that never connect: a task stays Creating (with 0 agents) until it is stopped or deleted. */
export const idleLauncher: AgentLauncher = {
  capacity: Number.POSITIVE_INFINITY,
  launch: (spec) => ({ agentId: spec.agentId, kill: () => undefined }),
  shutdown: () => Promise.resolve(),
};

export interface InProcessController {
  controller: Controller;
  url: string;
  dataDir: string;
  accessId: string;
  secret: string;
  region: string;
  /** A signed API call (the test's own view of the controller, beside the CLI's). */
  call(method: string, pathWithQuery: string, body?: string): ReturnType<typeof signedFetch>;
  close(): Promise<void>;
}

/** Starts the controller; real agents from dist/ unless `deps.launcher` says otherwise. Its log is dropped unless `deps.log` keeps it. */
export async function startInProcessController(options: Partial<ControllerOptions> = {}, deps: ControllerDeps = {}): Promise<InProcessController> {
  const dataDir = options.dataDir ?? tempDir('controller');
  const controller = await createController(
    { port: 0, agentCommand: [process.execPath, AGENT_MAIN], retentionCheckS: 3600, allowPrivateData: true, ...options, dataDir },
    { log: () => undefined, ...deps },
  );
  const [[accessId, secret]] = [...controller.credentials.keys.entries()];
  return {
    controller,
    url: controller.url,
    dataDir,
    accessId,
    secret,
    region: options.region ?? 'cn-local',
    call: (method, p, body) => signedFetch(controller.url, accessId, secret, method, p, body),
    close: () => controller.close(),
  };
}

/**
 * One in-process controller for a describe block: started before its tests,
 * closed (tasks stopped, agents ended) after them. Read it through the
 * returned function once the block's beforeAll has run.
 */
export function useInProcessController(options: Partial<ControllerOptions> = {}, deps: ControllerDeps = {}): () => InProcessController {
  let started: InProcessController | undefined;
  beforeAll(async () => {
    started = await startInProcessController(options, deps);
  });
  afterAll(async () => {
    await started?.close();
  });
  return () => {
    if (!started) throw new Error('the controller is used before its beforeAll ran');
    return started;
  };
}

/** `METHOD /path?query` as the server received it (the path still encoded). */
export interface ReceivedRequest {
  method: string;
  path: string;
}

/**
 * Every request that reaches the in-process server on `port`, in order, seen
 * through node's `http.server.request.start` channel: what a command sent,
 * without a stand-in in front of the server. `stop()` unsubscribes.
 */
export function recordRequests(port: number): { requests: ReceivedRequest[]; stop(): void } {
  const requests: ReceivedRequest[] = [];
  const listener = (message: unknown): void => {
    const { request, server } = message as { request: IncomingMessage; server: Server };
    if ((server.address() as AddressInfo | null)?.port === port) requests.push({ method: request.method ?? '', path: request.url ?? '' });
  };
  diagnostics.subscribe('http.server.request.start', listener);
  return { requests, stop: () => diagnostics.unsubscribe('http.server.request.start', listener) };
}

/** POST a task through the API; its TaskName. */
export async function createTask(c: InProcessController, task: unknown): Promise<string> {
  const res = await c.call('POST', API_PREFIX, JSON.stringify(task));
  if (res.status !== 200) throw new Error(`create refused (${res.status}): ${JSON.stringify(res.json)}`);
  return String(res.json.TaskName);
}

/** Waits until the task's Status is one of `statuses` (read from the manager: no request the test would see); its detail. */
export function waitForStatus(c: InProcessController, name: string, statuses: readonly TaskStatus[], timeoutMs = 30000): Promise<TaskDetail> {
  return waitFor(`${name} to be ${statuses.join(' or ')}`, () => {
    const task = detailView(c.controller.manager, name);
    return statuses.includes(task.Status) ? task : undefined;
  }, timeoutMs, 20);
}

/** Deletes every task (its agents end with it) and waits until they are gone. */
export async function deleteAllTasks(c: InProcessController): Promise<void> {
  const names = listView(c.controller.manager).map((t) => t.TaskName);
  for (const name of names) await c.controller.manager.delete(name);
  await waitFor('every task deleted', () => listView(c.controller.manager).length === 0, 30000, 20);
}
