import { ChildProcess, spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { V1Container, V1EnvVar, V1Job, V1Pod, V1Secret } from '@kubernetes/client-node';

/**
 * A stand-in for the few Kubernetes API calls the agent launcher makes, on
 * 127.0.0.1, behaving as the API server does: objects get uids and resource
 * versions; create answers 409 AlreadyExists, a missing object 404 NotFound,
 * a forbidden call 403 Forbidden, all as v1 Status bodies; pods can be listed
 * and watched from a resource version (chunked JSON lines, ADDED / MODIFIED /
 * DELETED). Its Job controller keeps `parallelism` pods active (replacing a
 * failed one after a back-off, removing extras when parallelism drops, the
 * pods of a deleted Job going with it), and its "kubelet" really runs each
 * pod: env resolved (values, the pod's own fields, secretKeyRef from the
 * stored Secrets), $(VAR) expanded in the args, the command mapped to a local
 * binary and started as a process whose exit becomes the pod's phase.
 */
export interface FakeKubeApi {
  /** http://127.0.0.1:PORT */
  url: string;
  jobs: Map<string, V1Job>;
  secrets: Map<string, V1Secret>;
  pods: Map<string, V1Pod>;
  /** Every call, as `VERB resource[/name]`: `create jobs`, `patch jobs/x`, `watch pods`. */
  calls: string[];
  /** Refuses `verb resource` (e.g. 'create jobs') with 403 and this message. */
  forbid(verbAndResource: string, message: string): void;
  allow(verbAndResource: string): void;
  /** Answers the next `verb resource` with this status (a 500 of an etcd timeout, a 429). */
  failOnce(verbAndResource: string, code: number, reason: string, message: string): void;
  /** Ends a pod's process with SIGKILL, as a node that loses it (the pod fails). */
  killPod(name: string): void;
  /** Removes a pod at once (`kubectl delete --force --grace-period=0`), its process killed. */
  forceDeletePod(name: string): void;
  /** Ends every open watch, as an API server restart or a dropped connection does. */
  dropWatches(): void;
  /** How many pods the one node runs at once; pods beyond it wait Unschedulable, oldest first. */
  setNodeCapacity(pods: number): void;
  /** Pods not terminal nor deleting. */
  activePods(): V1Pod[];
  /** No Job, Secret or pod is left. */
  empty(): boolean;
  /** Stderr lines of a pod's process. */
  logs(name: string): string;
  close(): Promise<void>;
}

export interface FakeKubeOptions {
  /** Command names of the image mapped to local command lines, e.g. { 'eascmd-agent': [node, dist/.../main.js] }. */
  binaries: Record<string, string[]>;
  /** Images the kubelet cannot pull: their pods wait in ImagePullBackOff. */
  unpullableImages?: string[];
  /** The Job controller's delay before replacing a failed pod (a real one starts at 10 s). */
  failedPodBackoffMs?: number;
  /** How many pods the one node runs at once (unbounded when absent). */
  nodeCapacity?: number;
}

type WatchEvent = { type: 'ADDED' | 'MODIFIED' | 'DELETED'; object: V1Pod; rv: number };

const RESOURCES: Record<string, { group: string; kind: string }> = {
  jobs: { group: 'batch', kind: 'Job' },
  secrets: { group: '', kind: 'Secret' },
  pods: { group: '', kind: 'Pod' },
};

function status(res: http.ServerResponse, code: number, reason: string, message: string): void {
  res.writeHead(code, { 'content-type': 'application/json' }).end(JSON.stringify({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code }));
}

function matches(labels: Record<string, string> | undefined, selector: string | null): boolean {
  if (!selector) return true;
  return selector.split(',').every((term) => {
    const [key, value] = term.split('=');
    return (labels ?? {})[key] === value;
  });
}

function mergePatch(target: unknown, patch: unknown): unknown {
  if (typeof patch !== 'object' || patch === null || Array.isArray(patch)) return patch;
  const out: Record<string, unknown> = typeof target === 'object' && target !== null && !Array.isArray(target) ? { ...(target as Record<string, unknown>) } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

const DNS_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

export async function startFakeKubeApi(namespace: string, options: FakeKubeOptions): Promise<FakeKubeApi> {
  let rv = 0;
  const jobs = new Map<string, V1Job>();
  const secrets = new Map<string, V1Secret>();
  const pods = new Map<string, V1Pod>();
  const processes = new Map<string, ChildProcess>();
  const podLogs = new Map<string, string>();
  const history: WatchEvent[] = [];
  const watchers = new Set<{ selector: string | null; res: http.ServerResponse }>();
  const forbidden = new Map<string, string>();
  const failures = new Map<string, { code: number; reason: string; message: string }>();
  const calls: string[] = [];
  const backoffUntil = new Map<string, number>();
  const timers = new Set<NodeJS.Timeout>();
  let closing = false;

  const nextRv = (): string => String(++rv);
  const stamp = <T extends { metadata?: V1Job['metadata'] }>(obj: T): T => {
    obj.metadata = { ...obj.metadata, resourceVersion: nextRv() };
    return obj;
  };
  const emit = (type: WatchEvent['type'], pod: V1Pod): void => {
    const event: WatchEvent = { type, object: structuredClone(pod), rv: Number(pod.metadata?.resourceVersion) };
    history.push(event);
    for (const w of watchers) if (matches(pod.metadata?.labels, w.selector)) w.res.write(`${JSON.stringify({ type, object: event.object })}\n`);
  };
  const updatePod = (pod: V1Pod, change: (p: V1Pod) => void): void => {
    if (!pods.has(pod.metadata?.name ?? '')) return;
    change(pod);
    stamp(pod);
    emit('MODIFIED', pod);
  };
  const later = (ms: number, fn: () => void): void => {
    const t = setTimeout(() => {
      timers.delete(t);
      if (!closing) fn();
    }, ms);
    timers.add(t);
  };

  // ------------------------------------------------------------ kubelet

  const fieldValue = (pod: V1Pod, path: string): string | undefined => {
    if (path === 'metadata.name') return pod.metadata?.name;
    if (path === 'metadata.namespace') return pod.metadata?.namespace;
    if (path === 'status.podIP') return '127.0.0.1';
    return undefined;
  };
  const resolveEnv = (pod: V1Pod, env: V1EnvVar[]): Record<string, string> | string => {
    const out: Record<string, string> = {};
    for (const e of env) {
      if (e.value !== undefined) out[e.name] = e.value;
      else if (e.valueFrom?.fieldRef) out[e.name] = fieldValue(pod, e.valueFrom.fieldRef.fieldPath) ?? '';
      else if (e.valueFrom?.secretKeyRef) {
        const ref = e.valueFrom.secretKeyRef;
        const secret = secrets.get(ref.name ?? '');
        if (!secret) return `secret "${ref.name}" not found`;
        const data = secret.data?.[ref.key];
        if (data === undefined) return `couldn't find key ${ref.key} in Secret ${namespace}/${ref.name}`;
        out[e.name] = Buffer.from(data, 'base64').toString('utf8');
      }
    }
    return out;
  };
  const expand = (text: string, env: Record<string, string>): string => text.replace(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (whole, name: string) => env[name] ?? whole);

  // ---------------------------------------------------------- scheduler

  let nodeCapacity = options.nodeCapacity ?? Number.POSITIVE_INFINITY;
  const unscheduled: V1Pod[] = [];
  const schedule = (pod: V1Pod): void => {
    if (processes.size < nodeCapacity) return runPod(pod);
    unscheduled.push(pod);
    updatePod(pod, (p) => {
      p.status = { ...p.status, conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: '0/1 nodes are available: 1 Insufficient cpu.' }] };
    });
  };
  const scheduleWaiting = (): void => {
    while (unscheduled.length && processes.size < nodeCapacity) {
      const pod = unscheduled.shift() as V1Pod;
      if (!pods.has(pod.metadata?.name ?? '') || pod.metadata?.deletionTimestamp) continue;
      pod.status = { ...pod.status, conditions: [{ type: 'PodScheduled', status: 'True' }] };
      runPod(pod);
    }
  };

  const runPod = (pod: V1Pod): void => {
    const name = pod.metadata?.name ?? '';
    const container = pod.spec?.containers[0] as V1Container;
    const wait = (reason: string, message: string): void =>
      updatePod(pod, (p) => {
        p.status = { ...p.status, containerStatuses: [{ name: container.name, image: container.image ?? '', imageID: '', ready: false, restartCount: 0, state: { waiting: { reason, message } } }] };
      });
    if (options.unpullableImages?.includes(container.image ?? '')) return wait('ImagePullBackOff', `Back-off pulling image "${container.image}"`);
    const env = resolveEnv(pod, container.env ?? []);
    if (typeof env === 'string') return wait('CreateContainerConfigError', env);
    const command = [...(container.command ?? []), ...(container.args ?? [])].map((part) => expand(part, env));
    const binary = options.binaries[command[0]];
    if (!binary) return wait('CreateContainerError', `executable file not found in $PATH: "${command[0]}"`);
    const [file, ...args] = [...binary, ...command.slice(1)];
    const child = spawn(file, args, { stdio: ['ignore', 'ignore', 'pipe'], env: { PATH: process.env.PATH ?? '', ...env } });
    processes.set(name, child);
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (chunk: string) => podLogs.set(name, (podLogs.get(name) ?? '') + chunk));
    updatePod(pod, (p) => {
      p.status = { ...p.status, phase: 'Running', podIP: '127.0.0.1', containerStatuses: [{ name: container.name, image: container.image ?? '', imageID: '', ready: true, restartCount: 0, state: { running: { startedAt: new Date() } } }] };
    });
    child.on('exit', (code, signal) => {
      processes.delete(name);
      if (!closing) setImmediate(scheduleWaiting);
      const exitCode = code ?? (signal === 'SIGKILL' ? 137 : 143);
      const terminated = { name: container.name, image: container.image ?? '', imageID: '', ready: false, restartCount: 0, state: { terminated: { exitCode, reason: exitCode === 0 ? 'Completed' : 'Error' } } };
      if (pod.metadata?.deletionTimestamp) {
        // the kubelet reports how the container ended before the pod object goes: the DELETED event carries it
        pod.status = { ...pod.status, containerStatuses: [terminated] };
        removePod(pod);
        return;
      }
      updatePod(pod, (p) => {
        p.status = { ...p.status, phase: exitCode === 0 ? 'Succeeded' : 'Failed', containerStatuses: [terminated] };
      });
      const jobName = pod.metadata?.labels?.['job-name'] ?? '';
      if (exitCode !== 0) backoffUntil.set(jobName, Date.now() + (options.failedPodBackoffMs ?? 1000));
      reconcile(jobName);
    });
  };

  const removePod = (pod: V1Pod): void => {
    const name = pod.metadata?.name ?? '';
    if (!pods.delete(name)) return;
    stamp(pod);
    emit('DELETED', pod);
    reconcile(pod.metadata?.labels?.['job-name'] ?? '');
  };

  const deletePod = (pod: V1Pod): void => {
    if (pod.metadata?.deletionTimestamp) return;
    const child = processes.get(pod.metadata?.name ?? '');
    if (!child) return removePod(pod);
    updatePod(pod, (p) => {
      p.metadata = { ...p.metadata, deletionTimestamp: new Date() };
    });
    child.kill('SIGTERM');
    // the grace period, shortened
    later(3000, () => child.kill('SIGKILL'));
  };

  // ------------------------------------------------------ Job controller

  const isActive = (p: V1Pod): boolean => !p.metadata?.deletionTimestamp && p.status?.phase !== 'Succeeded' && p.status?.phase !== 'Failed';
  const podsOf = (jobName: string): V1Pod[] => [...pods.values()].filter((p) => p.metadata?.labels?.['job-name'] === jobName);

  function reconcile(jobName: string): void {
    const job = jobs.get(jobName);
    if (!job || closing) return;
    const mine = podsOf(jobName);
    const active = mine.filter(isActive);
    const succeeded = mine.filter((p) => p.status?.phase === 'Succeeded').length;
    const want = Math.max(0, Math.min(job.spec?.parallelism ?? 1, (job.spec?.completions ?? Number.POSITIVE_INFINITY) - succeeded));
    if (active.length > want) {
      // newest first, as the Job controller prefers pods that did the least
      active.sort((a, b) => Number(b.metadata?.resourceVersion) - Number(a.metadata?.resourceVersion)).slice(0, active.length - want).forEach(deletePod);
      return;
    }
    const wait = (backoffUntil.get(jobName) ?? 0) - Date.now();
    if (active.length < want && wait > 0) return later(wait, () => reconcile(jobName));
    for (let n = active.length; n < want; n++) createPod(job);
  }

  const createPod = (job: V1Job): void => {
    const jobName = job.metadata?.name ?? '';
    const template = structuredClone(job.spec?.template ?? {});
    const pod: V1Pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        ...template.metadata,
        name: `${jobName}-${randomBytes(3).toString('hex').slice(0, 5)}`,
        namespace,
        uid: randomUUID(),
        creationTimestamp: new Date(),
        labels: { ...template.metadata?.labels, 'job-name': jobName, 'batch.kubernetes.io/job-name': jobName, 'controller-uid': job.metadata?.uid ?? '' },
        ownerReferences: [{ apiVersion: 'batch/v1', kind: 'Job', name: jobName, uid: job.metadata?.uid ?? '', controller: true }],
      },
      spec: template.spec,
      status: { phase: 'Pending' },
    };
    stamp(pod);
    pods.set(pod.metadata?.name ?? '', pod);
    emit('ADDED', pod);
    setImmediate(() => {
      if (!closing && pods.has(pod.metadata?.name ?? '')) schedule(pod);
    });
  };

  // ---------------------------------------------------------------- HTTP

  const readBody = (req: http.IncomingMessage): Promise<string> =>
    new Promise((resolve, reject) => {
      let text = '';
      req.setEncoding('utf8');
      req.on('data', (c: string) => (text += c));
      req.on('end', () => resolve(text));
      req.on('error', reject);
    });
  const send = (res: http.ServerResponse, code: number, body: unknown): void => {
    res.writeHead(code, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  };

  const handle = async (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const m = /^\/(?:api\/v1|apis\/batch\/v1)\/namespaces\/([^/]+)\/(jobs|secrets|pods)(?:\/([^/]+))?$/.exec(url.pathname);
    if (!m || (m[2] === 'jobs') !== url.pathname.startsWith('/apis/batch/v1/')) return status(res, 404, 'NotFound', `the server could not find the requested resource`);
    const [, ns, resource, name] = m;
    const watch = url.searchParams.get('watch') === 'true';
    const verb = watch ? 'watch' : { GET: name ? 'get' : 'list', POST: 'create', PATCH: 'patch', DELETE: 'delete' }[req.method ?? ''] ?? 'unknown';
    calls.push(`${verb} ${resource}${name ? `/${name}` : ''}`);
    const { group, kind } = RESOURCES[resource];
    const refusal = forbidden.get(`${verb} ${resource}`);
    if (refusal !== undefined) return status(res, 403, 'Forbidden', refusal);
    const failure = failures.get(`${verb} ${resource}`);
    if (failure) {
      failures.delete(`${verb} ${resource}`);
      return status(res, failure.code, failure.reason, failure.message);
    }
    if (ns !== namespace) return status(res, 403, 'Forbidden', `${resource}${group ? `.${group}` : ''} is forbidden: cannot ${verb} in the namespace "${ns}"`);
    const store = (resource === 'jobs' ? jobs : resource === 'secrets' ? secrets : pods) as Map<string, V1Job | V1Secret | V1Pod>;
    const notFound = (): void => status(res, 404, 'NotFound', `${resource}${group ? `.${group}` : ''} "${name}" not found`);
    const selector = url.searchParams.get('labelSelector');

    if (verb === 'watch') {
      const from = Number(url.searchParams.get('resourceVersion') ?? rv);
      res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
      for (const e of history) if (e.rv > from && matches(e.object.metadata?.labels, selector)) res.write(`${JSON.stringify({ type: e.type, object: e.object })}\n`);
      const watcher = { selector, res };
      watchers.add(watcher);
      req.on('close', () => watchers.delete(watcher));
      return;
    }
    if (verb === 'list') {
      const items = [...store.values()].filter((o) => matches(o.metadata?.labels, selector));
      return send(res, 200, { kind: `${kind}List`, apiVersion: group ? `${group}/v1` : 'v1', metadata: { resourceVersion: String(rv) }, items });
    }
    if (verb === 'create') {
      if (resource === 'pods') return status(res, 403, 'Forbidden', 'pods are made by the Job controller here');
      const obj = JSON.parse(await readBody(req)) as V1Job | V1Secret;
      const objName = obj.metadata?.name ?? '';
      if (obj.kind !== kind || !DNS_NAME.test(objName) || objName.length > 253) return status(res, 422, 'Invalid', `${kind} "${objName}" is invalid: metadata.name or kind`);
      if (store.has(objName)) return status(res, 409, 'AlreadyExists', `${resource}${group ? `.${group}` : ''} "${objName}" already exists`);
      obj.metadata = { ...obj.metadata, namespace, uid: randomUUID(), creationTimestamp: new Date() };
      stamp(obj);
      store.set(objName, obj);
      send(res, 201, obj);
      if (resource === 'jobs') reconcile(objName);
      return;
    }
    const obj = store.get(name);
    if (!obj) return notFound();
    if (verb === 'get') return send(res, 200, obj);
    if (verb === 'patch') {
      if (req.headers['content-type'] !== 'application/merge-patch+json') return status(res, 415, 'UnsupportedMediaType', `the body of the request was in an unknown format: ${req.headers['content-type']}`);
      const patched = mergePatch(obj, JSON.parse(await readBody(req))) as V1Job;
      stamp(patched);
      store.set(name, patched);
      send(res, 200, patched);
      if (resource === 'jobs') reconcile(name);
      return;
    }
    if (verb === 'delete') {
      if (resource === 'pods') {
        deletePod(obj as V1Pod);
      } else {
        store.delete(name);
        if (resource === 'jobs') for (const pod of podsOf(name)) deletePod(pod);
      }
      return send(res, 200, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', details: { name, kind: resource } });
    }
    status(res, 405, 'MethodNotAllowed', `${req.method} is not supported`);
  };

  const server = http.createServer((req, res) => {
    handle(req, res).catch((err: Error) => status(res, 500, 'InternalError', err.message));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    jobs: jobs as Map<string, V1Job>,
    secrets: secrets as Map<string, V1Secret>,
    pods,
    calls,
    forbid: (what, message) => forbidden.set(what, message),
    allow: (what) => forbidden.delete(what),
    failOnce: (what, code, reason, message) => failures.set(what, { code, reason, message }),
    killPod: (name) => processes.get(name)?.kill('SIGKILL'),
    forceDeletePod: (name) => {
      const pod = pods.get(name);
      if (!pod) return;
      removePod(pod);
      processes.get(name)?.kill('SIGKILL');
    },
    setNodeCapacity: (n) => {
      nodeCapacity = n;
      scheduleWaiting();
    },
    dropWatches: () => {
      for (const w of watchers) w.res.end();
      watchers.clear();
    },
    activePods: () => [...pods.values()].filter(isActive),
    empty: () => jobs.size === 0 && secrets.size === 0 && pods.size === 0,
    logs: (name) => podLogs.get(name) ?? '',
    close: async () => {
      closing = true;
      for (const t of timers) clearTimeout(t);
      for (const w of watchers) w.res.end();
      await Promise.all(
        [...processes.values()].map(
          (child) =>
            new Promise<void>((resolve) => {
              if (child.exitCode !== null || child.signalCode !== null) return resolve();
              child.once('exit', () => resolve());
              child.kill('SIGKILL');
            }),
        ),
      );
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
