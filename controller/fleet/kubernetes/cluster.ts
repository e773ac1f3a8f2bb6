import { BatchV1Api, CoreV1Api, HttpError, KubeConfig, V1Job, V1Pod, V1Secret, Watch } from '@kubernetes/client-node';

/** An API call the cluster refused, as one line naming the object: "Kubernetes refused to create Job x: 403 Forbidden: ...". */
export class KubernetesApiError extends Error {
  constructor(
    readonly verb: string,
    /** "Job eas-agents-x-10001" */
    readonly resource: string,
    /** The HTTP status, when the API server answered. */
    readonly status: number | undefined,
    readonly reason: string,
    detail: string,
  ) {
    super(
      status
        ? `Kubernetes refused to ${verb} ${resource}: ${status} ${reason}${detail ? `: ${detail}` : ''}`
        : `cannot ${verb} ${resource}: ${reason}${detail ? `: ${detail}` : ''}`,
    );
    this.name = 'KubernetesApiError';
  }
}

export type PodEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

/** The few API calls the agent launcher makes, in one namespace. */
export interface AgentCluster {
  readonly namespace: string;
  createSecret(secret: V1Secret): Promise<void>;
  createJob(job: V1Job): Promise<void>;
  setParallelism(jobName: string, parallelism: number): Promise<void>;
  /** Deletes the Job and (in the background) its pods; one already gone is no error. */
  deleteJob(name: string): Promise<void>;
  deleteSecret(name: string): Promise<void>;
  deletePod(name: string): Promise<void>;
  /** Names of the Jobs and Secrets matching a label selector. */
  listJobs(labelSelector: string): Promise<string[]>;
  listSecrets(labelSelector: string): Promise<string[]>;
  /**
   * Follows the pods matching `labelSelector`: every pod listed now arrives as
   * ADDED, then each change; a watch that ends or expires is listed and
   * watched again. Resolves with the way to stop following.
   */
  watchPods(labelSelector: string, onEvent: (type: PodEventType, pod: V1Pod) => void, onError: (err: Error) => void): Promise<() => void>;
}

/** How long a broken watch waits before listing again. */
const REWATCH_DELAY_MS = 1000;

/** The AgentCluster of a real API server, through @kubernetes/client-node. */
export class ClientNodeCluster implements AgentCluster {
  private readonly batch: BatchV1Api;
  private readonly core: CoreV1Api;

  constructor(
    private readonly config: KubeConfig,
    readonly namespace: string,
  ) {
    this.batch = config.makeApiClient(BatchV1Api);
    this.core = config.makeApiClient(CoreV1Api);
  }

  /** In-cluster config (the pod's service account) unless a kubeconfig file is named. */
  static load(namespace: string, kubeConfigFile?: string): ClientNodeCluster {
    const config = new KubeConfig();
    if (kubeConfigFile) config.loadFromFile(kubeConfigFile);
    else config.loadFromCluster();
    return new ClientNodeCluster(config, namespace);
  }

  async createSecret(secret: V1Secret): Promise<void> {
    await call('create', `Secret ${secret.metadata?.name}`, () => this.core.createNamespacedSecret(this.namespace, secret));
  }

  async createJob(job: V1Job): Promise<void> {
    await call('create', `Job ${job.metadata?.name}`, () => this.batch.createNamespacedJob(this.namespace, job));
  }

  async setParallelism(jobName: string, parallelism: number): Promise<void> {
    await call('patch', `Job ${jobName}`, () =>
      this.batch.patchNamespacedJob(jobName, this.namespace, { spec: { parallelism } }, undefined, undefined, undefined, undefined, undefined, {
        headers: { 'Content-Type': 'application/merge-patch+json' },
      }),
    );
  }

  async deleteJob(name: string): Promise<void> {
    await ignoreGone(call('delete', `Job ${name}`, () => this.batch.deleteNamespacedJob(name, this.namespace, undefined, undefined, undefined, undefined, 'Background')));
  }

  async deleteSecret(name: string): Promise<void> {
    await ignoreGone(call('delete', `Secret ${name}`, () => this.core.deleteNamespacedSecret(name, this.namespace)));
  }

  async deletePod(name: string): Promise<void> {
    await ignoreGone(call('delete', `Pod ${name}`, () => this.core.deleteNamespacedPod(name, this.namespace)));
  }

  async listJobs(labelSelector: string): Promise<string[]> {
    const { body } = await call('list', 'Jobs', () => this.batch.listNamespacedJob(this.namespace, undefined, undefined, undefined, undefined, labelSelector));
    return body.items.map((j) => j.metadata?.name ?? '').filter(Boolean);
  }

  async listSecrets(labelSelector: string): Promise<string[]> {
    const { body } = await call('list', 'Secrets', () => this.core.listNamespacedSecret(this.namespace, undefined, undefined, undefined, undefined, labelSelector));
    return body.items.map((s) => s.metadata?.name ?? '').filter(Boolean);
  }

  async watchPods(labelSelector: string, onEvent: (type: PodEventType, pod: V1Pod) => void, onError: (err: Error) => void): Promise<() => void> {
    let stopped = false;
    let abort = (): void => undefined;
    /** The pods seen, so a pod deleted while no watch ran still arrives as DELETED at the next list. */
    const seen = new Map<string, V1Pod>();
    const deliver = (type: PodEventType, pod: V1Pod): void => {
      const name = pod.metadata?.name ?? '';
      if (type === 'DELETED') seen.delete(name);
      else seen.set(name, pod);
      onEvent(type, pod);
    };
    let retry: NodeJS.Timeout | undefined;
    const again = (): void => {
      if (stopped) return;
      retry = setTimeout(() => void follow().catch(fail), REWATCH_DELAY_MS);
    };
    const fail = (err: Error): void => {
      if (stopped) return;
      onError(err);
      again();
    };
    const follow = async (): Promise<void> => {
      const { body } = await call('list', 'Pods', () => this.core.listNamespacedPod(this.namespace, undefined, undefined, undefined, undefined, labelSelector));
      if (stopped) return;
      const listed = new Set(body.items.map((pod) => pod.metadata?.name ?? ''));
      for (const [name, pod] of [...seen]) if (!listed.has(name)) deliver('DELETED', pod);
      for (const pod of body.items) deliver(seen.has(pod.metadata?.name ?? '') ? 'MODIFIED' : 'ADDED', pod);
      const request = (await new Watch(this.config).watch(
        `/api/v1/namespaces/${encodeURIComponent(this.namespace)}/pods`,
        { labelSelector, resourceVersion: body.metadata?.resourceVersion, allowWatchBookmarks: false },
        (type: string, object: V1Pod) => {
          if (type === 'ADDED' || type === 'MODIFIED' || type === 'DELETED') deliver(type, object);
          // ERROR (a resource version too old): the stream ends and the pods are listed again
        },
        // a watch ends: the server's timeout, a network error or an expired version; list again and go on
        () => again(),
      )) as { abort(): void };
      abort = () => request.abort();
      if (stopped) abort();
    };
    await follow();
    return () => {
      stopped = true;
      clearTimeout(retry);
      abort();
    };
  }
}

async function call<T>(verb: string, resource: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw toApiError(verb, resource, err);
  }
}

async function ignoreGone(promise: Promise<unknown>): Promise<void> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof KubernetesApiError && err.status === 404) return;
    throw err;
  }
}

/** The API server's Status (reason, message) when it sent one; the network error otherwise. */
function toApiError(verb: string, resource: string, err: unknown): KubernetesApiError {
  if (err instanceof HttpError) {
    const body = (typeof err.body === 'object' && err.body !== null ? err.body : {}) as { reason?: unknown; message?: unknown };
    const reason = typeof body.reason === 'string' ? body.reason : (err.response?.statusMessage ?? 'error');
    const message = typeof body.message === 'string' ? body.message : '';
    return new KubernetesApiError(verb, resource, err.statusCode, reason, message);
  }
  // duck-typed: a network error may come from another realm (a jest sandbox), where instanceof Error fails
  const message = typeof (err as { message?: unknown } | null)?.message === 'string' ? (err as { message: string }).message : String(err);
  return new KubernetesApiError(verb, resource, undefined, 'the Kubernetes API server was not reached', message);
}
