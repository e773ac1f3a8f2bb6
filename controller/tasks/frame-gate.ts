import { AGENT_LIMITS, recordValueCount, type AgentStatsFrame, type Clock } from '../../src/contract';
import { decodeFrame, FrameRefused, type DecodedFrame } from '../metrics/frame-histograms';
import { FRAME_INFLATE_BUDGET_BYTES } from '../../src/measure/histogram';

/**
 * How far a frame's second may be from the controller's clock: ahead of
 * the current second (an agent sends a second once it is over, so a frame
 * ahead of the clock is a clock set wrong, or made up), and before the
 * round began. Agents on other hosts must keep their clocks within this
 * of the controller's (NTP does, by far); docs/distributed.md.
 */
export const CLOCK_AHEAD_S = 5;
export const CLOCK_BEHIND_S = 5;
/**
 * What one agent may have waiting in seconds not yet final, counted as
 * records plus their inter-token gaps (~8 MB of numbers): four of the
 * seconds an agent may fill at the most (it trims gaps past
 * AGENT_LIMITS.secondRecordValues), where an honest agent has one to three
 * seconds waiting; frames over it are
 * refused, so no agent can grow the controller's memory by sending seconds
 * that are not final yet, nor make the write of one second's records
 * (synchronous, with the second) long.
 */
export const PENDING_VALUES_PER_AGENT = 4 * AGENT_LIMITS.secondRecordValues;
/**
 * Histogram bytes one agent may have inflated, as a bucket that refills
 * this much a second (and holds at most twice it): a real agent's histograms
 * take a few KB a second; a frame that finds less than one frame's budget
 * (FRAME_INFLATE_BUDGET_BYTES) left is refused before it is decoded, so no
 * agent can keep the controller's CPU decoding.
 */
export const INFLATE_BYTES_PER_AGENT_S = 2 * FRAME_INFLATE_BUDGET_BYTES;

class AgentAccount {
  /** Per second not yet final: responses counted, and records plus gaps held. */
  readonly seconds = new Map<number, { requests: number; values: number }>();
  values = 0;
  inflateLeft = 2 * INFLATE_BYTES_PER_AGENT_S;
  refilledAtMs: number;

  constructor(nowMs: number) {
    this.refilledAtMs = nowMs;
  }
}

function recordValues(frame: AgentStatsFrame): number {
  let values = 0;
  for (const r of frame.llmRecords ?? []) values += recordValueCount(r);
  return values;
}

/**
 * Admits the frames of one round's agents: checked against the controller's
 * clock, against what the agent already sent for the same second, against
 * what it may hold waiting, and their histograms decoded within budgets.
 * What fails throws FrameRefused naming the field; the frame then counts
 * nowhere, and the agent's other frames still do.
 */
export class FrameGate {
  private readonly accounts = new Map<string, AgentAccount>();

  constructor(
    /** The controller's clock, which frames are checked against and budgets refill by. */
    private readonly clock: Pick<Clock, 'nowMs'>,
    /** When the round began (its agents were first launched). */
    private readonly startMs: number,
  ) {}

  /**
   * `second`: where the round folds the frame (a second already final goes
   * into the next one). Returns the frame's decoded histograms.
   */
  admit(agentId: string, frame: AgentStatsFrame, second: number): DecodedFrame {
    const nowMs = this.clock.nowMs();
    const nowS = Math.floor(nowMs / 1000);
    if (frame.second > nowS + CLOCK_AHEAD_S) {
      throw new FrameRefused('frame.second', `${frame.second} is ${frame.second - nowS} s ahead of the controller's clock (at most ${CLOCK_AHEAD_S})`);
    }
    const startS = Math.floor(this.startMs / 1000);
    if (frame.second < startS - CLOCK_BEHIND_S) {
      throw new FrameRefused('frame.second', `${frame.second} is ${startS - frame.second} s before the round began (at most ${CLOCK_BEHIND_S})`);
    }
    let account = this.accounts.get(agentId);
    if (!account) this.accounts.set(agentId, (account = new AgentAccount(nowMs)));
    const held = account.seconds.get(second) ?? { requests: 0, values: 0 };
    if (held.requests + frame.requests > AGENT_LIMITS.frameCount) {
      throw new FrameRefused('frame.requests', `brings this agent's responses of second ${second} to ${held.requests + frame.requests}, over ${AGENT_LIMITS.frameCount}`);
    }
    const values = recordValues(frame);
    if (account.values + values > PENDING_VALUES_PER_AGENT) {
      throw new FrameRefused('frame.llmRecords', `would have this agent hold ${account.values + values} record values in seconds not final yet, over ${PENDING_VALUES_PER_AGENT}`);
    }
    this.refill(account, nowMs);
    if (account.inflateLeft < FRAME_INFLATE_BUDGET_BYTES) {
      throw new FrameRefused('frame', `histograms come faster than ${INFLATE_BYTES_PER_AGENT_S} inflated bytes a second from this agent`);
    }
    const decoded = decodeFrame(frame, (bytes) => (account.inflateLeft -= bytes));
    held.requests += frame.requests;
    held.values += values;
    account.seconds.set(second, held);
    account.values += values;
    return decoded;
  }

  /** Seconds through `second` are final: what the agents held for them is freed. */
  finalized(second: number): void {
    for (const account of this.accounts.values()) {
      for (const [s, held] of account.seconds) {
        if (s > second) continue;
        account.values -= held.values;
        account.seconds.delete(s);
      }
    }
  }

  private refill(account: AgentAccount, nowMs: number): void {
    const elapsedS = Math.max(0, nowMs - account.refilledAtMs) / 1000;
    account.refilledAtMs = nowMs;
    account.inflateLeft = Math.min(2 * INFLATE_BYTES_PER_AGENT_S, account.inflateLeft + elapsedS * INFLATE_BYTES_PER_AGENT_S);
  }
}
