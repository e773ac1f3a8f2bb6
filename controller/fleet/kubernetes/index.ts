import * as fs from 'node:fs';
import { BenchError } from '../../../src/contract';
import { ControllerOptions } from '../../config';
import { ClientNodeCluster } from './cluster';
import { KubernetesAgentLauncher } from './launcher';

export { KubernetesAgentLauncher } from './launcher';

/** Where a pod's service account says which namespace it runs in. */
const IN_CLUSTER_NAMESPACE_FILE = '/var/run/secrets/kubernetes.io/serviceaccount/namespace';

/**
 * `--agent-launcher kubernetes`: agents as one Job per round in
 * `--kube-namespace`, through `--kube-config` or the pod's service account.
 * It starts at once; removing leftover Jobs and opening the pod watch go on
 * in the background, and a round waits for them (or fails with their error).
 */
export function createKubernetesLauncher(options: ControllerOptions, context: { log: (line: string) => void }): KubernetesAgentLauncher {
  const k = options.kubernetes;
  if (!k.agentImage) throw new BenchError('InvalidParameter', '--agent-image is required with --agent-launcher kubernetes', { field: 'agentImage' });
  const namespace = k.namespace ?? readInClusterNamespace();
  const log = (line: string): void => context.log(`[kubernetes] ${line}`);
  let cluster: ClientNodeCluster;
  try {
    cluster = ClientNodeCluster.load(namespace, k.kubeConfig);
  } catch (err) {
    throw new BenchError('InvalidParameter', `cannot load the Kubernetes config${k.kubeConfig ? ` ${k.kubeConfig}` : ' (in-cluster)'}: ${(err as Error).message}`, { field: 'kubeConfig' });
  }
  const launcher = new KubernetesAgentLauncher({
    cluster,
    settings: {
      namespace,
      image: k.agentImage,
      controllerName: k.controllerName,
      requests: k.agentRequests,
      limits: k.agentLimits,
      ttlSecondsAfterFinished: k.jobTtlS,
      imagePullSecret: k.imagePullSecret,
    },
    publicWsUrl: k.agentsUrl,
    capacity: options.maxAgentsTotal,
    log,
  });
  launcher.start().catch((err: Error) => log(`cannot start: ${err.message}`));
  return launcher;
}

function readInClusterNamespace(): string {
  try {
    return fs.readFileSync(IN_CLUSTER_NAMESPACE_FILE, 'utf8').trim();
  } catch {
    throw new BenchError('InvalidParameter', `--kube-namespace is required outside a pod (${IN_CLUSTER_NAMESPACE_FILE} is not there)`, { field: 'kubeNamespace' });
  }
}
