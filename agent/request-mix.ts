import { weightedCycle, type RequestTemplate } from '../src/contract';

/**
 * A template's requests in the order they are sent: the template itself, or
 * for a task's named requests (`mix`) one cycle of their weighted
 * round-robin. Each named request is prepared once (by `prepare`, the
 * sender's own encoding) and the cycle refers to it, so the sender's
 * round-robin over the prepared list is the weighted order, with nothing
 * added to the hot path; every agent starts the cycle at its beginning.
 */
export function preparedInCycle<Prepared>(template: RequestTemplate, prepare: (one: RequestTemplate) => Prepared[]): PreparedCycle<Prepared> {
  const replay = template.replay;
  if (replay) {
    // a replay's records pick their request by index: the list is the log's distinct requests
    const prepared = replay.requests.map((r) => prepare({ url: r.url, method: r.method, headers: r.headers, bodies: r.bodies, timeoutMs: template.timeoutMs })[0]);
    return { prepared, names: replay.requests.map((r) => r.name) };
  }
  const mix = template.mix;
  if (!mix) return { prepared: prepare(template), names: null };
  const each = mix.map((m) => prepare({ url: m.url, method: m.method, headers: m.headers, bodies: m.bodies, timeoutMs: template.timeoutMs })[0]);
  const cycle = weightedCycle(mix.map((m) => m.weight));
  return { prepared: cycle.map((i) => each[i]), names: cycle };
}

/** The prepared requests in sending order and, for named requests, the index of each one's name (in `mix`). */
export interface PreparedCycle<Prepared> {
  prepared: Prepared[];
  names: number[] | null;
}

/** Every request of the template (the named ones when it has them), for the checks that must hold for each. */
export function everyRequest(template: RequestTemplate): Pick<RequestTemplate, 'url' | 'method' | 'headers'>[] {
  return template.replay?.requests ?? template.mix ?? [template];
}
