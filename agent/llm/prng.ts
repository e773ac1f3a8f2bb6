/**
 * Seeded random numbers for reproducible schedules and prompts: the same
 * seed gives the same sequence on every machine (no Math.random()).
 */
export class SeededRandom {
  private state: number;
  private spareNormal: number | null = null;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** mulberry32: uniform in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Uniform integer in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  /** Standard normal (Box-Muller, the second value kept for the next call). */
  normal(): number {
    if (this.spareNormal !== null) {
      const v = this.spareNormal;
      this.spareNormal = null;
      return v;
    }
    let u = 0;
    while (u === 0) u = this.next();
    const v = this.next();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spareNormal = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }

  /** Gamma(shape, scale) by Marsaglia-Tsang; shape < 1 via Gamma(shape + 1) * U^(1/shape). */
  gamma(shape: number, scale: number): number {
    if (shape < 1) {
      let u = 0;
      while (u === 0) u = this.next();
      return this.gamma(shape + 1, scale) * Math.pow(u, 1 / shape);
    }
    const d = shape - 1 / 3;
    const c = 1 / Math.sqrt(9 * d);
    for (;;) {
      let x: number;
      let v: number;
      do {
        x = this.normal();
        v = 1 + c * x;
      } while (v <= 0);
      v = v * v * v;
      const u = this.next();
      if (u < 1 - 0.0331 * x * x * x * x) return d * v * scale;
      if (Math.log(u) < 0.5 * x * x + d * (1 - v + Math.log(v))) return d * v * scale;
    }
  }
}

/**
 * Arrival intervals of the `rate` test mode, seconds: Gamma(shape = burstiness,
 * scale = 1/(rate*burstiness)), so the mean is 1/rate whatever the burstiness;
 * burstiness 1 is a Poisson process, lower is burstier, higher more regular.
 */
export class GammaArrivals {
  private readonly random: SeededRandom;

  constructor(private readonly ratePerS: number, private readonly burstiness: number, seed: number) {
    this.random = new SeededRandom(seed);
  }

  nextIntervalS(): number {
    return this.random.gamma(this.burstiness, 1 / (this.ratePerS * this.burstiness));
  }
}

/** The first `count` send times of a schedule, seconds from its start: the first request goes at 0, as in vLLM's benchmark. */
export function arrivalTimesS(ratePerS: number, burstiness: number, seed: number, count: number): number[] {
  const arrivals = new GammaArrivals(ratePerS, burstiness, seed);
  const times: number[] = [];
  let t = 0;
  for (let i = 0; i < count; i++) {
    times.push(t);
    t += arrivals.nextIntervalS();
  }
  return times;
}
