import { randomBytes } from 'node:crypto';
import type { V1Pod } from '@kubernetes/client-node';
import { AgentLauncher, AgentLaunchSpec, AgentRound, LaunchedAgent } from '../launcher';
import { AgentCluster, KubernetesApiError, PodEventType } from './cluster';
import { AgentJobSettings, controllerSelector, LABELS, labelValue, renderAgentJob, renderRoundSecret, roundObjectName } from './manifests';

/** A call that met a transient error is tried again this often, this long apart, before the round fails. */
const MAX_RETRIES = 5;
const RETRY_DELAY_MS = 1000;
/** Container states that never get better by waiting: the round fails with the pod's reason instead of hanging. */
const FATAL_WAITING_REASONS = new Set(['ErrImagePull', 'ImagePullBackOff', 'InvalidImageName', 'CreateContainerConfigError', 'CreateContainerError']);

/** One agent of a round's Job: a pod once the Job controller made one and this slot took it. */
class Slot implements LaunchedAgent {
  /** The pod that is this agent, once one was bound to the slot. */
  podName?: string;
  killed = false;
  private exited = false;

  constructor(
    readonly spec: AgentLaunchSpec,
    private readonly job: RoundJob,
  ) {}

  get agentId(): string {
    return this.spec.agentId;
  }

  get sharedSecret(): string {
    return this.job.token;
  }

  answersTo(agentId: string): boolean {
    return !this.killed && this.podName === agentId;
  }

  /** Its pod waits for a node with room (Unschedulable): the round may start without it, and it joins when placed. */
  get waiting(): boolean {
    return this.podName !== undefined && this.job.pods.get(this.podName)?.unschedulable === true;
  }

  kill(): void {
    this.job.kill(this);
  }

  /** Its pod ended (or was deleted): the pool hears it once, as a local agent's exit. */
  exit(code: number | null, signal: NodeJS.Signals | null): void {
    if (this.exited) return;
    this.exited = true;
    this.spec.onExit(code, signal);
  }
}

interface PodView {
  slot?: Slot;
  terminal: boolean;
  /** Being deleted: it will not run an agent, so no seat waits for it. */
  deleting: boolean;
  /** No node has room for it now (PodScheduled False, Unschedulable). */
  unschedulable: boolean;
  createdMs: number;
}

/**
 * One round's agents as one Job and one Secret. API calls are made one at a
 * time, in order, by `sync`: create, then parallelism patches (down before a
 * pod is deleted, so the Job controller does not replace it), then deletes at
 * release. A refused call fails the round with the API server's line.
 */
class RoundJob {
  readonly name: string;
  readonly token = randomBytes(24).toString('base64url');
  /** Slots not killed: the parallelism the Job should have. */
  readonly slots: Slot[] = [];
  readonly pods = new Map<string, PodView>();
  private readonly podsToDelete = new Set<string>();
  /** What the API server accepted from this round: all that release deletes. */
  private readonly made = { secret: false, job: false };
  /** Tries in a row that met a transient error, and the timer of the next. */
  private retries = 0;
  private retryTimer?: NodeJS.Timeout;
  private parallelism = 0;
  private released = false;
  private failure?: string;
  private running?: Promise<void>;
  private again = false;

  constructor(
    readonly round: AgentRound,
    private readonly launcher: {
      cluster: AgentCluster;
      settings: AgentJobSettings;
      controllerWsUrl?: string;
      /** Resolves once leftovers are removed and pods are watched; rejects with why not. */
      ready(): Promise<void>;
      forget(job: RoundJob): void;
      log(line: string): void;
    },
  ) {
    this.name = roundObjectName(round);
  }

  add(spec: AgentLaunchSpec): Slot {
    const slot = new Slot(spec, this);
    this.slots.push(slot);
    this.bindWaitingPods();
    if (this.failure) {
      const failure = this.failure;
      setImmediate(() => spec.onError?.(failure));
    }
    this.sync();
    return slot;
  }

  kill(slot: Slot): void {
    if (slot.killed) return;
    slot.killed = true;
    this.slots.splice(this.slots.indexOf(slot), 1);
    const pod = slot.podName ? this.pods.get(slot.podName) : undefined;
    if (slot.podName && pod && !pod.terminal) this.podsToDelete.add(slot.podName);
    this.sync();
  }

  release(): void {
    this.released = true;
    for (const slot of [...this.slots]) this.kill(slot);
    this.sync();
  }

  /** Resolves when no call is in flight or queued. */
  async settled(): Promise<void> {
    while (this.running) await this.running;
  }

  onPod(type: PodEventType, pod: V1Pod): void {
    const name = pod.metadata?.name;
    if (!name) return;
    const known = this.pods.get(name);
    if (type === 'DELETED') {
      this.pods.delete(name);
      // a pod whose container had ended says how (a crash seen first as a lost socket, then deleted by us);
      // one removed with no ended container in its status (a forced delete) was stopped
      const terminated = pod.status?.containerStatuses?.[0]?.state?.terminated;
      if (terminated) known?.slot?.exit(terminated.exitCode, null);
      else known?.slot?.exit(null, 'SIGTERM');
      return;
    }
    const phase = pod.status?.phase;
    const terminal = phase === 'Succeeded' || phase === 'Failed';
    const created = pod.metadata?.creationTimestamp;
    const view: PodView = known ?? { terminal, deleting: false, unschedulable: false, createdMs: created ? new Date(created).getTime() : Date.now() };
    view.terminal = terminal;
    view.deleting = Boolean(pod.metadata?.deletionTimestamp);
    view.unschedulable = pod.status?.conditions?.some((c) => c.type === 'PodScheduled' && c.status === 'False' && c.reason === 'Unschedulable') === true;
    this.pods.set(name, view);
    if (!view.slot && !terminal && !view.deleting) this.bindWaitingPods();
    const status = pod.status?.containerStatuses?.[0];
    if (terminal) {
      view.slot?.exit(status?.state?.terminated?.exitCode ?? (phase === 'Succeeded' ? 0 : 1), null);
      return;
    }
    const waiting = status?.state?.waiting;
    if (waiting?.reason && FATAL_WAITING_REASONS.has(waiting.reason)) {
      this.fail(`agent pod ${name} cannot start: ${waiting.reason}${waiting.message ? `: ${waiting.message}` : ''}`);
    }
  }

  /** Pods the Job made before a slot wanted them (a replacement) take the free slots, oldest pod first. */
  private bindWaitingPods(): void {
    const free = this.slots.filter((s) => !s.podName);
    if (!free.length) return;
    const waiting = [...this.pods.entries()].filter(([, p]) => !p.slot && !p.terminal && !p.deleting).sort((a, b) => a[1].createdMs - b[1].createdMs);
    for (const [podName, pod] of waiting) {
      const slot = free.shift();
      if (!slot) return;
      slot.podName = podName;
      pod.slot = slot;
    }
  }

  private fail(message: string): void {
    if (this.failure || this.released) return;
    this.failure = message;
    this.launcher.log(message);
    // one line reaches the round: it stops, and its release deletes what was made
    this.slots[0]?.spec.onError?.(message);
  }

  /** Makes the cluster follow this object: one pass at a time; a change during a pass runs another. */
  private sync(): void {
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = (async () => {
      do {
        this.again = false;
        await this.syncOnce();
      } while (this.again);
    })().finally(() => {
      this.running = undefined;
    });
  }

  private async syncOnce(): Promise<void> {
    const { cluster, settings } = this.launcher;
    try {
      if (this.released) {
        clearTimeout(this.retryTimer);
        // only what this round made: a name already taken (409) belongs to someone else
        if (this.made.job) await cluster.deleteJob(this.name);
        this.made.job = false;
        if (this.made.secret) await cluster.deleteSecret(this.name);
        this.made.secret = false;
        this.launcher.forget(this);
        return;
      }
      if (this.failure) return;
      if (!this.made.job) {
        if (!this.slots.length) return;
        await this.launcher.ready();
        // released meanwhile: the pass that follows deletes what there is
        if (this.released) return;
        if (!this.made.secret) {
          await cluster.createSecret(renderRoundSecret(settings, this.round, this.token));
          this.made.secret = true;
        }
        const controllerWsUrl = this.launcher.controllerWsUrl ?? this.slots[0].spec.controllerWsUrl;
        const parallelism = this.slots.length;
        await cluster.createJob(renderAgentJob(settings, this.round, controllerWsUrl, parallelism));
        this.made.job = true;
        this.parallelism = parallelism;
      }
      if (this.parallelism !== this.slots.length) {
        const next = this.slots.length;
        await cluster.setParallelism(this.name, next);
        this.parallelism = next;
      }
      for (const podName of [...this.podsToDelete]) {
        await cluster.deletePod(podName);
        this.podsToDelete.delete(podName);
      }
      this.retries = 0;
    } catch (err) {
      const message = (err as Error).message;
      if (!this.released && isTransient(err) && this.retries < MAX_RETRIES) {
        // a blip of the API server (5xx, 429, the network) must not end a running benchmark
        this.retries++;
        this.launcher.log(`${message}; trying again in ${RETRY_DELAY_MS / 1000} s`);
        clearTimeout(this.retryTimer);
        this.retryTimer = setTimeout(() => this.sync(), RETRY_DELAY_MS);
        this.retryTimer.unref();
        return;
      }
      if (!this.released) return this.fail(message);
      // the round is over: nobody waits for it; the next controller start removes what is left
      this.launcher.log(`${message}; left for the cleanup at the next start`);
      this.launcher.forget(this);
    }
  }
}

/** Whether another try may succeed: the API server answered 429 or 5xx, or was not reached. */
function isTransient(err: unknown): boolean {
  if (!(err instanceof KubernetesApiError)) return false;
  return err.status === undefined || err.status === 429 || err.status >= 500;
}

export interface KubernetesLauncherOptions {
  cluster: AgentCluster;
  settings: AgentJobSettings;
  /** The ws URL agents dial from inside the cluster (the controller's Service); the URL the controller listens on when absent. */
  publicWsUrl?: string;
  /** Most agents running at once across rounds. */
  capacity?: number;
  log?: (line: string) => void;
}

/**
 * Runs each round's agents as a Kubernetes Job (see docs/distributed.md):
 * the pool's seats map onto the Job's pods, its size onto parallelism, and a
 * pod that ends onto the agent's exit, so the pool replaces it as it does a
 * local agent. One watch follows all of this controller's agent pods.
 */
export class KubernetesAgentLauncher implements AgentLauncher {
  readonly capacity: number;
  private readonly jobs = new Map<string, RoundJob>();
  private stopWatch?: () => void;
  private starting?: Promise<unknown>;
  private readonly log: (line: string) => void;

  constructor(private readonly options: KubernetesLauncherOptions) {
    this.capacity = options.capacity ?? Number.POSITIVE_INFINITY;
    this.log = options.log ?? (() => undefined);
  }

  /**
   * Removes the Jobs and Secrets of rounds this controller no longer runs
   * (left by a controller that died), then follows the agent pods.
   */
  start(): Promise<{ removedJobs: string[] }> {
    const started = this.removeLeftoversAndWatch();
    this.starting = started;
    return started;
  }

  private async removeLeftoversAndWatch(): Promise<{ removedJobs: string[] }> {
    const { cluster, settings } = this.options;
    const selector = controllerSelector(settings);
    // rounds launched meanwhile wait for this (ready), so every Job listed now is a leftover
    const removedJobs = (await cluster.listJobs(selector)).filter((name) => !this.jobs.has(name));
    for (const name of removedJobs) await cluster.deleteJob(name);
    for (const name of await cluster.listSecrets(selector)) if (!this.jobs.has(name)) await cluster.deleteSecret(name);
    if (removedJobs.length) this.log(`removed ${removedJobs.length} agent Job(s) of rounds this controller no longer runs: ${removedJobs.join(', ')}`);
    this.stopWatch = await cluster.watchPods(selector, (type, pod) => this.onPod(type, pod), (err) => this.log(`agent pod watch: ${err.message}`));
    return { removedJobs };
  }

  /** Resolves once started; a start the cluster refused is tried again here, so a fixed Role needs no controller restart. */
  private async ready(): Promise<void> {
    const current = this.starting;
    if (!current) return;
    try {
      await current;
    } catch {
      if (this.starting === current) this.starting = this.removeLeftoversAndWatch();
      await this.starting;
    }
  }

  launch(spec: AgentLaunchSpec): LaunchedAgent {
    const round: AgentRound = { taskName: spec.taskName, roundId: spec.roundId };
    const name = roundObjectName(round);
    let job = this.jobs.get(name);
    if (!job) {
      job = new RoundJob(round, {
        cluster: this.options.cluster,
        settings: this.options.settings,
        controllerWsUrl: this.options.publicWsUrl,
        ready: () => this.ready(),
        forget: (done) => {
          if (this.jobs.get(done.name) === done) this.jobs.delete(done.name);
        },
        log: this.log,
      });
      this.jobs.set(name, job);
    }
    return job.add(spec);
  }

  release(round: AgentRound): void {
    this.jobs.get(roundObjectName(round))?.release();
  }

  /** Deletes every round's Job and Secret and stops watching. */
  async shutdown(): Promise<void> {
    const jobs = [...this.jobs.values()];
    for (const job of jobs) job.release();
    await Promise.all(jobs.map((job) => job.settled()));
    this.stopWatch?.();
    this.stopWatch = undefined;
  }

  /** Names of the rounds' Jobs this launcher holds (tests and the API's view). */
  jobNames(): string[] {
    return [...this.jobs.keys()];
  }

  private onPod(type: PodEventType, pod: V1Pod): void {
    const labels = pod.metadata?.labels ?? {};
    for (const job of this.jobs.values()) {
      if (labels[LABELS.task] === labelValue(job.round.taskName) && labels[LABELS.round] === String(job.round.roundId)) {
        job.onPod(type, pod);
        return;
      }
    }
  }
}
