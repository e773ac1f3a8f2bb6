import { applyOptionalUpdate, BenchError, TaskSpec } from '../../src/contract';

/** The spec a `bench update` body asks for: only `{"optional": {...}}` may change. */
export function updatedSpec(spec: TaskSpec, body: unknown): TaskSpec {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new BenchError('InvalidField', 'the update body must be {"optional": {...}}', { field: '' });
  }
  const { optional, ...rest } = body as Record<string, unknown>;
  const extra = Object.keys(rest);
  if (extra.length) throw new BenchError('InvalidField', `${extra[0]}: only optional.* can be updated`, { field: extra[0] });
  if (typeof optional !== 'object' || optional === null || Array.isArray(optional)) {
    throw new BenchError('InvalidField', 'optional: must be an object of the fields to change', { field: 'optional' });
  }
  return applyOptionalUpdate(spec, optional as Record<string, unknown>);
}
