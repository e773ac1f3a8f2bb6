import type { LlmLoad, LlmWork } from '../../src/contract';
import type { LoadContext, LoadDriver } from '../load-driver';
import { GammaArrivals, SeededRandom } from './prng';
import { messagesText, PreparedLlmRequest, promptFor, RequestSource, streamedBody } from './prompts';
import { countTokens } from './tokens';

type SessionsRun = Extract<NonNullable<LlmWork['run']>, { kind: 'sessions' }>;

/**
 * A conversation longer than this (some 250,000 tokens, past most models'
 * context) ends its session after the turn that made it so: the service
 * writes the answers a session keeps through its think time and sends back,
 * so a service answering megabytes must not make every waiting session hold
 * them turn after turn.
 */
export const MAX_CONVERSATION_CHARS = 1024 * 1024;

/** The turns the sessions driver hands the client, one per send. */
export class TurnQueue implements RequestSource {
  private readonly queue: PreparedLlmRequest[] = [];

  push(request: PreparedLlmRequest): void {
    this.queue.push(request);
  }

  next(): PreparedLlmRequest {
    const request = this.queue.shift();
    if (!request) throw new Error('no session turn is queued');
    return request;
  }
}

/** exp(N(mu, sigma)), from the seeded generator. */
export function logNormal(random: SeededRandom, spec: { mu: number; sigma: number }): number {
  return Math.exp(spec.mu + spec.sigma * random.normal());
}

/**
 * llm.mode sessions (the stress tester's realistic user): sessions arrive at
 * the load's rate (Gamma intervals, burstiness 1 = Poisson); each has
 * log-normal turns (rounded, 1..maxTurns), and between a turn's answer and the
 * next turn a log-normal think time. Every turn sends the whole conversation
 * so far (each user prompt and each answer), so the context grows across turns.
 * A failed turn ends its session, which then does not count as completed;
 * so does a conversation past MAX_CONVERSATION_CHARS.
 */
export class SessionsDriver implements LoadDriver<LlmLoad> {
  private active = false;
  private arrivalTimer: NodeJS.Timeout | null = null;
  private readonly thinkTimers = new Set<NodeJS.Timeout>();
  private readonly arrivals: GammaArrivals;
  private readonly random: SeededRandom;
  private startMs = 0;
  private dueS = 0;
  private sessions = 0;
  /** Dataset entries used so far: every turn's user prompt is the next entry. */
  private entries = 0;

  constructor(
    private readonly context: LoadContext,
    private readonly load: LlmLoad,
    private readonly work: LlmWork,
    private readonly run: SessionsRun,
    private readonly turns: TurnQueue,
    private readonly agentIndex: number,
    private readonly agentCount: number,
  ) {
    this.arrivals = new GammaArrivals(load.ratePerS, load.burstiness, load.seed);
    this.random = new SeededRandom((load.seed ^ 0x5e55) >>> 0);
  }

  start(): void {
    this.active = true;
    this.startMs = performance.now();
    this.arrive();
  }

  update(load: LlmLoad): boolean {
    return JSON.stringify(load) === JSON.stringify(this.load);
  }

  stop(): void {
    this.active = false;
    if (this.arrivalTimer) clearTimeout(this.arrivalTimer);
    this.arrivalTimer = null;
    for (const t of this.thinkTimers) clearTimeout(t);
    this.thinkTimers.clear();
  }

  private readonly arrive = (): void => {
    this.arrivalTimer = null;
    if (!this.active) return;
    const nowMs = performance.now();
    while (this.active && this.startMs + this.dueS * 1000 <= nowMs) {
      this.dueS += this.arrivals.nextIntervalS();
      const turns = Math.max(1, Math.min(this.run.maxTurns, Math.round(logNormal(this.random, this.run.turns))));
      this.turn(++this.sessions, 1, turns, []);
    }
    if (this.active) this.arrivalTimer = setTimeout(this.arrive, Math.max(1, Math.floor(this.startMs + this.dueS * 1000 - performance.now())));
  };

  /** Sends turn `turn` of `turns` with the conversation so far. */
  private turn(session: number, turn: number, turns: number, history: { role: string; content: string }[], historyChars = 0): void {
    if (!this.active || this.work.source.kind === 'bodies') return;
    const index = this.agentIndex + this.entries++ * this.agentCount;
    const { prompt, maxTokens } = promptFor(this.work, this.work.source, index);
    const messages = [...history, { role: 'user', content: prompt }];
    const chars = historyChars + prompt.length;
    const body = streamedBody(this.work, { messages }, maxTokens);
    this.turns.push({
      body: Buffer.from(JSON.stringify(body)),
      promptTokens: countTokens(messagesText(messages)),
      tags: { session, turn, ...(turn === turns ? { lastTurn: true } : {}) },
      onAnswer: (answer) => {
        if (answer === null || turn >= turns || !this.active || chars + answer.length > MAX_CONVERSATION_CHARS) return;
        const timer = setTimeout(() => {
          this.thinkTimers.delete(timer);
          this.turn(session, turn + 1, turns, [...messages, { role: 'assistant', content: answer }], chars + answer.length);
        }, logNormal(this.random, this.run.thinkTime) * 1000);
        this.thinkTimers.add(timer);
      },
    });
    const nowMs = performance.now();
    if (!this.context.trySend(nowMs, nowMs, null)) {
      this.turns.next(); // not sent: drop it from the queue
      this.stop();
    }
  }
}
