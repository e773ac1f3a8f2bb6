/*
 * An agent's second, apart from protocol.ts (which checks the messages that
 * carry it), so frame-checks.ts reads it without importing its importer.
 */
import type { LlmRequestRecord, LlmSecondFrame } from './llm-protocol';
import type { ErrorClassCounts } from './verdict';

/**
 * How the agent itself fared in a second: the evidence that tells the
 * generator's own delay from the service's. All ms.
 */
export interface GeneratorHealth {
  /** Worst event-loop delay of the second. */
  loopDelayMaxMs: number;
  /** Garbage-collection pauses of the second: their sum and the longest. */
  gcPauseMs: number;
  gcPauseMaxMs: number;
  /** Time spent building, encoding and sending the previous second's frame. */
  frameMs: number;
  /** Longest time a request of the second waited for a free connection (0: none waited). */
  connectionWaitMaxMs: number;
}

/** One second of one agent. Histograms are HDR, microseconds, compressed base64. */
export interface AgentStatsFrame {
  /** Unix time of the second's start, seconds. */
  second: number;
  /** Responses completed in this second (any status). */
  requests: number;
  /** Requests sent in this second. */
  sent: number;
  statusCodes: Record<string, number>;
  /** Failed requests of the second by cause class (SPEC 7); absent from agents that do not name causes. */
  errorClasses?: ErrorClassCounts;
  bytesIn: number;
  bytesOut: number;
  /** Scheduled sends refused because the in-flight cap was reached. */
  dropped: number;
  inFlight: number;
  rtHistogram: string;
  /** Lag between scheduled and actual send (open loop), microseconds. */
  lagHistogram: string;
  /** Requests sent in this round so far, for requestCount accounting. */
  totalSent: number;
  /** p99 of the event loop's delay in this second, ms: high when the agent itself is the bottleneck. */
  eventLoopLagMs: number;
  /** The agent's own figures for the second (absent from agents that do not measure them). */
  generator?: GeneratorHealth;
  /** LLM tasks: per-request records completed this second (the controller writes them to disk, it does not keep them). */
  llmRecords?: LlmRequestRecord[];
  /** LLM tasks: the second's LLM histograms and counters, what every live and stored LLM figure is made of. */
  llm?: LlmSecondFrame;
  /** A task's named requests (requests.ts): the second's figures of each name that completed a request in it. */
  byName?: Record<string, NamedSecond>;
}

/** One named request's part of a second: its responses, those that failed, their latency (HDR, µs, compressed base64). */
export interface NamedSecond {
  requests: number;
  errors: number;
  rtHistogram: string;
}
