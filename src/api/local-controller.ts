import * as fs from 'node:fs';
import { BenchError, HealthResponse, TaskSummary, isFinalStatus } from '../contract';
import { ControllerClient } from './client';
import { DEFAULT_ENDPOINT, readConfig } from './config';
import { LocalPaths, localPaths, readControllerCredentials } from './embedded';

/**
 * The local controller that eascmd started in the background (SPEC 2.1):
 * where it answers, its pid (`<data-dir>/controller.pid`, written by
 * eascmd-controller), its tasks, its log; and stopping it as SIGTERM does
 * (running rounds end and their reports are written).
 */

export interface LocalController {
  endpoint: string;
  paths: LocalPaths;
  /** The pid its data dir names, when the file is there. */
  pidFile?: number;
  /** What /healthz answered at the endpoint; undefined when nothing (or nothing of ours) answers. */
  health?: HealthResponse;
  /** The pid and version the answering controller proved to this data dir's key; undefined when it could not (another controller, or none). */
  info?: { Pid: number; Version: string };
}

/**
 * The endpoint of the local controller: `--endpoint`, else the config's when
 * it holds the local controller's key (the embedded flow wrote it), else
 * http://127.0.0.1:8020.
 */
export function localEndpoint(home: string, configPath: string, override?: string): string {
  if (override) return override;
  const key = readControllerCredentials(localPaths(home).credentialsFile);
  let config;
  try {
    config = readConfig(configPath);
  } catch {
    config = undefined;
  }
  return key && config?.accessId === key.id ? config.endpoint : DEFAULT_ENDPOINT;
}

function readPid(file: string): number | undefined {
  try {
    const pid = Number.parseInt(fs.readFileSync(file, 'utf8').trim(), 10);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists, owned by someone else
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export async function inspectLocalController(home: string, endpoint: string): Promise<LocalController> {
  const paths = localPaths(home);
  const probe = new ControllerClient({ endpoint, accessId: '-', accessKey: '-' });
  const health = await probe.healthInfo(1500);
  const key = health ? readControllerCredentials(paths.credentialsFile) : undefined;
  const info = key ? await new ControllerClient({ endpoint, accessId: key.id, accessKey: key.secret }).controllerInfo() : undefined;
  return { endpoint: probe.endpoint, paths, pidFile: readPid(paths.pidFile), health, info };
}

/** The tasks of the local controller that are not finished, read with the key of its data dir. */
export async function runningTasks(local: LocalController): Promise<TaskSummary[]> {
  const key = readControllerCredentials(local.paths.credentialsFile);
  if (!key) throw new BenchError('Unauthorized', `no credentials in ${local.paths.credentialsFile}`);
  const client = new ControllerClient({ endpoint: local.endpoint, accessId: key.id, accessKey: key.secret });
  return (await client.listTasks()).Tasks.filter((t) => !isFinalStatus(t.Status));
}

/**
 * The pid to signal: the one the answering controller proved to this data
 * dir's key (ControllerClient.controllerInfo), when it is the one of the
 * data dir's pid file, so that a stale pid file (its number reused by
 * another process) or a controller someone else started on the port is
 * never signalled.
 */
export function pidToStop(local: LocalController): number | undefined {
  if (!local.health) return undefined;
  if (local.pidFile === undefined || local.info?.Pid !== local.pidFile) {
    throw new BenchError(
      'InvalidParameter',
      `the controller at ${local.endpoint} (pid ${local.info?.Pid ?? 'unknown'}) was not started by eascmd from ${local.paths.dataDir}` +
        `${local.pidFile !== undefined ? ` (its pid file names ${local.pidFile})` : ''}; stop it where it was started`,
    );
  }
  return local.pidFile;
}

/** SIGTERM, then waits until the process is gone (its rounds end and their reports are written first). */
export async function stopProcess(pid: number, timeoutMs: number, pollMs = 200): Promise<void> {
  process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + timeoutMs;
  while (isAlive(pid)) {
    if (Date.now() >= deadline) {
      throw new BenchError('InternalError', `the local controller (pid ${pid}) is still stopping after ${Math.round(timeoutMs / 1000)} s; see its log`);
    }
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
}
