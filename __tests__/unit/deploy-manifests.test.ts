import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadAllYaml, loadYaml, V1Deployment, V1Role, V1Service } from '@kubernetes/client-node';
import { METRICS_PATH } from '../../controller/api/prometheus';
import { modelTypeOf, roundTrip, schemaErrors } from '../helpers/kube-schema';
import { ROOT } from '../helpers/processes';

/**
 * What a cluster user deploys: deploy/kubernetes/ (a kustomize base) parsed
 * and checked against the client library's Kubernetes types, and the
 * Dockerfile's build steps checked against the README's install.
 */

const DEPLOY = path.join(ROOT, 'deploy', 'kubernetes');
type Manifest = { apiVersion?: string; kind?: string; metadata?: { name?: string } };

const manifestFiles = fs.readdirSync(DEPLOY).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml');
const manifests: { file: string; doc: Manifest }[] = manifestFiles.flatMap((file) => (loadAllYaml(fs.readFileSync(path.join(DEPLOY, file), 'utf8')) as Manifest[]).map((doc) => ({ file, doc })));
const find = <T>(kind: string): T => manifests.find((m) => m.doc.kind === kind)?.doc as T;
const kustomization = loadYaml<{ resources: string[]; namespace: string; secretGenerator: { name: string; files: string[] }[]; images: { name: string; newName: string; newTag: string }[] }>(fs.readFileSync(path.join(DEPLOY, 'kustomization.yaml'), 'utf8'));

describe('deploy/kubernetes', () => {
  test('every manifest is a known Kubernetes type with no unknown field, kept whole by the client round trip', () => {
    expect(manifests.map((m) => m.doc.kind).sort()).toEqual(['Deployment', 'Namespace', 'PersistentVolumeClaim', 'Role', 'RoleBinding', 'Service', 'ServiceAccount']);
    for (const { file, doc } of manifests) {
      const type = modelTypeOf(doc);
      expect({ file, errors: schemaErrors(doc, type) }).toEqual({ file, errors: [] });
      expect(roundTrip(doc, type)).toEqual(doc);
    }
  });

  test('the kustomization lists every manifest, and generates the Secret and names the image the Deployment uses', () => {
    expect([...kustomization.resources].sort()).toEqual([...manifestFiles].sort());
    const deployment = find<V1Deployment>('Deployment');
    const pod = deployment.spec?.template.spec;
    expect(pod?.volumes?.find((v) => v.secret)?.secret?.secretName).toBe(kustomization.secretGenerator[0].name);
    expect(kustomization.secretGenerator[0].files).toEqual(['credentials.json']);
    expect(fs.readFileSync(path.join(DEPLOY, '.gitignore'), 'utf8')).toContain('credentials.json');
    expect(pod?.containers[0].image).toBe(kustomization.images[0].name);
    // the agent pods run the image the controller runs
    const image = kustomization.images[0];
    expect(pod?.containers[0].args).toContain(`--agent-image=${image.newName}:${image.newTag}`);
  });

  test('the Role allows only jobs, pods and secrets, and the controller runs as its ServiceAccount', () => {
    const role = find<V1Role>('Role');
    expect(role.rules?.flatMap((r) => r.resources ?? []).sort()).toEqual(['jobs', 'pods', 'secrets']);
    expect(role.rules?.every((r) => !r.verbs.includes('*') && !(r.resources ?? []).includes('*'))).toBe(true);
    expect(find<V1Deployment>('Deployment').spec?.template.spec?.serviceAccountName).toBe(find<Manifest>('ServiceAccount').metadata?.name);
  });

  test('the controller keeps its data dir on the PVC, reads credentials from the Secret, and every flag it is given exists', () => {
    const deployment = find<V1Deployment>('Deployment');
    const pod = deployment.spec?.template.spec;
    const container = pod?.containers[0];
    expect(deployment.spec?.strategy?.type).toBe('Recreate');
    expect(pod?.volumes?.find((v) => v.persistentVolumeClaim)?.persistentVolumeClaim?.claimName).toBe(find<Manifest>('PersistentVolumeClaim').metadata?.name);
    const mountOf = (volume: string): string | undefined => container?.volumeMounts?.find((m) => m.name === volume)?.mountPath;
    const args = container?.args ?? [];
    expect(args).toContain(`--data-dir=${mountOf('data')}`);
    expect(args).toContain(`--credentials=${mountOf('credentials')}/credentials.json`);
    expect(args).toContain('--agent-launcher=kubernetes');
    expect(args).toContain(`--agents-url=ws://${find<Manifest>('Service').metadata?.name}:8020/agents`);
    const help = spawnSync(process.execPath, [path.join(ROOT, 'dist', 'controller', 'main.js'), '--help'], { encoding: 'utf8' }).stdout;
    for (const arg of args) expect(help).toContain(`${arg.split('=')[0]} `);
  });
});

describe('scraping the controller on Kubernetes', () => {
  const deployment = find<V1Deployment>('Deployment');
  const service = find<V1Service>('Service');
  const httpPort = deployment.spec?.template.spec?.containers[0].ports?.find((p) => p.name === 'http')?.containerPort;

  test('the controller pod carries the prometheus.io annotations: GET /metrics on its http port, the --port it listens on', () => {
    const annotations = deployment.spec?.template.metadata?.annotations ?? {};
    expect(annotations).toEqual({ 'prometheus.io/scrape': 'true', 'prometheus.io/port': String(httpPort), 'prometheus.io/path': METRICS_PATH });
    expect(deployment.spec?.template.spec?.containers[0].args).toContain(`--port=${httpPort}`);
  });

  test('the prometheus-operator overlay adds a ServiceMonitor on the base whose selector and port find the Service', () => {
    const overlay = path.join(ROOT, 'deploy', 'prometheus-operator');
    const kust = loadYaml<{ namespace: string; resources: string[] }>(fs.readFileSync(path.join(overlay, 'kustomization.yaml'), 'utf8'));
    expect(kust.resources).toEqual(['../kubernetes', 'servicemonitor.yaml']);
    expect(path.resolve(overlay, kust.resources[0])).toBe(DEPLOY);
    expect(kust.namespace).toBe(kustomization.namespace);
    type ServiceMonitor = { apiVersion: string; kind: string; spec: { selector: { matchLabels: Record<string, string> }; endpoints: { port: string; path: string }[] } };
    const monitor = loadYaml<ServiceMonitor>(fs.readFileSync(path.join(overlay, 'servicemonitor.yaml'), 'utf8'));
    expect([monitor.apiVersion, monitor.kind]).toEqual(['monitoring.coreos.com/v1', 'ServiceMonitor']);
    for (const [label, value] of Object.entries(monitor.spec.selector.matchLabels)) expect(service.metadata?.labels?.[label]).toBe(value);
    expect(monitor.spec.endpoints).toEqual([expect.objectContaining({ port: service.spec?.ports?.[0].name, path: METRICS_PATH })]);
  });
});

describe('Dockerfile', () => {
  const text = fs.readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8');
  const stages = text.split(/^FROM /m).slice(1);

  test('two node:20-slim stages; the build installs as CI does and as the README says; the image runs as a non-root uid and holds the three binaries', () => {
    expect(stages.map((s) => s.split('\n')[0].trim())).toEqual(['node:20-slim AS build', 'node:20-slim']);
    const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
    const ci = fs.readFileSync(path.join(ROOT, '.ci', 'run'), 'utf8').split('\n');
    const buildRuns = [...stages[0].matchAll(/^RUN (.+)$/gm)].map((m) => m[1]);
    expect(buildRuns).toEqual(['npm ci --no-audit --no-fund', 'npm prune --omit=dev']);
    // the install is CI's own line, so every CI run proves it
    expect(ci).toContain(buildRuns[0]);
    expect(readme).toContain(buildRuns.join(' && '));
    const user = /^USER (\d+)(?::(\d+))?$/m.exec(stages[1]);
    expect(Number(user?.[1])).toBeGreaterThan(0);
    for (const bin of ['eascmd', 'eascmd-controller', 'eascmd-agent']) {
      expect(stages[1]).toContain(`/app/bin/${bin} /usr/local/bin/${bin}`);
      expect(fs.existsSync(path.join(ROOT, 'bin', bin))).toBe(true);
    }
    for (const m of stages[0].matchAll(/^COPY (?!--)(.+) \S+$/gm)) for (const source of m[1].split(' ')) expect(fs.existsSync(path.join(ROOT, source))).toBe(true);
  });
});
