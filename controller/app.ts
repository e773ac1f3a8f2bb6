import * as http from 'node:http';
import * as path from 'node:path';
import type { AddressInfo } from 'node:net';
import express from 'express';
import type { Duplex } from 'node:stream';
import {
  AGENTS_API_PATH,
  API_PREFIX,
  AGENT_WS_PATH,
  BenchError,
  Clock,
  COMPARE_API_PATH,
  CONTROLLER_INFO_PATH,
  ControllerInfoResponse,
  controllerInfoProof,
  HealthResponse,
  HISTORY_API_PATH,
  isOwnOrigin,
  NONCE_HEADER,
  redactText,
  systemClock,
} from '../src/contract';
import { AgentHub } from './fleet/hub';
import { AgentLauncher } from './fleet/launcher';
import { createAgentLauncher } from './fleet/launchers';
import { PoolAgentLauncher } from './fleet/pool-launcher';
import { agentRoutes } from './api/agents-route';
import { ApiGate, bearerGate } from './api/auth';
import { limitConnectionsPerClient } from './api/connections';
import { assignRequestId, errorMiddleware, requestId } from './api/errors';
import { METRICS_PATH, PrometheusExport } from './api/prometheus';
import { reportFiles } from './api/report-files';
import { taskRoutes } from './api/routes';
import { exportRoutes } from './api/exports-routes';
import { StatsStreamServer } from './api/stats-stream';
import { ControllerOptions, defaultOptions } from './config';
import { loadCredentials, LoadedCredentials } from './credentials';
import { ServiceRegistry } from './services';
import { controllerVersion } from './version';
import { createReportStore, ReportStore } from './storage';
import { FileReportStore } from './storage/file-store';
import { TaskManager } from './tasks/manager';
import { RoundTiming } from './tasks/round-timing';
import { TaskStore } from './tasks/store';

export interface Controller {
  readonly url: string;
  readonly port: number;
  readonly credentials: LoadedCredentials;
  readonly manager: TaskManager;
  /** What `GET /metrics` serves (its registry names every exported metric). */
  readonly prometheus: PrometheusExport;
  /** Stops running tasks (writing their reports), ends every agent its launcher started, and closes every socket. */
  close(): Promise<void>;
}

export interface ControllerDeps {
  launcher?: AgentLauncher;
  reportStore?: ReportStore;
  log?: (line: string) => void;
  /** The clock of every round, of the tasks' time stamps, of the retention sweep and of what `GET /metrics` keeps (systemClock when absent). */
  clock?: Clock;
  /** The times a round waits, over `options.roundTiming` (ROUND_TIMING for what neither sets): a test that must not wait out a minute sets them. */
  roundTiming?: Partial<RoundTiming>;
}

const STREAM_PATH = new RegExp(`^${API_PREFIX}/([^/]+)/([^/]+)/stats/stream$`);
/** How often node looks for connections past headersTimeoutMs / requestTimeoutMs (its default is 30 s). */
const CONNECTIONS_CHECK_MS = 1000;

/**
 * Builds the controller from its options: stores, launcher, task manager,
 * the express API and the two websocket endpoints. The binary is a thin
 * shell around this; tests start it on port 0 with a temp data dir.
 */
export async function createController(partial: Partial<ControllerOptions>, deps: ControllerDeps = {}): Promise<Controller> {
  const options: ControllerOptions = { ...defaultOptions(), ...partial };
  const clock = deps.clock ?? systemClock;
  const rawLog = deps.log ?? ((line: string) => process.stderr.write(`${new Date().toISOString()} ${line}\n`));
  // every log line (the controller's and its agents') may quote a task's URL: masked here, once
  const log = (line: string): void => rawLog(redactText(line));
  const store = new TaskStore(options.dataDir);
  const credentials = loadCredentials(options.dataDir, options.credentialsFile);
  const services = ServiceRegistry.fromFile(options.servicesFile);
  let baseUrl = '';
  const publicUrl = (): string => options.publicUrl ?? baseUrl;
  const localReports = new FileReportStore(path.join(options.dataDir, 'reports'), publicUrl);
  const reports = deps.reportStore ?? createReportStore(options.reportStore, { dataDir: options.dataDir, publicUrl });
  const launcher = deps.launcher ?? createAgentLauncher(options, { log, credentials });
  const pool = launcher instanceof PoolAgentLauncher ? launcher : undefined;

  const manager = new TaskManager({
    store,
    reports,
    localReports: reports instanceof FileReportStore ? reports : localReports,
    services,
    launcher,
    region: options.region,
    maxAgents: options.maxAgents,
    maxAgentQps: options.maxAgentQps,
    maxRunningTasks: options.maxRunningTasks,
    maxAgentsTotal: options.maxAgentsTotal,
    maxCreatesPerMinute: options.maxCreatesPerMinute,
    agentConnectTimeoutS: options.agentConnectTimeoutS,
    dataLimits: options.dataLimits,
    dataPolicy: {
      roots: options.dataRoots.map((r) => path.resolve(r)),
      excluded: [options.dataDir, credentials.file],
      allowPrivate: options.allowPrivateData,
    },
    controllerWsUrl: () => `${baseUrl.replace(/^http/, 'ws')}${AGENT_WS_PATH}`,
    retentionStoppedS: options.retentionStoppedS,
    retentionFailedS: options.retentionFailedS,
    log,
    clock,
    roundTiming: { ...options.roundTiming, ...deps.roundTiming },
  });
  manager.recover();
  const prometheus = new PrometheusExport(manager, options.metricsKeepS, clock);

  const app = express();
  app.disable('x-powered-by');
  app.use(assignRequestId);
  app.get('/healthz', (_req, res) => {
    // no pid or version to anyone who asks: those are for a key holder (CONTROLLER_INFO_PATH)
    const health: HealthResponse = { Status: 'ok', Region: options.region };
    res.json(health);
  });
  // read by a scraper every few seconds: the figures already computed, nothing more (docs/metrics.md)
  app.get(METRICS_PATH, bearerGate(options.metricsToken), (_req, res, next) => {
    prometheus.scrape().then((text) => res.type(prometheus.contentType).send(text), next);
  });
  // reports are meant to be opened in a browser from the URL `bench report` prints; the local
  // copy is served whatever the store, so a failed upload still leaves a working URL
  app.use('/reports', reportFiles(reports instanceof FileReportStore ? reports : localReports));
  const gate = new ApiGate(credentials.keys, { maxBodyBytes: options.maxBodyBytes, maxPendingBodyBytes: options.maxPendingBodyBytes, maxNonces: options.maxNonces });
  app.use(API_PREFIX, gate.middleware());
  app.use(AGENTS_API_PATH, gate.middleware());
  app.use(CONTROLLER_INFO_PATH, gate.middleware());
  app.get(CONTROLLER_INFO_PATH, (req, res) => {
    const version = controllerVersion();
    const secret = credentials.keys.get(String(res.locals.keyId)) ?? '';
    const proof = controllerInfoProof(secret, String(req.headers[NONCE_HEADER]), process.pid, version);
    const info: ControllerInfoResponse = { RequestId: requestId(res), Region: options.region, Version: version, Pid: process.pid, Proof: proof };
    res.json(info);
  });
  app.use(HISTORY_API_PATH, gate.middleware());
  app.use(COMPARE_API_PATH, gate.middleware());
  app.use(taskRoutes(manager, options.region));
  app.use(agentRoutes(manager, options.agentLauncher, pool));
  app.use(exportRoutes(manager, options.region));
  app.use((req, _res, next) => next(new BenchError('NotFound', `no route for ${req.method} ${req.path}`)));
  app.use(errorMiddleware(log));

  const server = http.createServer({
    headersTimeout: options.headersTimeoutMs,
    requestTimeout: options.requestTimeoutMs,
    connectionsCheckingInterval: CONNECTIONS_CHECK_MS,
  }, app);
  server.keepAliveTimeout = options.keepAliveTimeoutMs;
  server.maxConnections = options.maxConnections;
  limitConnectionsPerClient(server, options.maxConnectionsPerClient);
  const agentHub = new AgentHub((token) => manager.ownerForToken(token), log, pool);
  const statsStream = new StatsStreamServer(manager);
  const routeUpgrade = (req: http.IncomingMessage, socket: Duplex, head: Buffer): void => {
    // a browser page of another site must not reach the agents' seats or a task's stream
    if (!isOwnOrigin(req.headers.origin, req.headers.host)) return refuseUpgrade(socket, 403);
    const path = (req.url ?? '').split('?')[0];
    if (path === AGENT_WS_PATH) return agentHub.handleUpgrade(req, socket, head);
    const match = STREAM_PATH.exec(path);
    const taskName = match ? decodeSegment(match[2]) : undefined;
    if (!match || taskName === undefined) return refuseUpgrade(socket, 404);
    if (!gate.verifyUpgrade(req) || match[1] !== options.region || !manager.has(taskName)) return refuseUpgrade(socket, 401);
    statsStream.handleUpgrade(req, socket, head, taskName);
  };
  server.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    // node drops its own error handler from an upgraded socket; a reset must not become an uncaught error
    socket.on('error', () => undefined);
    try {
      routeUpgrade(req, socket, head);
    } catch (err) {
      log(`websocket upgrade of ${JSON.stringify((req.url ?? '').slice(0, 200))} failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
      refuseUpgrade(socket, 500);
    }
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  const host = options.host.includes(':') ? `[${options.host}]` : options.host;
  baseUrl = `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${address.port}`;
  const retention = clock.setInterval(() => manager.sweepRetention(), options.retentionCheckS * 1000);
  retention.unref();

  let closing: Promise<void> | undefined;
  return {
    url: baseUrl,
    port: address.port,
    credentials,
    manager,
    prometheus,
    close(): Promise<void> {
      closing ??= (async () => {
        clock.clearInterval(retention);
        await manager.shutdown();
        await launcher.shutdown();
        agentHub.close();
        statsStream.close();
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
      })();
      return closing;
    },
  };
}

const UPGRADE_STATUS: Record<number, string> = { 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 500: 'Internal Server Error' };

/** Answers an upgrade with an HTTP error and closes; nothing else happens for it. */
function refuseUpgrade(socket: Duplex, status: number): void {
  if (socket.destroyed) return;
  socket.end(`HTTP/1.1 ${status} ${UPGRADE_STATUS[status]}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
}

/** A path segment decoded, or undefined for a bad escape (decodeURIComponent throws on those). */
function decodeSegment(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}
