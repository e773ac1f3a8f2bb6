import { CLOSE_AGENT_CONNECTED, CLOSE_UNAUTHORIZED, checkPoolHello, PoolAgentToController, PoolHello } from '../../src/contract';
import { NonceMemory } from '../nonces';
import { PoolDoor, PoolLink } from './hub';
import { AgentLauncher, AgentLaunchSpec, LaunchedAgent } from './launcher';

/** A released agent that has not said its seat ended after this long is cut off (it rejoins, idle). */
const RELEASE_GRACE_MS = 10_000;
/** How often idle pool links are pinged unless `--pool-heartbeat-s` says otherwise. */
export const DEFAULT_POOL_HEARTBEAT_MS = 10_000;
/** The close code of a controller going away: pool agents reconnect with backoff (1012 "service restart"). */
export const CLOSE_RESTARTING = 1012;

/** One pool agent as `eascmd bench agents` shows it. */
export interface PoolMemberInfo {
  agentId: string;
  host: string;
  address: string;
  pid: number;
  state: 'idle' | 'busy';
  /** The seat it runs, when busy. */
  seat?: { agentId: string; taskName: string; roundId: number };
  joinedAtMs: number;
}

/** One launch of a round: waiting for an idle agent, then run by one. */
class PoolJob implements LaunchedAgent {
  member?: Member;
  exited = false;
  releaseTimer?: NodeJS.Timeout;

  constructor(
    readonly spec: AgentLaunchSpec,
    private readonly launcher: PoolAgentLauncher,
  ) {}

  get agentId(): string {
    return this.spec.agentId;
  }

  get pid(): number | undefined {
    return this.member?.link.pid;
  }

  get waiting(): boolean {
    return !this.exited && !this.member;
  }

  kill(graceMs = RELEASE_GRACE_MS): void {
    this.launcher.releaseSeat(this, graceMs);
  }
}

interface Member {
  readonly link: PoolLink;
  readonly joinedAtMs: number;
  job?: PoolJob;
}

/**
 * `--agent-launcher pool`: agents on any host join with a signed hello and
 * wait. A launch takes the idle agent that has waited longest, or waits in
 * line for one to join or come free; a released or finished seat sends its
 * agent back to wait. An agent whose link drops is lost to its round, which
 * launches again and so takes another idle agent. Nothing is started here:
 * the hosts run their agents themselves.
 */
export class PoolAgentLauncher implements AgentLauncher, PoolDoor {
  /** Launches wait in line, not capacity: a round starts with the agents there are and takes later joiners. */
  readonly capacity = Number.POSITIVE_INFINITY;
  private readonly members = new Map<string, Member>();
  private readonly line: PoolJob[] = [];
  private readonly nonces: NonceMemory;
  private closing = false;
  readonly heartbeatMs: number;

  constructor(
    private readonly keys: ReadonlyMap<string, string>,
    private readonly log: (line: string) => void = () => undefined,
    options: { maxNonces?: number; heartbeatMs?: number } = {},
  ) {
    this.nonces = new NonceMemory(options.maxNonces ?? 100_000);
    this.heartbeatMs = options.heartbeatMs ?? DEFAULT_POOL_HEARTBEAT_MS;
  }

  // ------------------------------------------------------------ launcher

  launch(spec: AgentLaunchSpec): LaunchedAgent {
    const job = new PoolJob(spec, this);
    this.line.push(job);
    this.match();
    return job;
  }

  /** Tells every busy agent to leave its seat and closes every link with "restarting": the agents come back to the next controller. */
  shutdown(): Promise<void> {
    this.closing = true;
    for (const job of this.line.splice(0)) this.finish(job, null, 'SIGTERM');
    for (const member of this.members.values()) {
      if (member.job) this.finish(member.job, null, 'SIGTERM');
      member.link.close(CLOSE_RESTARTING, 'controller stopping');
    }
    this.members.clear();
    return Promise.resolve();
  }

  /** A round lets go of its agent: a waiting launch leaves the line; a busy agent is told to leave its seat. */
  releaseSeat(job: PoolJob, graceMs: number): void {
    if (job.exited) return;
    const member = job.member;
    if (!member) {
      const place = this.line.indexOf(job);
      if (place >= 0) this.line.splice(place, 1);
      // a launcher reports an exit after the kill, never inside it
      queueMicrotask(() => this.finish(job, null, 'SIGTERM'));
      return;
    }
    if (job.releaseTimer) return;
    member.link.send({ type: 'release', agentId: job.agentId, reason: 'the round let the agent go' });
    job.releaseTimer = setTimeout(() => {
      if (job.exited) return;
      this.log(`pool agent ${member.link.agentId} did not leave seat ${job.agentId} within ${graceMs} ms; its link is closed`);
      member.link.close(1000, 'seat not released');
    }, graceMs);
    job.releaseTimer.unref();
  }

  // ---------------------------------------------------------------- door

  join(hello: PoolHello, link: PoolLink): void {
    const nowMs = Date.now();
    const verdict = checkPoolHello(hello, this.keys.get(hello.keyId), nowMs);
    if ('refused' in verdict) {
      this.log(`pool agent ${link.agentId} from ${link.address} refused: ${verdict.refused}`);
      return link.close(CLOSE_UNAUTHORIZED, verdict.refused);
    }
    const outcome = this.nonces.remember(hello.nonce, verdict.expiresMs, nowMs);
    if (outcome !== 'new') return link.close(CLOSE_UNAUTHORIZED, outcome === 'seen' ? 'pool hello replayed' : 'too many pool hellos; try again later');
    if (this.closing) return link.close(CLOSE_RESTARTING, 'controller stopping');
    // an id is never taken over: the agent holding it stays, the newcomer goes
    if (this.members.has(link.agentId)) return link.close(CLOSE_AGENT_CONNECTED, 'agent id already in the pool');
    this.members.set(link.agentId, { link, joinedAtMs: nowMs });
    link.send({ type: 'welcome', agentId: link.agentId, heartbeatMs: this.heartbeatMs });
    this.log(`pool agent ${link.agentId} joined from ${link.host} (${link.address}); ${this.members.size} in the pool`);
    this.match();
  }

  onMessage(link: PoolLink, message: PoolAgentToController): void {
    const member = this.members.get(link.agentId);
    if (!member || member.link !== link || message.type !== 'seat-ended') return;
    const job = member.job;
    if (!job || job.agentId !== message.agentId) return;
    member.job = undefined;
    // back at the end of the pool: the agents idle longer get the next seats
    this.members.delete(link.agentId);
    this.members.set(link.agentId, member);
    this.finish(job, 0, null);
    this.match();
  }

  onClose(link: PoolLink): void {
    const member = this.members.get(link.agentId);
    if (!member || member.link !== link) return;
    this.members.delete(link.agentId);
    this.log(`pool agent ${link.agentId} left the pool; ${this.members.size} remain`);
    // its seat is lost with it: the round launches again and so takes another idle agent
    if (member.job) this.finish(member.job, null, null);
  }

  // ------------------------------------------------------------ the list

  list(): PoolMemberInfo[] {
    return [...this.members.values()]
      .sort((a, b) => a.joinedAtMs - b.joinedAtMs || a.link.agentId.localeCompare(b.link.agentId))
      .map(({ link, joinedAtMs, job }) => ({
        agentId: link.agentId,
        host: link.host,
        address: link.address,
        pid: link.pid,
        state: job ? 'busy' : 'idle',
        ...(job ? { seat: { agentId: job.agentId, taskName: job.spec.taskName, roundId: job.spec.roundId } } : {}),
        joinedAtMs,
      }));
  }

  // ------------------------------------------------------------ matching

  /** Gives waiting launches, oldest first, to idle agents, longest idle first. */
  private match(): void {
    if (this.closing) return;
    for (const member of [...this.members.values()]) {
      if (member.job) continue;
      const job = this.line.shift();
      if (!job) return;
      member.job = job;
      job.member = member;
      member.link.send({ type: 'seat', agentId: job.agentId, token: job.spec.token, taskName: job.spec.taskName, roundId: job.spec.roundId });
    }
  }

  private finish(job: PoolJob, code: number | null, signal: NodeJS.Signals | null): void {
    if (job.exited) return;
    job.exited = true;
    clearTimeout(job.releaseTimer);
    if (job.member?.job === job) job.member.job = undefined;
    job.spec.onExit(code, signal);
  }
}
