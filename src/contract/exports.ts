import type { ApiResponse, RoundResult, StatsPoint, TaskStatus } from './api';
import type { LlmResult } from './llm-tables';
import type { Capacity, ThresholdResult, Verdict, VerdictOutcome } from './verdict';

/**
 * What leaves the controller for CI and people comparing rounds (SPEC 8):
 * one round's whole result, the rounds against one service, and two rounds
 * compared figure by figure.
 */

/** `GET` the rounds run against one service (`?service=NAME`), newest first: `bench history`. */
export const HISTORY_API_PATH = '/api/v2/benchmark-history';
/** `GET ?a=NAME[:ROUND]&b=NAME[:ROUND][&maxRegression=PCT][&html=1]`: `bench compare`. */
export const COMPARE_API_PATH = '/api/v2/benchmark-compare';

/** The versioned name of the round-result JSON (`bench report --format json`); a new version for any change that is not an added optional field. */
export const ROUND_RESULT_SCHEMA = 'eas-bench/round-result/v1';

/** One point of a latency percentile distribution: the response time (ms) at or below which `Percentile` % of requests finished. */
export interface PercentilePoint {
  Percentile: number;
  Ms: number;
}

/** `GET .../:name/result[?round=ID]`: a finished round, whole. */
export interface RoundResultResponse extends ApiResponse {
  Schema: typeof ROUND_RESULT_SCHEMA;
  TaskName: string;
  RoundId: number;
  ServiceName: string;
  Mode: string;
  Status: TaskStatus;
  StartTime: string;
  EndTime: string;
  Result: RoundResult;
  LLM?: LlmResult;
  Capacity?: Capacity;
  Thresholds: ThresholdResult[];
  Verdict: Verdict;
  /** The merged response-time histogram as a percentile distribution (0 … 99.999). */
  Percentiles: PercentilePoint[];
  Series: StatsPoint[];
}

/** One finished round in a service's history. */
export interface HistoryRound {
  TaskName: string;
  RoundId: number;
  StartTime: string;
  EndTime: string;
  Mode: string;
  /** scan and auto: the capacity found. */
  CapacityQPS?: number;
  QPS: number;
  TP99: number;
  ErrorRate: number;
  Outcome: VerdictOutcome;
}

export interface HistoryResponse extends ApiResponse {
  ServiceName: string;
  Rounds: HistoryRound[];
}

/** Which way a figure is better; `null`: it has no better side (a count) and is not judged. */
export type Better = 'higher' | 'lower' | null;
export type FigureVerdict = 'regressed' | 'improved' | 'within noise' | 'not judged';
export const FIGURE_VERDICTS: readonly FigureVerdict[] = ['regressed', 'improved', 'within noise', 'not judged'];

export interface CompareFigure {
  /** `QPS`, `TP99`, `TTFT.P99`, `Output Token Throughput`, ... */
  Figure: string;
  Section: 'HTTP' | 'LLM';
  A: number;
  B: number;
  /** B - A. */
  Diff: number;
  /** (B - A) / |A| × 100; null when A is 0 and B is not. */
  DiffPct: number | null;
  Better: Better;
  /** Two-sided p-value of the per-second test; null when a side has too few seconds (or the figure is not judged). */
  PValue: number | null;
  /** Seconds of each side the test used. */
  Samples: [number, number];
  Verdict: FigureVerdict;
}

export interface CompareSide {
  TaskName: string;
  RoundId: number;
  ServiceName: string;
  Mode: string;
  StartTime: string;
  Percentiles: PercentilePoint[];
}

export interface CompareResponse extends ApiResponse {
  A: CompareSide;
  B: CompareSide;
  /** The floor: a change smaller than this (percent) is never a regression. */
  MaxRegressionPct: number;
  /** The significance level of the test. */
  Alpha: number;
  Test: string;
  Figures: CompareFigure[];
  Regressed: number;
  Improved: number;
  /** With `html=1`: the comparison report. */
  Html?: string;
}
