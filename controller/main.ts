import * as fs from 'node:fs';
import * as path from 'node:path';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { createController } from './app';
import { BenchError } from '../src/contract';
import { AGENT_LAUNCHER_KINDS, defaultOptions, isAgentLauncherKind, RoundTiming } from './config';
import { writeFileAtomic } from './storage/no-follow';

/** Resource quantities given (an empty flag drops one). */
function quantities(values: Record<string, string | undefined>): Record<string, string> {
  return Object.fromEntries(Object.entries(values).filter((e): e is [string, string] => Boolean(e[1])));
}

/**
 * The round's waits a test shortens (docs/controller.md), by flag. Absent, each
 * keeps the controller's default (ROUND_TIMING).
 */
const ROUND_TIMING_FLAGS = {
  'round-finalize-grace-s': 'finalizeGraceS',
  'round-stop-wait-ms': 'stopWaitMs',
  'round-duration-end-grace-s': 'durationEndGraceS',
  'round-replace-delay-ms': 'replaceDelayMs',
  'round-drift-min-run-s': 'driftMinRunS',
} as const satisfies Record<string, keyof RoundTiming>;
type RoundTimingFlag = keyof typeof ROUND_TIMING_FLAGS;

/** The waits given; a negative or non-numeric one is refused by its flag's name. */
function roundTimingOf(argv: Partial<Record<RoundTimingFlag, number>>): Partial<RoundTiming> {
  const timing: Partial<RoundTiming> = {};
  for (const [flag, key] of Object.entries(ROUND_TIMING_FLAGS) as [RoundTimingFlag, keyof RoundTiming][]) {
    const value = argv[flag];
    if (value === undefined) continue;
    if (!Number.isFinite(value) || value < 0) throw new BenchError('InvalidParameter', `--${flag} must be a number >= 0, not ${String(value)}`, { field: flag });
    timing[key] = value;
  }
  return timing;
}

/** `eascmd-controller`: flags, each with an EAS_BENCH_* env form (EAS_BENCH_PORT, ...). */
async function main(): Promise<void> {
  const defaults = defaultOptions();
  const argv = await yargs(hideBin(process.argv))
    .scriptName('eascmd-controller')
    .env('EAS_BENCH')
    .option('host', { type: 'string', default: defaults.host, describe: 'address to bind (127.0.0.1 unless told otherwise)' })
    .option('port', { type: 'number', default: defaults.port, describe: 'port (0 picks a free one)' })
    .option('data-dir', { type: 'string', default: defaults.dataDir, describe: 'where tasks, credentials and local reports live' })
    .option('region', { type: 'string', default: defaults.region })
    .option('services', { type: 'string', describe: 'service registry JSON: {"services":[{"name","url","token"}]}' })
    .option('report-store', { type: 'string', describe: 'file://DIR, s3://BUCKET/PREFIX?endpoint=..., oss://BUCKET/PREFIX?endpoint=...' })
    .option('max-agents', { type: 'number', default: defaults.maxAgents, describe: 'most agents one task may run' })
    .option('max-agent-qps', { type: 'number', default: defaults.maxAgentQps, describe: "most QPS of one agent's share of an open-loop rate; scan and auto add agents beyond it" })
    .option('credentials', { type: 'string', describe: 'JSON {"keys":[{"id","secret"}]}; default <data-dir>/credentials.json, generated on first start' })
    .option('retention-stopped-s', { type: 'number', default: defaults.retentionStoppedS })
    .option('retention-failed-s', { type: 'number', default: defaults.retentionFailedS })
    .option('retention-check-s', { type: 'number', default: defaults.retentionCheckS })
    .option('agent-launcher', {
      type: 'string',
      choices: AGENT_LAUNCHER_KINDS,
      default: defaults.agentLauncher,
      describe: 'where agents run: local child processes, pool agents that joined from other hosts, or Kubernetes Jobs (docs/distributed.md)',
    })
    .option('kube-namespace', { type: 'string', describe: 'kubernetes launcher: namespace of the agent Jobs (default: the controller pod\'s own)' })
    .option('agent-image', { type: 'string', describe: 'kubernetes launcher: image holding eascmd-agent' })
    .option('kube-config', { type: 'string', describe: 'kubernetes launcher: kubeconfig file (default: in-cluster service account)' })
    .option('agents-url', { type: 'string', describe: 'kubernetes launcher: ws URL the agent pods dial, e.g. ws://eas-bench-controller:8020/agents' })
    .option('kube-controller-name', { type: 'string', default: defaults.kubernetes.controllerName, describe: 'kubernetes launcher: names this controller in its Jobs\' labels' })
    .option('agent-cpu-request', { type: 'string', default: defaults.kubernetes.agentRequests.cpu })
    .option('agent-memory-request', { type: 'string', default: defaults.kubernetes.agentRequests.memory })
    .option('agent-cpu-limit', { type: 'string', default: defaults.kubernetes.agentLimits.cpu, describe: 'empty: no limit' })
    .option('agent-memory-limit', { type: 'string', default: defaults.kubernetes.agentLimits.memory, describe: 'empty: no limit' })
    .option('kube-job-ttl-s', { type: 'number', default: defaults.kubernetes.jobTtlS, describe: 'kubernetes launcher: ttlSecondsAfterFinished of agent Jobs' })
    .option('agent-image-pull-secret', { type: 'string' })
    .option('pool-heartbeat-s', { type: 'number', default: defaults.poolHeartbeatS, describe: 'pool agents: seconds between pings of their links; a link that misses an answer is dropped and its seat replaced' })
    .option('agent-connect-timeout-s', { type: 'number', default: defaults.agentConnectTimeoutS })
    .option('public-url', { type: 'string', describe: 'base URL used in links to local reports' })
    .option('data-max-source-bytes', { type: 'number', default: defaults.dataLimits.maxSourceBytes, describe: 'largest data source as fetched (a zip counts packed)' })
    .option('data-max-total-bytes', { type: 'number', default: defaults.dataLimits.maxTotalBytes, describe: 'all data entries together, after unpacking (zip bombs stop here)' })
    .option('data-max-entries', { type: 'number', default: defaults.dataLimits.maxEntries, describe: 'most data entries (requests) a task may have' })
    .option('s3-endpoint', { type: 'string', describe: 'endpoint of s3:// data sources, e.g. MinIO at http://127.0.0.1:9000' })
    .option('oss-endpoint', { type: 'string', describe: 'endpoint of oss:// data sources, e.g. oss-cn-chengdu.aliyuncs.com' })
    .option('data-fetch-timeout-ms', { type: 'number', default: defaults.dataLimits.fetchTimeoutMs, describe: 'how long a remote data source may take' })
    .option('data-root', {
      type: 'string',
      array: true,
      default: [] as string[],
      describe: `folder local data paths may be read under (repeatable; also a ${path.delimiter}-separated list); none: local paths are refused`,
    })
    .option('allow-private-data', { type: 'boolean', default: defaults.allowPrivateData, describe: 'let http(s) data sources reach private, loopback and link-local addresses' })
    .option('max-body-bytes', { type: 'number', default: defaults.maxBodyBytes, describe: 'largest API request body (a larger one gets 413)' })
    .option('max-pending-body-bytes', { type: 'number', default: defaults.maxPendingBodyBytes, describe: 'most body bytes held at once by requests whose signature is not checked yet; more get 429 TooManyRequests' })
    .option('max-running-tasks', { type: 'number', default: defaults.maxRunningTasks, describe: 'most tasks running at once; create/start beyond it get 429 TooManyTasks' })
    .option('max-agents-total', { type: 'number', default: defaults.maxAgentsTotal, describe: 'most agents across all running tasks; a task that does not fit gets 429 TooManyAgents' })
    .option('max-creates-per-minute', { type: 'number', default: defaults.maxCreatesPerMinute, describe: 'most tasks one API key may create in a minute, whatever becomes of them; more get 429 TooManyCreates' })
    .option('max-connections-per-client', { type: 'number', default: defaults.maxConnectionsPerClient, describe: 'most open connections from one IP address (agents on this host count); more are closed at once' })
    .option('max-connections', { type: 'number', default: defaults.maxConnections, describe: 'most open connections in all' })
    .option('headers-timeout-ms', { type: 'number', default: defaults.headersTimeoutMs, describe: 'time a client has to send the request headers' })
    .option('request-timeout-ms', { type: 'number', default: defaults.requestTimeoutMs, describe: 'time a client has to send a whole request (websockets are not affected once open)' })
    .option('keep-alive-timeout-ms', { type: 'number', default: defaults.keepAliveTimeoutMs, describe: 'how long an idle keep-alive connection stays open' })
    .option('metrics-token', { type: 'string', describe: 'GET /metrics asks for Authorization: Bearer <token> (prefer the env form EAS_BENCH_METRICS_TOKEN: a flag shows in ps); open without it' })
    .option('metrics-keep-s', { type: 'number', default: defaults.metricsKeepS, describe: 'seconds a finished round stays in GET /metrics' })
    .option('round-finalize-grace-s', { type: 'number', describe: 'tests: seconds a second waits for late agents before it is finalized (default 2)' })
    .option('round-stop-wait-ms', { type: 'number', describe: "tests: how long a stopped round waits for its agents' last frame and done (default 6000)" })
    .option('round-duration-end-grace-s', { type: 'number', describe: 'tests: seconds past the duration before agents that did not end are stopped (default 2)' })
    .option('round-replace-delay-ms', { type: 'number', describe: "tests: how long after a lost agent its replacement is launched (default 500)" })
    .option('round-drift-min-run-s', { type: 'number', describe: 'tests: LLM runs longer than this get a drift section (default 60)' })
    .strict()
    .help()
    .parse();

  // the data readers take their endpoints from the environment, like their credentials
  if (argv['s3-endpoint']) process.env.EAS_BENCH_S3_ENDPOINT = argv['s3-endpoint'];
  if (argv['oss-endpoint']) process.env.EAS_BENCH_OSS_ENDPOINT = argv['oss-endpoint'];
  const controller = await createController({
    host: argv.host,
    port: argv.port,
    dataDir: argv['data-dir'],
    region: argv.region,
    servicesFile: argv.services,
    reportStore: argv['report-store'],
    maxAgents: argv['max-agents'],
    maxAgentQps: argv['max-agent-qps'],
    credentialsFile: argv.credentials,
    retentionStoppedS: argv['retention-stopped-s'],
    retentionFailedS: argv['retention-failed-s'],
    retentionCheckS: argv['retention-check-s'],
    agentConnectTimeoutS: argv['agent-connect-timeout-s'],
    poolHeartbeatS: argv['pool-heartbeat-s'],
    // yargs has checked it against the choices; the guard narrows the type
    agentLauncher: isAgentLauncherKind(argv['agent-launcher']) ? argv['agent-launcher'] : defaults.agentLauncher,
    kubernetes: {
      namespace: argv['kube-namespace'],
      agentImage: argv['agent-image'],
      kubeConfig: argv['kube-config'],
      agentsUrl: argv['agents-url'],
      controllerName: argv['kube-controller-name'],
      agentRequests: quantities({ cpu: argv['agent-cpu-request'], memory: argv['agent-memory-request'] }),
      agentLimits: quantities({ cpu: argv['agent-cpu-limit'], memory: argv['agent-memory-limit'] }),
      jobTtlS: argv['kube-job-ttl-s'],
      imagePullSecret: argv['agent-image-pull-secret'],
    },
    publicUrl: argv['public-url'],
    dataLimits: {
      maxSourceBytes: argv['data-max-source-bytes'],
      maxTotalBytes: argv['data-max-total-bytes'],
      maxEntries: argv['data-max-entries'],
      fetchTimeoutMs: argv['data-fetch-timeout-ms'],
    },
    // the env form holds one list, like PATH
    dataRoots: argv['data-root'].flatMap((r) => r.split(path.delimiter)).filter((r) => r !== '').map((r) => path.resolve(r)),
    allowPrivateData: argv['allow-private-data'],
    maxBodyBytes: argv['max-body-bytes'],
    maxPendingBodyBytes: argv['max-pending-body-bytes'],
    maxRunningTasks: argv['max-running-tasks'],
    maxAgentsTotal: argv['max-agents-total'],
    maxCreatesPerMinute: argv['max-creates-per-minute'],
    maxConnectionsPerClient: argv['max-connections-per-client'],
    maxConnections: argv['max-connections'],
    headersTimeoutMs: argv['headers-timeout-ms'],
    requestTimeoutMs: argv['request-timeout-ms'],
    keepAliveTimeoutMs: argv['keep-alive-timeout-ms'],
    // an empty token (EAS_BENCH_METRICS_TOKEN= ) leaves the endpoint open, as no token does
    metricsToken: argv['metrics-token'] || undefined,
    metricsKeepS: argv['metrics-keep-s'],
    roundTiming: roundTimingOf(argv),
  });
  if (controller.credentials.created) {
    // the secret stays in the file; only its id and place are printed
    process.stdout.write(`Created credentials ${controller.credentials.file} (AccessKeyId ${controller.credentials.created.id})\n`);
  }
  // lets a user (and the demo) stop a controller that eascmd started in the background
  const pidFile = path.join(argv['data-dir'], 'controller.pid');
  // replaced, not written through: a link planted there is not followed
  writeFileAtomic(pidFile, `${process.pid}\n`);
  process.stdout.write(`eascmd-controller listening on ${controller.url} (region ${argv.region}, data dir ${argv['data-dir']})\n`);

  let stopping = false;
  const shutdown = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    process.stdout.write(`${signal}: stopping running tasks and writing their reports\n`);
    controller.close().then(
      () => {
        fs.rmSync(pidFile, { force: true });
        process.exit(0);
      },
      (err: Error) => {
        process.stderr.write(`shutdown failed: ${err.message}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

main().catch((err: Error) => {
  process.stderr.write(`eascmd-controller: ${err.message}\n`);
  process.exit(1);
});
