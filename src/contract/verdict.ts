
/**
 * What a round concluded (SPEC 7): the cause classes of failed requests, the
 * thresholds' results, and the one verdict every surface prints. The
 * controller builds the verdict; the client only prints it and turns it into
 * an exit code, so `--wait`, desc, the report and the live page cannot differ.
 */

/**
 * Why a request failed, beside its status. `http status`: the service
 * answered in full with a status other than 200; `other`: a failure no class
 * names yet (never expected; counted so that classes always sum to errors).
 */
export const ERROR_CLASSES = [
  'connection refused',
  'connection reset',
  'timeout',
  'DNS',
  'TLS',
  'response cut',
  'protocol',
  'incomplete stream',
  'response too large',
  'http status',
  'other',
] as const;
export type ErrorClass = (typeof ERROR_CLASSES)[number];

export function isErrorClass(value: string): value is ErrorClass {
  return (ERROR_CLASSES as readonly string[]).includes(value);
}

/** Failed requests by cause class; classes with no failure are left out. */
export type ErrorClassCounts = Partial<Record<ErrorClass, number>>;

/** One threshold of the task's top-level `thresholds`, judged on the round's merged figures. */
export interface ThresholdResult {
  /** The result metric name as the task gives it: `TP99`, `ErrorRate`, `TTFT.P99`, ... */
  Metric: string;
  /** The expression as written: `< 200`. */
  Expr: string;
  /** The metric's value for the round (ms for times, a fraction for ErrorRate); null while nothing was measured. */
  Value: number | null;
  Passed: boolean;
  AbortOnFail?: boolean;
}

/**
 * `passed`: the round ended and every threshold held. `failed`: a threshold
 * failed. `no capacity`: scan or auto ended without finding a rate that met
 * its limits (thresholds, if any, held). `no result`: nothing to judge (the
 * task failed to start, or no request succeeded).
 */
export type VerdictOutcome = 'passed' | 'failed' | 'no capacity' | 'no result';

/** Why a round ended; `sweep`: an LLM sweep reached its verdict (docs/llm.md). */
export type EndReason = 'duration' | 'requestCount' | 'stopped' | 'threshold' | 'faultAction' | 'sweep' | 'shutdown' | 'error' | 'createFailed';

export interface Verdict {
  Outcome: VerdictOutcome;
  /** scan/auto: the capacity found, with the limit that bounded it (Capacity.Reason). */
  Capacity?: Capacity;
  /** Absent while the round runs. */
  EndReason?: EndReason;
  /** The end in words: `duration of 30 s reached`, `threshold TP99 < 200 failed (TP99 212.4 ms)`. */
  Ended?: string;
  Thresholds: ThresholdResult[];
  /** The verdict in one line, the same words everywhere (the last line of `--wait`). */
  Text: string;
}

/** Exit codes of `create --wait`, `start --wait` and `check` (SPEC 7; 99 and 98 as k6's). */
export const EXIT_CODES = { passed: 0, thresholdFailed: 99, noResult: 98, usageOrApi: 1, interrupted: 130 } as const;

/** The exit code a finished round's verdict gives. `no capacity` exits 0: the run ended and no threshold failed. */
export function exitCodeForVerdict(verdict: Pick<Verdict, 'Outcome'>): number {
  switch (verdict.Outcome) {
    case 'failed':
      return EXIT_CODES.thresholdFailed;
    case 'no result':
      return EXIT_CODES.noResult;
    default:
      return EXIT_CODES.passed;
  }
}

/** `generator`: the agents could not send the rate cleanly (the validity gate), so the search ended without a verdict on the service. */
export type CapacityReason = 'maxRT' | 'maxQPS' | 'faultTolerate' | 'saturation' | 'generator';

export interface Capacity {
  QPS: number;
  TP99: number;
  ErrorRate: number;
  Reason: CapacityReason;
}
