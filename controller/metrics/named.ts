import { roundTo, type NamedFigures, type NamedSecond } from '../../src/contract';
import { createLatencyHistogram, encodeHistogram, type LatencyHistogram, mergeInto, quantilesMs } from '../../src/measure/histogram';

/** One name's requests, errors and response times, merged (a second's, or a round's). */
export class NamedMerge {
  private readonly byName = new Map<string, { requests: number; errors: number; rt: LatencyHistogram }>();

  get size(): number {
    return this.byName.size;
  }

  add(name: string, requests: number, errors: number, rt: LatencyHistogram | string): void {
    let n = this.byName.get(name);
    if (!n) {
      n = { requests: 0, errors: 0, rt: createLatencyHistogram() };
      this.byName.set(name, n);
    }
    n.requests += requests;
    n.errors += errors;
    mergeInto(n.rt, rt);
  }

  addAll(byName: Record<string, NamedSecond> | undefined): void {
    for (const [name, n] of Object.entries(byName ?? {})) this.add(name, n.requests, n.errors, n.rtHistogram);
  }

  encoded(): Record<string, NamedSecond> {
    const out: Record<string, NamedSecond> = {};
    for (const [name, n] of this.byName) out[name] = { requests: n.requests, errors: n.errors, rtHistogram: encodeHistogram(n.rt) };
    return out;
  }

  /** Each name's figures, QPS over `durationS`, in the order the names were first seen. */
  figures(durationS: number): NamedFigures[] {
    return [...this.byName].map(([name, n]) => {
      const rt = quantilesMs(n.rt);
      return {
        Name: name,
        Requests: n.requests,
        Errors: n.errors,
        ErrorRate: n.requests === 0 ? 0 : roundTo(n.errors / n.requests, 6),
        QPS: roundTo(n.requests / Math.max(durationS, 1e-9), 3),
        TP50: rt.TP50,
        TP90: rt.TP90,
        TP99: rt.TP99,
        TP999: rt.TP999,
      };
    });
  }
}
