import * as os from 'node:os';
import * as path from 'node:path';
import { DataLimits, DEFAULT_DATA_LIMITS } from './data/limits';

/**
 * How a target rate is split over agents. One agent sends at most
 * `maxAgentQps` (the controller's --max-agent-qps): above it, its own send
 * lag, not the service, would set the latency. 40 000 QPS is what one agent
 * sent with send-lag p99 under 2 ms in the measurements of
 * docs/performance.md (on 16 cores, and on 2 cores shared with the service,
 * where two agents of 20 000 did worse than one of 40 000); a busier or
 * slower machine wants less.
 */
export const DEFAULT_MAX_AGENT_QPS = 40_000;

/**
 * Where a round's agents run: `local` child processes of the controller,
 * `pool` agents on other hosts that joined and wait for work, or
 * `kubernetes` Jobs. docs/distributed.md compares them.
 */
export const AGENT_LAUNCHER_KINDS = ['local', 'pool', 'kubernetes'] as const;
export type AgentLauncherKind = (typeof AGENT_LAUNCHER_KINDS)[number];

export function isAgentLauncherKind(value: unknown): value is AgentLauncherKind {
  return typeof value === 'string' && (AGENT_LAUNCHER_KINDS as readonly string[]).includes(value);
}

/** The `kubernetes` launcher's settings (`--kube-*`, `--agent-image`, `--agent-*-request|limit`); docs/distributed.md. */
export interface KubernetesOptions {
  /** Namespace of the agents' Jobs; the controller pod's own namespace when absent. */
  namespace?: string;
  /** The image holding eascmd-agent (the project's Dockerfile); required with this launcher. */
  agentImage?: string;
  /** A kubeconfig file; the pod's service account (in-cluster config) when absent. */
  kubeConfig?: string;
  /** The ws URL agents dial, e.g. ws://eas-bench-controller.NS.svc:8020/agents; the listening address when absent. */
  agentsUrl?: string;
  /** Names this controller in its Jobs' labels, so controllers sharing a namespace keep apart. */
  controllerName: string;
  /** Each agent container's requests and limits, e.g. { cpu: '1', memory: '512Mi' }. */
  agentRequests: Record<string, string>;
  agentLimits: Record<string, string>;
  /** A Job left behind (the controller died) is removed by the cluster this long after it finished. */
  jobTtlS: number;
  imagePullSecret?: string;
}

/**
 * The times a round waits, as options, so that a test can shorten them: in
 * process (`ControllerDeps.roundTiming`, `RoundDeps.timing`) or for a
 * controller process (`--round-*` flags). Their defaults are ROUND_TIMING
 * (controller/tasks/round-timing.ts).
 */
export interface RoundTiming {
  /** Seconds a second waits for late agents before it is finalized without them. */
  finalizeGraceS: number;
  /** After a stop, agents get this long to send their last frame and `done`. */
  stopWaitMs: number;
  /**
   * Agents end their schedule at the round's duration by themselves and say
   * `done`; the round stops once all have, or this long after the duration
   * (agents that do not end by themselves are then stopped as before).
   */
  durationEndGraceS: number;
  /** A lost agent's replacement is launched this long after the loss. */
  replaceDelayMs: number;
  /** LLM runs longer than this get a drift section. */
  driftMinRunS: number;
}

/** How long a finished round stays in `GET /metrics` by default (SPEC 8: at least 10 minutes). */
export const DEFAULT_METRICS_KEEP_S = 600;

/** Everything the controller is built from; flags and env vars map onto it in main.ts. */
export interface ControllerOptions {
  host: string;
  /** 0 picks a free port. */
  port: number;
  dataDir: string;
  region: string;
  /** Path of the service registry JSON, if any. */
  servicesFile?: string;
  /** Report store URL: file://DIR (default <dataDir>/reports), s3://..., oss://... */
  reportStore?: string;
  /** Most agents one task may run. */
  maxAgents: number;
  /** Most QPS one agent's share of an open-loop rate may be: scan and auto add agents beyond it (docs/performance.md). */
  maxAgentQps: number;
  credentialsFile?: string;
  retentionStoppedS: number;
  retentionFailedS: number;
  retentionCheckS: number;
  /** Which launcher runs the agents (`--agent-launcher`, EAS_BENCH_AGENT_LAUNCHER). */
  agentLauncher: AgentLauncherKind;
  kubernetes: KubernetesOptions;
  /** Seconds between pings of an idle pool agent's link (`--agent-launcher pool`); a missed answer drops it. */
  poolHeartbeatS: number;
  /** How agents are started: a command line whose last arguments the launcher appends. */
  agentCommand: string[];
  /** Seconds to wait for the agents of a new round to connect. */
  agentConnectTimeoutS: number;
  /** Public base URL used in report links (defaults to the listening address). */
  publicUrl?: string;
  /** What a task's data sources may weigh (downloads, unpacked archives, entries). */
  dataLimits: DataLimits;
  /** Folders local data paths may be read under (never the data dir or the credentials file); none: no local paths. */
  dataRoots: string[];
  /** Whether http(s) data sources may reach private, loopback and link-local addresses. */
  allowPrivateData: boolean;
  /** Largest API request body; only a request whose auth headers pass gets this far. */
  maxBodyBytes: number;
  /** Most body bytes held at once by requests not verified yet (their HMAC needs the whole body). */
  maxPendingBodyBytes: number;
  /** Most signed requests remembered for replay checks within the clock-skew window. */
  maxNonces: number;
  /** Most tasks running (not in a final status) at once. */
  maxRunningTasks: number;
  /** Most agents across all running tasks. */
  maxAgentsTotal: number;
  /** Most tasks one API key may create in a minute (a failed one is kept for its retention too). */
  maxCreatesPerMinute: number;
  /** Most open connections from one remote address; more are closed at once. */
  maxConnectionsPerClient: number;
  /** Most open connections in all. */
  maxConnections: number;
  /** How long a client may take to send a request's headers, its whole request, and stay idle between requests. */
  headersTimeoutMs: number;
  requestTimeoutMs: number;
  keepAliveTimeoutMs: number;
  /** `GET /metrics` asks for `Authorization: Bearer <this>` when set; open when absent. */
  metricsToken?: string;
  /** Seconds a finished round stays in `GET /metrics` (SPEC 8: at least 600 by default). */
  metricsKeepS: number;
  /** The round's waits this controller changes (a test's; none by default: ROUND_TIMING). */
  roundTiming: Partial<RoundTiming>;
}

export function defaultAgentCommand(): string[] {
  return [process.execPath, path.join(__dirname, '..', 'agent', 'main.js')];
}

export function defaultOptions(): ControllerOptions {
  return {
    host: '127.0.0.1',
    port: 8020,
    dataDir: path.join(os.homedir(), '.eas', 'controller'),
    region: 'cn-local',
    maxAgents: 16,
    maxAgentQps: DEFAULT_MAX_AGENT_QPS,
    retentionStoppedS: 48 * 3600,
    retentionFailedS: 10 * 60,
    retentionCheckS: 30,
    agentLauncher: 'local',
    poolHeartbeatS: 10,
    // a modest agent: one core sends tens of thousands of small requests a second
    kubernetes: { controllerName: 'eas-bench', agentRequests: { cpu: '500m', memory: '256Mi' }, agentLimits: { cpu: '1', memory: '1Gi' }, jobTtlS: 600 },
    agentCommand: defaultAgentCommand(),
    agentConnectTimeoutS: 30,
    dataLimits: DEFAULT_DATA_LIMITS,
    dataRoots: [],
    allowPrivateData: false,
    maxBodyBytes: 80 * 1024 * 1024,
    maxPendingBodyBytes: 4 * 80 * 1024 * 1024,
    maxNonces: 100_000,
    maxRunningTasks: 8,
    maxAgentsTotal: 64,
    maxCreatesPerMinute: 60,
    // agents on this host connect from loopback too: room for --max-agents-total of them, streams and the CLI
    maxConnectionsPerClient: 256,
    maxConnections: 1024,
    headersTimeoutMs: 10_000,
    // an 80 MB body needs about 1.4 MB/s to arrive in time
    requestTimeoutMs: 60_000,
    keepAliveTimeoutMs: 5_000,
    metricsKeepS: DEFAULT_METRICS_KEEP_S,
    roundTiming: {},
  };
}
