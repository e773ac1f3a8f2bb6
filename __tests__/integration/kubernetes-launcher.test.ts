import net, { AddressInfo } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';
import { ClientNodeCluster } from '../../controller/fleet/kubernetes/cluster';
import { KubernetesAgentLauncher } from '../../controller/fleet/kubernetes/launcher';
import { AgentJobSettings, LABELS, POD_NAME_ENV, renderAgentJob, renderRoundSecret, TOKEN_KEY } from '../../controller/fleet/kubernetes/manifests';
import { AGENT_TOKEN_ENV } from '../../src/contract';
import { AGENT_MAIN, InProcessController, startInProcessController } from '../helpers/controller';
import { FakeKubeApi, startFakeKubeApi } from '../helpers/fake-kube-api';
import { FixtureProcess, killAllStarted, startFixture, waitFor } from '../helpers/processes';

/**
 * The Kubernetes launcher against an in-process fake API server whose
 * kubelet really runs eascmd-agent for each pod (see fake-kube-api.ts); the
 * launcher speaks to it through @kubernetes/client-node as to a cluster.
 */

const NAMESPACE = 'bench';

interface Detail {
  TaskName: string;
  Status: string;
  Message: string;
  AvailableAgent: number;
  DesiredAgent: number;
  Events: { Kind: string; Message: string }[];
  Result?: { TotalRequests: number };
}

function kubeConfigFor(server: string): KubeConfig {
  const config = new KubeConfig();
  config.loadFromOptions({
    clusters: [{ name: 'fake', server, skipTLSVerify: true }],
    users: [{ name: 'controller', token: 'service-account-token' }],
    contexts: [{ name: 'fake', cluster: 'fake', user: 'controller', namespace: NAMESPACE }],
    currentContext: 'fake',
  });
  return config;
}

function settings(overrides: Partial<AgentJobSettings> = {}): AgentJobSettings {
  return { namespace: NAMESPACE, image: 'eas-bench:test', controllerName: 'test-controller', requests: { cpu: '100m', memory: '128Mi' }, limits: { memory: '512Mi' }, ttlSecondsAfterFinished: 600, ...overrides };
}

async function startLauncher(fake: FakeKubeApi, overrides: Partial<AgentJobSettings> = {}): Promise<{ launcher: KubernetesAgentLauncher; removedJobs: string[] }> {
  const launcher = new KubernetesAgentLauncher({ cluster: new ClientNodeCluster(kubeConfigFor(fake.url), NAMESPACE), settings: settings(overrides) });
  const { removedJobs } = await launcher.start();
  return { launcher, removedJobs };
}

describe('the Kubernetes agent launcher against a fake API server that runs real agents', () => {
  let fake: FakeKubeApi;
  let fixture: FixtureProcess;
  let launcher: KubernetesAgentLauncher;
  let controller: InProcessController;

  beforeAll(async () => {
    fake = await startFakeKubeApi(NAMESPACE, { binaries: { 'eascmd-agent': [process.execPath, AGENT_MAIN] }, unpullableImages: ['registry.invalid/eas-bench:none'], failedPodBackoffMs: 1000 });
    fixture = await startFixture(['--latency-ms', '2']);
    ({ launcher } = await startLauncher(fake));
    controller = await startInProcessController({}, { launcher });
  });
  afterAll(async () => {
    await controller?.close();
    await fake?.close();
    await fixture?.stop();
    killAllStarted();
  });
  // a test that fails midway must not leave its task's Job and pods to the next one
  afterEach(async () => {
    const tasks = ((await controller.call('GET', '/api/v2/benchmark-tasks')).json.Tasks ?? []) as { TaskName: string }[];
    for (const task of tasks) await controller.call('DELETE', `/api/v2/benchmark-tasks/cn-local/${task.TaskName}`);
    await waitFor('no Job, Secret or pod left', () => fake.empty(), 15000);
  });

  const detail = async (name: string): Promise<Detail> => (await controller.call('GET', `/api/v2/benchmark-tasks/cn-local/${name}`)).json as unknown as Detail;
  const create = async (task: unknown): Promise<string> => {
    const res = await controller.call('POST', '/api/v2/benchmark-tasks', JSON.stringify(task));
    expect(res.status).toBe(200);
    return res.json.TaskName as string;
  };
  const onlyJob = () => {
    expect(fake.jobs.size).toBe(1);
    return [...fake.jobs.values()][0];
  };

  test('a round runs as a Job to its end: the target counts what the task reports, and the Job, its pods and Secret are deleted', async () => {
    await fixture.reset();
    const name = await create({ service: { serviceName: 'demo', url: `${fixture.url}/api/predict/demo` }, optional: { mode: 'manual', agentCount: 2, concurrency: 2, duration: 5 } });
    await waitFor('the Job', () => fake.jobs.size === 1, 15000);
    expect(onlyJob().spec?.parallelism).toBe(2);
    const stopped = await waitFor('Stopped', async () => {
      const d = await detail(name);
      return d.Status === 'Stopped' ? d : undefined;
    }, 60000);
    expect(stopped.Message).toContain('duration of 5 s reached');
    expect(stopped.Result?.TotalRequests).toBeGreaterThan(0);
    expect(stopped.Result?.TotalRequests).toBe((await fixture.stats()).requests);
    await waitFor('Job, Secret and pods deleted', () => fake.empty(), 15000);
    expect(fake.calls).toEqual(expect.arrayContaining([`delete jobs/eas-agents-${name}-10001`, `delete secrets/eas-agents-${name}-10001`]));
  }, 90000);

  test('a round runs as a Job end to end: a killed pod is replaced, parallelism follows update, the Job and Secret are deleted at the end', async () => {
    await fixture.reset();
    const name = await create({ service: { serviceName: 'demo', url: `${fixture.url}/api/predict/demo` }, optional: { mode: 'manual', agentCount: 2, concurrency: 2, duration: 120 } });
    await waitFor('Running with 2 agents', async () => {
      const d = await detail(name);
      return d.Status === 'Running' && d.AvailableAgent === 2 && (d.Result?.TotalRequests ?? 0) > 0;
    }, 30000);

    // the Job as rendered: parallelism, labels naming task and round, the token only by reference
    const job = onlyJob();
    expect(job.spec?.parallelism).toBe(2);
    expect(job.spec?.template.spec?.restartPolicy).toBe('Never');
    expect(job.spec?.ttlSecondsAfterFinished).toBe(600);
    expect(job.metadata?.labels?.[LABELS.task]).toBe(name);
    expect(job.metadata?.labels?.[LABELS.round]).toBe('10001');
    const container = job.spec?.template.spec?.containers[0];
    expect(container?.resources).toEqual({ requests: { cpu: '100m', memory: '128Mi' }, limits: { memory: '512Mi' } });
    const tokenEnv = container?.env?.find((e) => e.name === AGENT_TOKEN_ENV);
    expect(tokenEnv?.value).toBeUndefined();
    expect(tokenEnv?.valueFrom?.secretKeyRef).toEqual({ name: job.metadata?.name, key: TOKEN_KEY });
    const secret = fake.secrets.get(job.metadata?.name ?? '');
    const token = Buffer.from(secret?.data?.[TOKEN_KEY] ?? '', 'base64').toString('utf8');
    expect(token.length).toBeGreaterThanOrEqual(32);
    expect(JSON.stringify(job)).not.toContain(token);
    // each pod's agent calls itself by its pod's name
    const before = fake.activePods().map((p) => p.metadata?.name ?? '');
    expect(before).toHaveLength(2);
    for (const pod of before) expect(fake.pods.get(pod)?.spec?.containers[0].args).toContain(`$(${POD_NAME_ENV})`);

    // a pod killed (its node lost it): the pool hears the exit, and a new pod takes the new seat
    fake.killPod(before[0]);
    await waitFor('the lost agent replaced by a new pod', async () => {
      const d = await detail(name);
      const pods = fake.activePods().map((p) => p.metadata?.name);
      return d.AvailableAgent === 2 && d.Events.some((e) => e.Kind === 'agent-lost') && d.Events.some((e) => e.Kind === 'agent-added') && !pods.includes(before[0]) && pods.length === 2;
    }, 30000);
    expect((await detail(name)).Events.find((e) => e.Kind === 'agent-lost')?.Message).toMatch(/exited with code 137/);

    // a pod force-deleted while the watch is down: the next list shows it gone, and its agent is replaced
    const victim = fake.activePods()[0].metadata?.name ?? '';
    fake.dropWatches();
    fake.forceDeletePod(victim);
    await waitFor('the force-deleted pod replaced', async () => {
      const d = await detail(name);
      return d.AvailableAgent === 2 && d.Events.filter((e) => e.Kind === 'agent-lost').length === 2 && fake.activePods().length === 2;
    }, 30000);

    // bench update -Doptional.agentCount=N: the Job's parallelism follows, up and down
    // (the first patch meets a 500, as from an etcd timeout: it is tried again, the round goes on)
    fake.failOnce('patch jobs', 500, 'InternalError', 'etcdserver: request timed out');
    expect((await controller.call('PUT', `/api/v2/benchmark-tasks/cn-local/${name}`, JSON.stringify({ optional: { agentCount: 3 } }))).status).toBe(200);
    await waitFor('3 agents, Running again', async () => {
      const d = await detail(name);
      return d.AvailableAgent === 3 && d.Status === 'Running' && onlyJob().spec?.parallelism === 3;
    }, 30000);
    expect(fake.calls.filter((c) => c.startsWith('patch jobs/')).length).toBeGreaterThanOrEqual(2);
    expect((await controller.call('PUT', `/api/v2/benchmark-tasks/cn-local/${name}`, JSON.stringify({ optional: { agentCount: 1 } }))).status).toBe(200);
    await waitFor('1 agent', async () => (await detail(name)).AvailableAgent === 1 && onlyJob().spec?.parallelism === 1 && fake.activePods().length === 1, 30000);
    expect(fake.calls.filter((c) => c.startsWith('patch jobs/')).length).toBeGreaterThanOrEqual(2);

    // the round ends: every agent stopped, the Job, its pods and the Secret gone
    expect((await controller.call('PUT', `/api/v2/benchmark-tasks/cn-local/${name}/stop`)).status).toBe(200);
    const stopped = await waitFor('Stopped', async () => {
      const d = await detail(name);
      return d.Status === 'Stopped' ? d : undefined;
    }, 30000);
    await waitFor('Job, Secret and pods deleted', () => fake.empty(), 15000);
    // the killed agent's last unreported second is lost with it, as with a local agent killed -9
    expect(stopped.Result?.TotalRequests).toBeGreaterThan(0);
    expect(stopped.Result?.TotalRequests).toBeLessThanOrEqual((await fixture.stats()).requests);
    expect(launcher.jobNames()).toEqual([]);
  }, 120000);

  test('deleting a running task deletes its Job, pods and Secret', async () => {
    const name = await create({ service: { serviceName: 'demo', url: `${fixture.url}/api/predict/demo` }, optional: { mode: 'manual', agentCount: 1, concurrency: 1, duration: 120 } });
    await waitFor('Running', async () => (await detail(name)).Status === 'Running', 30000);
    expect(fake.activePods()).toHaveLength(1);
    expect((await controller.call('DELETE', `/api/v2/benchmark-tasks/cn-local/${name}`)).status).toBe(200);
    await waitFor('Job, Secret and pods deleted', () => fake.empty(), 15000);
  }, 60000);

  test('a Job the API server refuses (403) makes the task CreateFailed with its message, and what was made is deleted', async () => {
    fake.forbid('create jobs', `jobs.batch is forbidden: User "system:serviceaccount:${NAMESPACE}:eas-bench" cannot create resource "jobs" in API group "batch"`);
    try {
      const name = await create({ service: { serviceName: 'demo', url: `${fixture.url}/api/predict/demo` }, optional: { mode: 'manual', agentCount: 2, concurrency: 1, duration: 30 } });
      const failed = await waitFor('CreateFailed', async () => {
        const d = await detail(name);
        return d.Status === 'CreateFailed' ? d : undefined;
      }, 15000);
      expect(failed.Message).toMatch(/^Kubernetes refused to create Job eas-agents-[a-z0-9-]+: 403 Forbidden: jobs\.batch is forbidden: User "system:serviceaccount:bench:eas-bench" cannot create resource "jobs"/);
      await waitFor('the round Secret deleted', () => fake.empty(), 10000);
    } finally {
      fake.allow('create jobs');
    }
  }, 60000);
});

describe('a cluster with room for fewer agent pods than the round wants', () => {
  let fake: FakeKubeApi;
  let fixture: FixtureProcess;
  let controller: InProcessController;

  beforeAll(async () => {
    fake = await startFakeKubeApi(NAMESPACE, { binaries: { 'eascmd-agent': [process.execPath, AGENT_MAIN] }, nodeCapacity: 1 });
    fixture = await startFixture(['--latency-ms', '2']);
    const { launcher } = await startLauncher(fake);
    // a connect timeout no test waits for: only the Unschedulable pod lets the round start early
    controller = await startInProcessController({ agentConnectTimeoutS: 600 }, { launcher });
  });
  afterAll(async () => {
    await controller?.close();
    await fake?.close();
    await fixture?.stop();
  });

  test('the round starts with the pods that were placed; an Unschedulable one joins when the node has room', async () => {
    const detail = async (name: string): Promise<Detail> => (await controller.call('GET', `/api/v2/benchmark-tasks/cn-local/${name}`)).json as unknown as Detail;
    const res = await controller.call('POST', '/api/v2/benchmark-tasks', JSON.stringify({ service: { serviceName: 'demo', url: `${fixture.url}/api/predict/demo` }, optional: { mode: 'manual', agentCount: 2, concurrency: 1, duration: 120 } }));
    const name = res.json.TaskName as string;
    await waitFor('Running with the one placed agent', async () => {
      const d = await detail(name);
      return d.Status === 'Running' && d.AvailableAgent === 1 && d.DesiredAgent === 2;
    }, 30000);
    const pending = [...fake.pods.values()].filter((p) => p.status?.conditions?.some((c) => c.reason === 'Unschedulable'));
    expect(pending).toHaveLength(1);
    fake.setNodeCapacity(2);
    await waitFor('the second agent joined', async () => (await detail(name)).AvailableAgent === 2, 30000);
    expect((await controller.call('PUT', `/api/v2/benchmark-tasks/cn-local/${name}/stop`)).status).toBe(200);
    await waitFor('Stopped', async () => (await detail(name)).Status === 'Stopped', 30000);
    await waitFor('Job, Secret and pods deleted', () => fake.empty(), 15000);
  }, 90000);
});

describe('the launcher alone', () => {
  let fake: FakeKubeApi;
  beforeAll(async () => {
    fake = await startFakeKubeApi(NAMESPACE, { binaries: { 'eascmd-agent': [process.execPath, AGENT_MAIN] }, unpullableImages: ['registry.invalid/eas-bench:none'] });
  });
  afterAll(async () => {
    await fake?.close();
  });

  test('an image the cluster cannot pull is reported as the round error, not waited on', async () => {
    const { launcher } = await startLauncher(fake, { image: 'registry.invalid/eas-bench:none' });
    try {
      const errors: string[] = [];
      const round = { taskName: 'benchmark-demo-abcd', roundId: 10001 };
      launcher.launch({ controllerWsUrl: 'ws://127.0.0.1:9/agents', token: 'x', agentId: 'a-1', ...round, onExit: () => undefined, onError: (m) => errors.push(m) });
      const message = await waitFor('the pull error', () => errors[0], 10000);
      expect(message).toMatch(/^agent pod eas-agents-benchmark-demo-abcd-10001-[a-z0-9]+ cannot start: ImagePullBackOff: Back-off pulling image "registry\.invalid\/eas-bench:none"$/);
      launcher.release(round);
      await waitFor('deleted', () => fake.empty(), 10000);
    } finally {
      await launcher.shutdown();
    }
  });

  test('an agent pod that crashed reports its exit code, whether its Failed status or the deletion the pool asks for comes first', async () => {
    // a server that takes the agent's connection and never answers: the agent runs until it is killed
    const silent = net.createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { port } = silent.address() as AddressInfo;
    const { launcher } = await startLauncher(fake);
    try {
      const exits: [number | null, string | null][] = [];
      const round = { taskName: 'benchmark-demo-crash', roundId: 10001 };
      const agent = launcher.launch({ controllerWsUrl: `ws://127.0.0.1:${port}/agents`, token: 'x', agentId: 'a-1', ...round, onExit: (code, signal) => exits.push([code, signal]), onError: () => undefined });
      const pod = await waitFor('the agent pod running', () => fake.activePods().find((p) => p.status?.phase === 'Running')?.metadata?.name, 10000);
      // the crash, and at once what the pool does when the agent's socket drops: it has the pod deleted
      fake.killPod(pod);
      agent.kill();
      await waitFor('the exit', () => exits.length > 0, 10000);
      expect(exits).toEqual([[137, null]]);
      launcher.release(round);
      await waitFor('deleted', () => fake.empty(), 10000);
    } finally {
      await launcher.shutdown();
      silent.close();
    }
  });

  test('an object that already exists (409) is the round error, and the launcher deletes only what it made', async () => {
    const round = { taskName: 'benchmark-demo-taken', roundId: 10001 };
    const { launcher } = await startLauncher(fake);
    const res = await fetch(`${fake.url}/api/v1/namespaces/${NAMESPACE}/secrets`, { method: 'POST', body: JSON.stringify(renderRoundSecret(settings(), round, 'someone-else')), headers: { 'content-type': 'application/json' } });
    expect(res.status).toBe(201);
    try {
      const errors: string[] = [];
      launcher.launch({ controllerWsUrl: 'ws://127.0.0.1:9/agents', token: 'x', agentId: 'a-1', ...round, onExit: () => undefined, onError: (m) => errors.push(m) });
      expect(await waitFor('the conflict', () => errors[0], 10000)).toBe('Kubernetes refused to create Secret eas-agents-benchmark-demo-taken-10001: 409 AlreadyExists: secrets "eas-agents-benchmark-demo-taken-10001" already exists');
      expect(fake.jobs.size).toBe(0);
      launcher.release(round);
      await waitFor('released', () => launcher.jobNames().length === 0, 10000);
      expect(Buffer.from(fake.secrets.get('eas-agents-benchmark-demo-taken-10001')?.data?.token ?? '', 'base64').toString()).toBe('someone-else');
    } finally {
      await launcher.shutdown();
    }
    fake.secrets.clear();
  });

  test('a start the cluster refused fails the round with the line, and the next round tries it again', async () => {
    fake.forbid('list jobs', 'jobs.batch is forbidden: User "system:serviceaccount:bench:eas-bench" cannot list resource "jobs"');
    const launcher = new KubernetesAgentLauncher({ cluster: new ClientNodeCluster(kubeConfigFor(fake.url), NAMESPACE), settings: settings() });
    await expect(launcher.start()).rejects.toThrow('Kubernetes refused to list Jobs: 403 Forbidden');
    try {
      const errors: string[] = [];
      const spec = { controllerWsUrl: 'ws://127.0.0.1:9/agents', token: 'x', onExit: () => undefined, onError: (m: string) => errors.push(m) };
      launcher.launch({ ...spec, agentId: 'a-1', taskName: 'benchmark-demo-abcd', roundId: 10001 });
      expect(await waitFor('the refusal', () => errors[0], 10000)).toBe('Kubernetes refused to list Jobs: 403 Forbidden: jobs.batch is forbidden: User "system:serviceaccount:bench:eas-bench" cannot list resource "jobs"');
      launcher.release({ taskName: 'benchmark-demo-abcd', roundId: 10001 });
      fake.allow('list jobs');
      launcher.launch({ ...spec, agentId: 'b-1', taskName: 'benchmark-demo-abcd', roundId: 10002 });
      await waitFor('the next round\'s Job', () => fake.jobs.has('eas-agents-benchmark-demo-abcd-10002'), 10000);
      expect(errors).toHaveLength(1);
    } finally {
      await launcher.shutdown();
    }
    await waitFor('deleted', () => fake.empty(), 10000);
  });

  test('after a restart, Jobs and Secrets of rounds the controller no longer runs are removed; another controller\'s stay', async () => {
    const leftover = { taskName: 'benchmark-demo-dead', roundId: 10003 };
    const theirs = { taskName: 'benchmark-demo-else', roundId: 10001 };
    const mine = settings();
    const other = settings({ controllerName: 'other-controller' });
    const post = async (path: string, body: unknown): Promise<void> => {
      const res = await fetch(`${fake.url}${path}`, { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });
      expect(res.status).toBe(201);
    };
    await post(`/api/v1/namespaces/${NAMESPACE}/secrets`, renderRoundSecret(mine, leftover, 'old'));
    await post(`/apis/batch/v1/namespaces/${NAMESPACE}/jobs`, renderAgentJob(mine, leftover, 'ws://127.0.0.1:9/agents', 0));
    await post(`/apis/batch/v1/namespaces/${NAMESPACE}/jobs`, renderAgentJob(other, theirs, 'ws://127.0.0.1:9/agents', 0));
    const { launcher, removedJobs } = await startLauncher(fake);
    try {
      expect(removedJobs).toEqual(['eas-agents-benchmark-demo-dead-10003']);
      expect([...fake.jobs.keys()]).toEqual(['eas-agents-benchmark-demo-else-10001']);
      expect(fake.secrets.size).toBe(0);
    } finally {
      await launcher.shutdown();
    }
  });
});
