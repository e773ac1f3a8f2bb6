import * as os from 'node:os';
import * as path from 'node:path';
import { DataLimits, DEFAULT_DATA_LIMITS } from './data/limits';

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
  credentialsFile?: string;
  retentionStoppedS: number;
  retentionFailedS: number;
  retentionCheckS: number;
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
}

export function defaultAgentCommand(): string[] {
  return [process.execPath, path.join(__dirname, 'agent', 'main.js')];
}

export function defaultOptions(): ControllerOptions {
  return {
    host: '127.0.0.1',
    port: 8020,
    dataDir: path.join(os.homedir(), '.eas', 'controller'),
    region: 'cn-local',
    maxAgents: 16,
    retentionStoppedS: 48 * 3600,
    retentionFailedS: 10 * 60,
    retentionCheckS: 30,
    agentCommand: defaultAgentCommand(),
    agentConnectTimeoutS: 30,
    dataLimits: DEFAULT_DATA_LIMITS,
    dataRoots: [],
    allowPrivateData: false,
  };
}
