import { BenchError } from '../../src/contract';

/** The DataSourceFailed error a data read must end with (about `data.path`), for the test to look into. */
export async function dataSourceFailure(promise: Promise<unknown>): Promise<BenchError> {
  try {
    await promise;
  } catch (err) {
    expect(err).toBeInstanceOf(BenchError);
    expect((err as BenchError).code).toBe('DataSourceFailed');
    expect((err as BenchError).field).toBe('data.path');
    return err as BenchError;
  }
  throw new Error('expected loadEntries to fail');
}

/** Data entries as text. */
export const entriesText = (bufs: Buffer[]): string[] => bufs.map((b) => b.toString());
