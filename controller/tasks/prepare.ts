import {
  BenchError,
  DataSpec,
  DEFAULTS,
  InvalidFieldError,
  MixedRequest,
  originProblem,
  LlmSpec,
  LlmWork,
  parseHeaderLine,
  replayPathThresholds,
  RequestTemplate,
  TaskSpec,
} from '../../src/contract';
import { DataLimits, DataPolicy, loadEntries } from '../data';
import { readReplay, type ReplayPlan } from '../data/replay';
import { llmRunWork, tokenizerName } from './llm-run-work';
import { readTrace } from './llm-trace';
import { ServiceRegistry } from '../services';

/** What preparing a round reads: where services are, and what data sources may read. */
export interface PrepareDeps {
  services: ServiceRegistry;
  dataLimits: DataLimits;
  dataPolicy: DataPolicy;
}

/** What the agents of a round are given, built once before it starts. */
export interface PreparedRound {
  request: RequestTemplate;
  /** requestCount: a trace's records, what the round sends in all (the round's requestCount in its place). */
  llm?: { spec: LlmSpec; work: LlmWork; requestCount?: number };
  /** A replay task: its log laid out (the template carries its requests and records). */
  replay?: ReplayPlan;
}

/** Most prompts taken from a ShareGPT file. */
const MAX_SHAREGPT_PROMPTS = 10_000;

/** Resolves the service, reads the task's data and builds what the agents send. */
export async function prepareRound(spec: TaskSpec, deps: PrepareDeps): Promise<PreparedRound> {
  if (spec.data?.replay) return replayRound(spec, spec.data.replay, deps);
  const request = await requestTemplate(spec, deps);
  if (!spec.llm) return { request };
  const work = await llmWork(spec, spec.llm, deps);
  return { request, llm: { spec: spec.llm, work, ...(work.source.kind === 'trace' ? { requestCount: work.source.records.length } : {}) } };
}

/** The task's headers (http.headers, then the service's token unless they authorize already). */
function taskHeaders(spec: TaskSpec, token: string | undefined): [string, string][] {
  const headers: [string, string][] = [];
  for (const line of spec.http?.headers ?? []) {
    const header = parseHeaderLine(line);
    if (header) headers.push([header.name, header.value]);
  }
  if (token && !headers.some(([name]) => name.toLowerCase() === 'authorization')) headers.push(['Authorization', token]);
  return headers;
}

/** A replay: the log read and laid out; the template's own fields are its first request's. */
async function replayRound(spec: TaskSpec, replaySpec: NonNullable<DataSpec['replay']>, deps: PrepareDeps): Promise<PreparedRound> {
  const target = deps.services.resolve(spec.service);
  const replay = await readReplay(replaySpec, target.url, taskHeaders(spec, target.token), deps.dataLimits, deps.dataPolicy);
  const names = replay.requests.names;
  const unknownPaths = replayPathThresholds(spec.thresholds).filter((t) => !names.includes(t.name));
  if (unknownPaths.length > 0) {
    const shown = `${names.slice(0, 10).join(', ')}${names.length > 10 ? `, ... (${names.length} in all)` : ''}`;
    throw new InvalidFieldError(unknownPaths.map((t) => ({ field: `thresholds.${t.metric}`, message: `the log has no requests counted as ${t.name}; its names are ${shown}` })));
  }
  const first = replay.requests.requests[0];
  const request: RequestTemplate = {
    url: first.url,
    method: first.method,
    headers: first.headers,
    bodies: first.bodies,
    timeoutMs: spec.http?.timeout ?? DEFAULTS.timeoutMs,
    replay: replay.requests,
  };
  return { request, replay };
}

async function requestTemplate(spec: TaskSpec, deps: PrepareDeps): Promise<RequestTemplate> {
  const target = deps.services.resolve(spec.service);
  // llm tasks send their own bodies (LlmWork); the data section is read there for the custom dataset
  const bodies = spec.llm ? [] : await loadEntries(spec.data, deps.dataLimits, deps.dataPolicy);
  const headers = taskHeaders(spec, target.token);
  if (spec.llm) {
    return { url: llmUrl(target.url, spec.llm.api), method: 'POST', headers, bodies: [], timeoutMs: spec.http?.timeout ?? DEFAULTS.llmTimeoutMs };
  }
  const timeoutMs = spec.http?.timeout ?? DEFAULTS.timeoutMs;
  if (spec.requests) {
    const mix = mixedRequests(spec, target.url, headers);
    return { url: mix[0].url, method: mix[0].method, headers: mix[0].headers, bodies: mix[0].bodies, timeoutMs, mix };
  }
  return {
    url: target.url,
    method: spec.http?.method ?? (bodies.length > 0 ? 'POST' : 'GET'),
    headers,
    bodies: bodies.map((b) => b.toString('base64')),
    timeoutMs,
  };
}

/**
 * The task's named requests, each complete: its URL on the service's origin
 * (checked again here: the service may come from the registry, whose URL the
 * validator did not see), the task's headers and then its own, its body.
 */
function mixedRequests(spec: TaskSpec, serviceUrl: string, taskHeaders: [string, string][]): MixedRequest[] {
  const origin = new URL(serviceUrl).origin;
  return (spec.requests ?? []).map((r, i) => {
    const url = r.url ?? `${origin}${r.path ?? '/'}`;
    const problem = originProblem(url, serviceUrl);
    if (problem) throw new InvalidFieldError([{ field: `requests[${i}].${r.url !== undefined ? 'url' : 'path'}`, message: problem }]);
    const headers: [string, string][] = [...taskHeaders];
    for (const line of r.headers ?? []) {
      const header = parseHeaderLine(line);
      if (header) headers.push([header.name, header.value]);
    }
    const body = r.body !== undefined ? Buffer.from(r.body, 'utf8').toString('base64') : r.data?.replace(/\s+/g, '');
    return { name: r.name, url, method: r.method ?? spec.http?.method ?? (body !== undefined ? 'POST' : 'GET'), headers, bodies: body !== undefined ? [body] : [], weight: r.weight ?? 1 };
  });
}

/** What the agents of an llm task send: synthetic parameters, ShareGPT prompts or custom bodies. */
async function llmWork(spec: TaskSpec, llm: LlmSpec, deps: PrepareDeps): Promise<LlmWork> {
  // ignore_eos is opt-in for every dataset, as the console makes it
  const base = {
    api: llm.api,
    model: llm.model,
    ignoreEos: llm.ignoreEos ?? false,
    ...(llm.tokenizer !== undefined ? { tokenizer: await loadTokenizerJson(llm.tokenizer, deps) } : {}),
    ...(llm.retries ? { retries: llm.retries } : {}),
    ...(llm.maxResponseBytes !== undefined ? { maxResponseBytes: llm.maxResponseBytes } : {}),
    ...(llm.warmupRequests ? { warmupRequests: llm.warmupRequests } : {}),
    ...llmRunWork(llm),
  };
  const dataset = llm.dataset ?? { type: 'synthetic' as const };
  switch (dataset.type) {
    case 'synthetic': {
      const input = dataset.inputTokens ?? [DEFAULTS.llmInputTokens, DEFAULTS.llmInputTokens];
      const output = dataset.outputTokens ?? [DEFAULTS.llmOutputTokens, DEFAULTS.llmOutputTokens];
      return { ...base, maxTokens: null, source: { kind: 'synthetic', inputTokens: input, outputTokens: output, seed: llm.seed ?? DEFAULTS.llmSeed } };
    }
    case 'custom': {
      const entries = await loadEntries(spec.data, deps.dataLimits, deps.dataPolicy);
      return { ...base, maxTokens: null, source: { kind: 'bodies', bodies: entries.map((b) => b.toString('utf8')) } };
    }
    case 'sharegpt': {
      const [file] = await loadEntries({ path: dataset.path }, deps.dataLimits, deps.dataPolicy);
      return { ...base, maxTokens: dataset.outputLength ?? null, source: { kind: 'prompts', prompts: sharegptPrompts(file.toString('utf8'), dataset.path) } };
    }
    case 'trace': {
      const [file] = await loadEntries({ path: dataset.path }, deps.dataLimits, deps.dataPolicy);
      const { records } = readTrace(file.toString('utf8'), dataset, llm.duration ?? DEFAULTS.llmDurationS);
      return { ...base, maxTokens: dataset.outputLength ?? null, source: { kind: 'trace', records, seed: llm.seed ?? DEFAULTS.llmSeed } };
    }
    case 'prefix': {
      const output = dataset.outputTokens ?? [DEFAULTS.llmOutputTokens, DEFAULTS.llmOutputTokens];
      const { prefixCount, prefixTokens, suffixTokens } = dataset;
      return { ...base, maxTokens: null, source: { kind: 'prefix', prefixCount, prefixTokens, suffixTokens, outputTokens: output, seed: llm.seed ?? DEFAULTS.llmSeed } };
    }
  }
}

/** llm.tokenizer: the tokenizer.json text, read like any data source; checked to be JSON here so a bad file fails the task, not every agent. */
async function loadTokenizerJson(path: string, deps: PrepareDeps): Promise<{ name: string; json: string }> {
  const [file] = await loadEntries({ path }, deps.dataLimits, deps.dataPolicy);
  const json = file.toString('utf8');
  try {
    const doc = JSON.parse(json) as { model?: { type?: unknown } } | null;
    if (typeof doc?.model?.type !== 'string') throw new Error('no model.type');
  } catch (err) {
    throw new BenchError('DataSourceFailed', `llm.tokenizer ${path}: not a Hugging Face tokenizer.json: ${(err as Error).message}`, { field: 'llm.tokenizer', resource: path });
  }
  return { name: tokenizerName(path), json };
}


/** The endpoint of an llm task: the service URL plus the API path, unless the URL already names one. */
export function llmUrl(serviceUrl: string, api: LlmSpec['api']): string {
  const url = new URL(serviceUrl);
  if (/\/v1\/(chat\/)?completions\/?$/.test(url.pathname)) return url.toString();
  url.pathname = `${url.pathname.replace(/\/+$/, '')}${api === 'chat' ? '/v1/chat/completions' : '/v1/completions'}`;
  return url.toString();
}

/** The first human turn of each ShareGPT conversation (`conversations: [{from, value}]` or `[{role, content}]`). */
export function sharegptPrompts(text: string, source: string): string[] {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new BenchError('DataSourceFailed', `llm.dataset.path ${source}: not valid JSON: ${(err as Error).message}`, { field: 'llm.dataset.path', resource: source });
  }
  const items = Array.isArray(doc) ? doc : [];
  const prompts: string[] = [];
  for (const item of items as Record<string, unknown>[]) {
    const turns = (item?.conversations ?? item?.conversation ?? item?.messages) as Record<string, unknown>[] | undefined;
    if (!Array.isArray(turns)) continue;
    const human = turns.find((t) => t && (t.from === 'human' || t.from === 'user' || t.role === 'user'));
    const value = human?.value ?? human?.content;
    if (typeof value === 'string' && value.trim()) prompts.push(value);
    if (prompts.length >= MAX_SHAREGPT_PROMPTS) break;
  }
  if (prompts.length === 0) throw new BenchError('DataSourceFailed', `llm.dataset.path ${source}: no conversation with a human turn`, { field: 'llm.dataset.path', resource: source });
  return prompts;
}
