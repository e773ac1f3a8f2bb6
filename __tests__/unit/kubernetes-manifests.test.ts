import * as fs from 'node:fs';
import * as path from 'node:path';
import { createAgentLauncher } from '../../controller/fleet/launchers';
import { KubernetesAgentLauncher } from '../../controller/fleet/kubernetes';
import { AgentJobSettings, labelValue, renderAgentJob, renderRoundSecret, roundObjectName } from '../../controller/fleet/kubernetes/manifests';
import { defaultOptions } from '../../controller/config';
import { roundTrip, schemaErrors } from '../helpers/kube-schema';
import { tempDir, waitFor } from '../helpers/processes';

/** The Job and Secret the launcher renders, checked against the client library's Kubernetes types. */

const settings: AgentJobSettings = {
  namespace: 'bench',
  image: 'registry.example/eas-bench:0.1.0',
  controllerName: 'eas-bench',
  requests: { cpu: '500m', memory: '256Mi' },
  limits: { cpu: '1', memory: '1Gi' },
  ttlSecondsAfterFinished: 600,
  imagePullSecret: 'registry',
};
const round = { taskName: 'benchmark-demo-1a2b', roundId: 10001 };

describe('rendered agent manifests', () => {
  test('the Job is a valid batch/v1 Job: no unknown field, and the client round trip keeps all of it', () => {
    const job = renderAgentJob(settings, round, 'ws://eas-bench-controller:8020/agents', 16);
    expect(schemaErrors(job, 'V1Job')).toEqual([]);
    expect(roundTrip(job, 'V1Job')).toEqual(JSON.parse(JSON.stringify(job)));
    expect(job.spec?.parallelism).toBe(16);
    expect(job.spec?.template.spec?.restartPolicy).toBe('Never');
    expect(job.spec?.template.spec?.imagePullSecrets).toEqual([{ name: 'registry' }]);
  });

  test('the Secret is a valid v1 Secret holding the token base64-encoded, and the Job refers to it by name only', () => {
    const secret = renderRoundSecret(settings, round, 'tok-en');
    expect(schemaErrors(secret, 'V1Secret')).toEqual([]);
    expect(roundTrip(secret, 'V1Secret')).toEqual(JSON.parse(JSON.stringify(secret)));
    expect(Buffer.from(secret.data?.token ?? '', 'base64').toString()).toBe('tok-en');
    const job = renderAgentJob(settings, round, 'ws://x/agents', 1);
    expect(JSON.stringify(job)).not.toContain(secret.data?.token);
    expect(secret.metadata?.name).toBe(job.metadata?.name);
  });

  test('a misspelt field is refused by the check (it is not a check that passes everything)', () => {
    const job = renderAgentJob(settings, round, 'ws://x/agents', 1) as unknown as { spec: { template: { spec: Record<string, unknown> } } };
    job.spec.template.spec.restartPolicyy = 'Never';
    job.spec.template.spec.activeDeadlineSeconds = '10';
    expect(schemaErrors(job, 'V1Job')).toEqual(['$.spec.template.spec.restartPolicyy: unknown field of V1PodSpec', '$.spec.template.spec.activeDeadlineSeconds: expected a number, got "10"']);
  });

  test('names and labels stay within what Kubernetes accepts for any task name', () => {
    const long = { taskName: `benchmark-${'a'.repeat(80)}_x`, roundId: 10002 };
    const name = roundObjectName(long);
    expect(name.length).toBeLessThanOrEqual(52);
    expect(name).toMatch(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
    expect(roundObjectName(round)).toBe('eas-agents-benchmark-demo-1a2b-10001');
    const label = labelValue(long.taskName);
    expect(label.length).toBeLessThanOrEqual(63);
    expect(label).toMatch(/^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/);
  });
});

describe('--agent-launcher kubernetes', () => {
  const context = { log: () => undefined, credentials: { file: '/nonexistent/credentials.json', keys: new Map([['KEY', 'SECRET']]) } };

  test('needs --agent-image, and outside a pod --kube-namespace, each said in one line', () => {
    const base = { ...defaultOptions(), agentLauncher: 'kubernetes' as const };
    expect(() => createAgentLauncher(base, context)).toThrow('--agent-image is required with --agent-launcher kubernetes');
    if (!fs.existsSync('/var/run/secrets/kubernetes.io/serviceaccount/namespace')) {
      expect(() => createAgentLauncher({ ...base, kubernetes: { ...base.kubernetes, agentImage: 'x' } }, context)).toThrow(/--kube-namespace is required outside a pod/);
    }
  });

  test('with a kubeconfig it builds the Kubernetes launcher; an unreadable one is one clear error', async () => {
    const dir = tempDir('kubeconfig');
    const file = path.join(dir, 'config');
    // an address nothing listens on: the background cleanup fails and is only logged
    fs.writeFileSync(file, ['apiVersion: v1', 'kind: Config', 'clusters: [{name: c, cluster: {server: "http://127.0.0.1:9"}}]', 'users: [{name: u, user: {token: t}}]', 'contexts: [{name: c, context: {cluster: c, user: u}}]', 'current-context: c', ''].join('\n'));
    const base = defaultOptions();
    const options = { ...base, agentLauncher: 'kubernetes' as const, kubernetes: { ...base.kubernetes, agentImage: 'x', namespace: 'bench', kubeConfig: file } };
    const lines: string[] = [];
    const launcher = createAgentLauncher(options, { ...context, log: (line) => lines.push(line) });
    expect(launcher).toBeInstanceOf(KubernetesAgentLauncher);
    expect(launcher.capacity).toBe(base.maxAgentsTotal);
    // the leftover cleanup runs in the background; an API server it cannot reach is one logged line
    await waitFor('the start error', () => lines[0]);
    expect(lines[0]).toBe('[kubernetes] cannot start: cannot list Jobs: the Kubernetes API server was not reached: connect ECONNREFUSED 127.0.0.1:9');
    await launcher.shutdown();
    expect(() => createAgentLauncher({ ...options, kubernetes: { ...options.kubernetes, kubeConfig: path.join(dir, 'missing') } }, context)).toThrow(/^cannot load the Kubernetes config .*missing/);
  });
});
