import axios, { AxiosInstance, isAxiosError } from 'axios';
import {
  AGENTS_API_PATH,
  API_PREFIX,
  COMPARE_API_PATH,
  CompareResponse,
  HISTORY_API_PATH,
  HistoryResponse,
  RoundResultResponse,
  BenchError,
  CONTROLLER_INFO_PATH,
  ControllerInfoResponse,
  controllerInfoProof,
  CreateTaskResponse,
  DATE_HEADER,
  GetTaskResponse,
  HealthResponse,
  ListAgentsResponse,
  ListTasksResponse,
  LlmRecomputeResponse,
  LlmRecordsResponse,
  NONCE_HEADER,
  OptionalUpdate,
  ReportResponse,
  SimpleTaskResponse,
  StatsResponse,
  VerdictResponse,
  TaskSpec,
  UpdateTaskResponse,
  authorizationHeader,
  newNonce,
  signRequest,
  signaturesEqual,
} from '../contract';
import { errorFromResponse } from './errors';

/**
 * The controller's REST API, one typed method per route. Every request is
 * signed (SPEC 4.2) over the exact bytes sent; every error answer becomes an
 * ApiError (a BenchError) and a failed connection a ControllerUnreachable
 * BenchError naming the endpoint.
 */

export interface ControllerClientOptions {
  /** `http://127.0.0.1:8020`; a path prefix (behind a gateway) is kept. */
  endpoint: string;
  accessId: string;
  accessKey: string;
  timeoutMs?: number;
  /** Clock for x-eas-date (tests). */
  now?: () => Date;
}

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'DELETE';

export interface SignedRequest {
  url: string;
  headers: Record<string, string>;
}

const DEFAULT_TIMEOUT_MS = 30_000;

const NETWORK_REASONS: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'host name lookup failed',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ETIMEDOUT: 'connection timed out',
  ECONNABORTED: 'request timed out',
  ERR_SOCKET_CONNECTION_TIMEOUT: 'connection timed out',
};

function isLoopback(hostname: string): boolean {
  return hostname === 'localhost' || hostname === '[::1]' || hostname === '::1' || /^127\./.test(hostname);
}

/** Parses and checks an endpoint URL; returns it without a trailing slash. */
export function normalizeEndpoint(endpoint: string): string {
  let url: URL;
  try {
    url = new URL(endpoint.trim());
  } catch {
    throw new BenchError('InvalidParameter', `endpoint ${JSON.stringify(endpoint)} is not a URL (expected e.g. http://127.0.0.1:8020)`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new BenchError('InvalidParameter', `endpoint ${endpoint} must use http or https`);
  }
  if (url.search || url.hash) throw new BenchError('InvalidParameter', `endpoint ${endpoint} must not have a query or fragment`);
  return url.toString().replace(/\/+$/, '');
}

function taskPath(region: string, taskName: string, suffix = ''): string {
  return `${API_PREFIX}/${encodeURIComponent(region)}/${encodeURIComponent(taskName)}${suffix}`;
}

function parseJson(text: string): unknown {
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

export class ControllerClient {
  readonly endpoint: string;
  private readonly base: URL;
  private readonly http: AxiosInstance;
  private readonly accessId: string;
  private readonly accessKey: string;
  private readonly now: () => Date;

  constructor(options: ControllerClientOptions) {
    this.endpoint = normalizeEndpoint(options.endpoint);
    this.base = new URL(this.endpoint);
    this.accessId = options.accessId;
    this.accessKey = options.accessKey;
    this.now = options.now ?? (() => new Date());
    this.http = axios.create({
      timeout: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
      // Status codes are ours to interpret (error bodies carry Code/Message).
      validateStatus: () => true,
      // Take the body as text and parse it ourselves, so a non-JSON answer
      // (a proxy's HTML page) becomes a clear error instead of a crash.
      responseType: 'text',
      transformResponse: [(data: unknown) => data],
      // The body is signed: send exactly the bytes we hashed.
      transformRequest: [(data: unknown) => data],
      maxRedirects: 0,
      // An HTTP(S)_PROXY from the environment cannot reach this machine's loopback.
      ...(isLoopback(this.base.hostname) ? { proxy: false as const } : {}),
    });
  }

  // --- routes -------------------------------------------------------------

  createTask(task: TaskSpec): Promise<CreateTaskResponse> {
    return this.call<CreateTaskResponse>('POST', API_PREFIX, task);
  }

  listTasks(): Promise<ListTasksResponse> {
    return this.call<ListTasksResponse>('GET', API_PREFIX);
  }

  /** The agents: the pool's under the pool launcher, else those of running rounds. */
  listAgents(): Promise<ListAgentsResponse> {
    return this.call<ListAgentsResponse>('GET', AGENTS_API_PATH);
  }

  /** `wholeConfig`: the Config's data.content uncut (`?config=whole`, for `bench desc --json`); polls leave it cut. */
  getTask(region: string, taskName: string, options: { wholeConfig?: boolean } = {}): Promise<GetTaskResponse> {
    return this.call<GetTaskResponse>('GET', taskPath(region, taskName), undefined, options.wholeConfig ? { config: 'whole' } : undefined);
  }

  /** Live update of optional fields (`bench update -Doptional.KEY=VALUE`). */
  updateTask(region: string, taskName: string, optional: OptionalUpdate): Promise<UpdateTaskResponse> {
    return this.call<UpdateTaskResponse>('PUT', taskPath(region, taskName), { optional });
  }

  startTask(region: string, taskName: string): Promise<SimpleTaskResponse> {
    return this.call<SimpleTaskResponse>('PUT', taskPath(region, taskName, '/start'));
  }

  stopTask(region: string, taskName: string): Promise<SimpleTaskResponse> {
    return this.call<SimpleTaskResponse>('PUT', taskPath(region, taskName, '/stop'));
  }

  deleteTask(region: string, taskName: string): Promise<SimpleTaskResponse> {
    return this.call<SimpleTaskResponse>('DELETE', taskPath(region, taskName));
  }

  getReport(region: string, taskName: string, roundId?: number): Promise<ReportResponse> {
    return this.call<ReportResponse>('GET', taskPath(region, taskName, '/report'), undefined, roundId === undefined ? undefined : { round: String(roundId) });
  }

  getStats(region: string, taskName: string): Promise<StatsResponse> {
    return this.call<StatsResponse>('GET', taskPath(region, taskName, '/stats'));
  }

  /** A finished round judged again (`bench check`): the current round, or `roundId`. */
  getVerdict(region: string, taskName: string, roundId?: number): Promise<VerdictResponse> {
    return this.call<VerdictResponse>('GET', taskPath(region, taskName, '/verdict'), undefined, roundId === undefined ? undefined : { round: String(roundId) });
  }

  /** A finished round whole (`bench report --format json|junit`): the current round, or `roundId`. */
  getRoundResult(region: string, taskName: string, roundId?: number): Promise<RoundResultResponse> {
    return this.call<RoundResultResponse>('GET', taskPath(region, taskName, '/result'), undefined, roundId === undefined ? undefined : { round: String(roundId) });
  }

  /** The finished rounds against one service, newest first (`bench history`). */
  getHistory(serviceName: string): Promise<HistoryResponse> {
    return this.call<HistoryResponse>('GET', HISTORY_API_PATH, undefined, { service: serviceName });
  }

  /** Two rounds compared figure by figure; `a` and `b` are `TASK` or `TASK:ROUND`; `html`: the comparison report too. */
  compareRounds(a: string, b: string, options: { maxRegressionPct?: number; html?: boolean } = {}): Promise<CompareResponse> {
    const query: Record<string, string> = { a, b };
    if (options.maxRegressionPct !== undefined) query.maxRegression = String(options.maxRegressionPct);
    if (options.html) query.html = '1';
    return this.call<CompareResponse>('GET', COMPARE_API_PATH, undefined, query);
  }

  /** Every per-request record of an llm task's current (or last) round. */
  getLlmRecords(region: string, taskName: string): Promise<LlmRecordsResponse> {
    return this.call<LlmRecordsResponse>('GET', taskPath(region, taskName, '/records'), undefined, { format: 'json' });
  }

  /** The `LLM` section computed again, exactly, from the stored records; `steady` and `percentiles` as `bench recompute` takes them. */
  recomputeLlm(region: string, taskName: string, options: { steady?: string; percentiles?: string } = {}): Promise<LlmRecomputeResponse> {
    const query: Record<string, string> = {};
    if (options.steady !== undefined) query.steady = options.steady;
    if (options.percentiles !== undefined) query.percentiles = options.percentiles;
    return this.call<LlmRecomputeResponse>('GET', taskPath(region, taskName, '/recompute'), undefined, query);
  }

  /** The same records as the controller's CSV, one line per request after the header. */
  async getLlmRecordsCsv(region: string, taskName: string): Promise<string> {
    return (await this.send('GET', taskPath(region, taskName, '/records'), undefined, { format: 'csv' }, 'text/csv')).text;
  }

  /** `GET /healthz` (no auth): true when the controller answers 2xx. Never throws. */
  async health(timeoutMs = 1000): Promise<boolean> {
    try {
      const res = await this.http.get<string>(this.url('/healthz').toString(), { timeout: timeoutMs });
      return res.status >= 200 && res.status < 300;
    } catch {
      return false;
    }
  }

  /** `GET /healthz` as the controller answered it, or undefined when nothing (or something else) answers. Never throws. */
  async healthInfo(timeoutMs = 1000): Promise<HealthResponse | undefined> {
    try {
      const res = await this.http.get<string>(this.url('/healthz').toString(), { timeout: timeoutMs });
      if (res.status !== 200) return undefined;
      const body: unknown = JSON.parse(res.data);
      if (typeof body !== 'object' || body === null) return undefined;
      const h = body as Partial<HealthResponse>;
      if (h.Status !== 'ok' || typeof h.Region !== 'string') return undefined;
      return { Status: 'ok', Region: h.Region };
    } catch {
      return undefined;
    }
  }

  /**
   * `GET /api/v2/controller` (signed): the controller's pid and version, when
   * its answer proves (ControllerInfoResponse.Proof, over the nonce sent
   * here) that it holds this client's secret; undefined otherwise, or when
   * nothing answers. Never throws.
   */
  async controllerInfo(timeoutMs = 1500): Promise<{ Pid: number; Version: string } | undefined> {
    const url = this.url(CONTROLLER_INFO_PATH);
    const headers = this.signedHeaders('GET', url.pathname + url.search);
    try {
      const res = await this.http.get<string>(url.toString(), { headers, timeout: timeoutMs });
      if (res.status !== 200) return undefined;
      const info = JSON.parse(res.data) as Partial<ControllerInfoResponse> | null;
      if (typeof info?.Pid !== 'number' || typeof info.Version !== 'string' || typeof info.Proof !== 'string') return undefined;
      const expected = controllerInfoProof(this.accessKey, headers[NONCE_HEADER], info.Pid, info.Version);
      return signaturesEqual(expected, info.Proof) ? { Pid: info.Pid, Version: info.Version } : undefined;
    } catch {
      return undefined;
    }
  }

  // --- helpers for the statsview's websocket --------------------------------

  /** `ws(s)://HOST/api/v2/benchmark-tasks/{Region}/{TaskName}/stats/stream`. */
  statsStreamUrl(region: string, taskName: string): string {
    const url = this.url(taskPath(region, taskName, '/stats/stream'));
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    return url.toString();
  }

  /**
   * The auth headers for one request. `pathWithQuery` is the path as sent
   * (including an endpoint's path prefix); `body` the exact bytes sent. The
   * nonce is new each time: the controller refuses a request it has seen, so
   * a retry or a reconnect signs again.
   */
  signedHeaders(method: string, pathWithQuery: string, body?: string | Uint8Array): Record<string, string> {
    const date = this.now().toUTCString();
    const nonce = newNonce();
    const signature = signRequest(this.accessKey, method, pathWithQuery, date, nonce, body);
    return { Authorization: authorizationHeader(this.accessId, signature), [DATE_HEADER]: date, [NONCE_HEADER]: nonce };
  }

  /** The stats stream's URL with its signed headers, ready for `new WebSocket(url, { headers })`. */
  statsStreamRequest(region: string, taskName: string): SignedRequest {
    const url = this.statsStreamUrl(region, taskName);
    const parsed = new URL(url);
    return { url, headers: this.signedHeaders('GET', parsed.pathname + parsed.search) };
  }

  // --- plumbing --------------------------------------------------------------

  /** An API path (and query) resolved against the endpoint, keeping its path prefix. */
  private url(apiPath: string, query?: Record<string, string>): URL {
    const prefix = this.base.pathname.replace(/\/+$/, '');
    const url = new URL(this.base.toString());
    url.pathname = prefix + apiPath;
    if (query) url.search = new URLSearchParams(query).toString();
    return url;
  }

  private async call<T>(method: HttpMethod, apiPath: string, body?: unknown, query?: Record<string, string>): Promise<T> {
    const { status, text, pathWithQuery } = await this.send(method, apiPath, body, query, 'application/json');
    const parsed = parseJson(text);
    if (typeof parsed !== 'object' || parsed === null) {
      throw new BenchError('InternalError', `unexpected answer from the controller at ${this.endpoint} to ${method} ${pathWithQuery} (HTTP ${status}, not JSON)`);
    }
    return parsed as T;
  }

  /** One signed request; a 2xx answer's text, or the error answer as an ApiError. */
  private async send(method: HttpMethod, apiPath: string, body: unknown, query: Record<string, string> | undefined, accept: string): Promise<{ status: number; text: string; pathWithQuery: string }> {
    const url = this.url(apiPath, query);
    // Sign the path exactly as it goes on the wire (URL normalization applied).
    const pathWithQuery = url.pathname + url.search;
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body), 'utf8');
    const headers: Record<string, string> = {
      ...this.signedHeaders(method, pathWithQuery, payload),
      // Error answers are JSON whatever was asked for.
      Accept: accept === 'application/json' ? accept : `${accept}, application/json`,
    };
    if (payload) headers['Content-Type'] = 'application/json';
    let status: number;
    let text: string;
    try {
      const res = await this.http.request<string>({ method, url: url.toString(), data: payload, headers });
      status = res.status;
      text = typeof res.data === 'string' ? res.data : '';
    } catch (err) {
      throw this.networkError(err);
    }
    if (status < 200 || status >= 300) throw errorFromResponse(status, parseJson(text), text);
    return { status, text, pathWithQuery };
  }

  private networkError(err: unknown): BenchError {
    const code = isAxiosError(err) ? err.code : undefined;
    const cause = err instanceof Error ? err.cause : undefined;
    const causeCode = cause instanceof Error && 'code' in cause && typeof cause.code === 'string' ? cause.code : undefined;
    const reason = NETWORK_REASONS[code ?? ''] ?? NETWORK_REASONS[causeCode ?? ''] ?? (err instanceof Error ? err.message : String(err));
    return new BenchError('ControllerUnreachable', `cannot reach the controller at ${this.endpoint}: ${reason}`, { resource: this.endpoint });
  }
}
