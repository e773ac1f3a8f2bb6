import { applyOptionalUpdate, BenchError, OptionalUpdate, TaskSpec } from '../../src/contract';

/** A `bench update` body checked against the task: the spec it asks for, and the changed fields (for the stored options). */
export interface UpdatedTask {
  spec: TaskSpec;
  changes: OptionalUpdate;
}

/** The spec a `bench update` body asks for: only `{"optional": {...}}` may change. */
export function updatedSpec(spec: TaskSpec, body: unknown): UpdatedTask {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new BenchError('InvalidField', 'the update body must be {"optional": {...}}', { field: '' });
  }
  const { optional, ...rest } = body as Record<string, unknown>;
  const extra = Object.keys(rest);
  if (extra.length) throw new BenchError('InvalidField', `${extra[0]}: only optional.* can be updated`, { field: extra[0] });
  if (typeof optional !== 'object' || optional === null || Array.isArray(optional)) {
    throw new BenchError('InvalidField', 'optional: must be an object of the fields to change', { field: 'optional' });
  }
  const changes = optional as Record<string, unknown>;
  // applyOptionalUpdate refuses any key the task's mode does not allow and checks every value
  return { spec: applyOptionalUpdate(spec, changes), changes: changes as OptionalUpdate };
}
