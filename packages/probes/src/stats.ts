// The probes' statistics: divergences between next-code distributions given as log-probs, a
// bootstrap CI of a mean (metrics' percentile bootstrap, reused — statistics exist once in the
// repo), permutation tests and effect sizes. Everything random is drawn from a seeded Rng.
//
// Zeros: a log-prob of −Infinity is a probability of exactly 0. KL(p‖q) takes 0·log(0/q) = 0, and is
// +Infinity where p > 0 = q; JS never diverges (the mixture is positive wherever p or q is).
// Both inputs are renormalised in float64 first (float32 log-softmax rows sum to 1 only to ~1e-7,
// which would otherwise leak into the tiny divergences the donor probe measures).
import { bootstrapInterval } from '@engram-ar/metrics';
import { Rng } from '@engram-ar/tensor/rng';

type Vec = ArrayLike<number>;

function logSumExp(x: Vec, off: number, n: number): number {
  let m = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < n; i++) if (x[off + i]! > m) m = x[off + i]!;
  if (m === Number.NEGATIVE_INFINITY) throw new Error('log-probs: every entry is -Infinity (no mass)');
  if (!Number.isFinite(m)) throw new Error(`log-probs: non-finite maximum ${m}`);
  let s = 0;
  for (let i = 0; i < n; i++) s += Math.exp(x[off + i]! - m);
  return m + Math.log(s);
}

/**
 * KL(p‖q) in nats for one pair of rows of log-probs (length `n` from offsets `offP`, `offQ`).
 * Returns +Infinity if q has a zero where p has mass; clamps float rounding below 0 to 0.
 */
export function klLogProbs(lp: Vec, lq: Vec, n = lp.length, offP = 0, offQ = 0): number {
  const zp = logSumExp(lp, offP, n);
  const zq = logSumExp(lq, offQ, n);
  let s = 0;
  for (let i = 0; i < n; i++) {
    const a = lp[offP + i]! - zp;
    if (a === Number.NEGATIVE_INFINITY) continue; // p_i = 0 contributes nothing
    const b = lq[offQ + i]! - zq;
    if (b === Number.NEGATIVE_INFINITY) return Number.POSITIVE_INFINITY;
    s += Math.exp(a) * (a - b);
  }
  return Math.max(s, 0);
}

/** Jensen–Shannon divergence in nats (0 ≤ JS ≤ ln 2), same layout as `klLogProbs`. */
export function jsLogProbs(lp: Vec, lq: Vec, n = lp.length, offP = 0, offQ = 0): number {
  const zp = logSumExp(lp, offP, n);
  const zq = logSumExp(lq, offQ, n);
  let s = 0;
  for (let i = 0; i < n; i++) {
    const a = lp[offP + i]! - zp;
    const b = lq[offQ + i]! - zq;
    if (a === b) continue; // equal probabilities contribute exactly 0 (also 0 = 0)
    const hi = Math.max(a, b);
    const lm = hi + Math.log1p(Math.exp(Math.min(a, b) - hi)) - Math.LN2; // log((p + q) / 2)
    if (a !== Number.NEGATIVE_INFINITY) s += 0.5 * Math.exp(a) * (a - lm);
    if (b !== Number.NEGATIVE_INFINITY) s += 0.5 * Math.exp(b) * (b - lm);
  }
  return Math.min(Math.max(s, 0), Math.LN2);
}

/** Row-wise KL(p‖q) and JS of two [rows, n] log-prob arrays. */
export function divergenceRows(lp: Vec, lq: Vec, n: number): { kl: Float64Array; js: Float64Array } {
  if (lp.length !== lq.length || lp.length % n !== 0)
    throw new Error(`divergenceRows: lengths ${lp.length} and ${lq.length} are not equal multiples of ${n}`);
  const rows = lp.length / n;
  const kl = new Float64Array(rows);
  const js = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    kl[r] = klLogProbs(lp, lq, n, r * n, r * n);
    js[r] = jsLogProbs(lp, lq, n, r * n, r * n);
  }
  return { kl, js };
}

export function mean(x: Vec): number {
  if (x.length === 0) return Number.NaN;
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i]!;
  return s / x.length;
}

/** Unbiased sample variance (n − 1). */
export function variance(x: Vec): number {
  const n = x.length;
  if (n < 2) return Number.NaN;
  const m = mean(x);
  let s = 0;
  for (let i = 0; i < n; i++) s += (x[i]! - m) ** 2;
  return s / (n - 1);
}

/** A mean with its percentile-bootstrap 95 % interval. */
export interface MeanCI {
  mean: number;
  low: number;
  high: number;
  n: number;
  replicates: number;
  seed: number | string;
}

export interface BootstrapOpts {
  replicates?: number; // default 2000
  seed?: number | string; // default 0
}

/** Mean of `x` with a 95 % percentile-bootstrap CI (resampling the entries of x). */
export async function bootstrapMean(x: Vec, opts: BootstrapOpts = {}): Promise<MeanCI> {
  const replicates = opts.replicates ?? 2000;
  const seed = opts.seed ?? 0;
  const n = x.length;
  if (n === 0) throw new Error('bootstrapMean: no values');
  const ci = await bootstrapInterval(
    n,
    (idx) => {
      let s = 0;
      for (let i = 0; i < n; i++) s += x[idx[i]!]!;
      return s / n;
    },
    { replicates, seed, method: 'percentile' },
  );
  return { mean: mean(x), low: ci.low, high: ci.high, n, replicates, seed };
}

/**
 * Ratio of means mean(num)/mean(den) of paired values (same units, e.g. per-grid KL of two
 * conditions) with a 95 % percentile-bootstrap CI resampling the pairs together.
 */
export async function bootstrapRatio(num: Vec, den: Vec, opts: BootstrapOpts = {}): Promise<MeanCI> {
  const replicates = opts.replicates ?? 2000;
  const seed = opts.seed ?? 0;
  const n = num.length;
  if (n === 0 || den.length !== n) throw new Error(`bootstrapRatio: need equal non-empty lengths`);
  const ci = await bootstrapInterval(
    n,
    (idx) => {
      let a = 0;
      let b = 0;
      for (let i = 0; i < n; i++) {
        a += num[idx[i]!]!;
        b += den[idx[i]!]!;
      }
      return a / b;
    },
    { replicates, seed, method: 'percentile' },
  );
  return { mean: mean(num) / mean(den), low: ci.low, high: ci.high, n, replicates, seed };
}

export type Alternative = 'two-sided' | 'greater' | 'less';

export interface PermutationResult {
  /** mean(a) − mean(b) (paired: mean of the differences, the same number). */
  statistic: number;
  /** (1 + #{T* at least as extreme as T}) / (permutations + 1). */
  pValue: number;
  permutations: number;
  paired: boolean;
  alternative: Alternative;
  seed: number | string;
}

export interface PermutationOpts {
  paired?: boolean;
  permutations?: number; // default 9999
  alternative?: Alternative;
  seed?: number | string;
}

/**
 * Permutation test of equal means. Two-sample: relabels the pooled values; paired: flips the sign
 * of each difference a_i − b_i at random. Monte-Carlo p-value with the +1 correction (never 0, valid
 * at any number of permutations). Ties with the observed statistic (to 1e-12 relative) count as extreme.
 */
export function permutationTest(a: Vec, b: Vec, opts: PermutationOpts = {}): PermutationResult {
  const paired = opts.paired ?? false;
  const perms = opts.permutations ?? 9999;
  const alternative = opts.alternative ?? 'two-sided';
  const seed = opts.seed ?? 0;
  if (!(Number.isInteger(perms) && perms >= 1))
    throw new Error(`permutations: expected an integer ≥ 1, got ${perms}`);
  if (a.length === 0 || b.length === 0) throw new Error('permutationTest: empty sample');
  if (paired && a.length !== b.length)
    throw new Error(`permutationTest: paired samples differ in length (${a.length} vs ${b.length})`);
  const rng = new Rng(seed).split('permutation');
  const extreme = (t: number, obs: number): boolean => {
    const tol = 1e-12 * Math.max(1, Math.abs(obs));
    if (alternative === 'greater') return t >= obs - tol;
    if (alternative === 'less') return t <= obs + tol;
    return Math.abs(t) >= Math.abs(obs) - tol;
  };
  let obs: number;
  let count = 0;
  if (paired) {
    const n = a.length;
    const d = new Float64Array(n);
    for (let i = 0; i < n; i++) d[i] = a[i]! - b[i]!;
    obs = mean(d);
    for (let k = 0; k < perms; k++) {
      let s = 0;
      for (let i = 0; i < n; i++) s += rng.nextU32() & 1 ? d[i]! : -d[i]!;
      if (extreme(s / n, obs)) count++;
    }
  } else {
    const na = a.length;
    const nb = b.length;
    const pooled = new Float64Array(na + nb);
    for (let i = 0; i < na; i++) pooled[i] = a[i]!;
    for (let i = 0; i < nb; i++) pooled[na + i] = b[i]!;
    let total = 0;
    for (const v of pooled) total += v;
    obs = mean(a) - mean(b);
    for (let k = 0; k < perms; k++) {
      // Partial Fisher–Yates: the first na slots of a random permutation form group a.
      let sa = 0;
      for (let i = 0; i < na; i++) {
        const j = i + rng.int(na + nb - i);
        const t = pooled[i]!;
        pooled[i] = pooled[j]!;
        pooled[j] = t;
        sa += pooled[i]!;
      }
      if (extreme(sa / na - (total - sa) / nb, obs)) count++;
    }
  }
  return {
    statistic: obs,
    pValue: (1 + count) / (perms + 1),
    permutations: perms,
    paired,
    alternative,
    seed,
  };
}

/** Cohen's d with the pooled (n − 1) standard deviation: (mean a − mean b) / s_pooled. */
export function cohensD(a: Vec, b: Vec): number {
  const na = a.length;
  const nb = b.length;
  const pooled = ((na - 1) * variance(a) + (nb - 1) * variance(b)) / (na + nb - 2);
  return (mean(a) - mean(b)) / Math.sqrt(pooled);
}

/** Paired Cohen's d_z: mean(a − b) / sd(a − b). */
export function pairedD(a: Vec, b: Vec): number {
  const d = Float64Array.from({ length: a.length }, (_, i) => a[i]! - b[i]!);
  return mean(d) / Math.sqrt(variance(d));
}

/**
 * Rank-biserial correlation of two independent samples: P(a > b) − P(a < b) over all pairs
 * (= 2U/(na·nb) − 1 with Mann–Whitney U counting ties as ½). In [−1, 1].
 */
export function rankBiserial(a: Vec, b: Vec): number {
  let gt = 0;
  let lt = 0;
  for (let i = 0; i < a.length; i++)
    for (let j = 0; j < b.length; j++) {
      if (a[i]! > b[j]!) gt++;
      else if (a[i]! < b[j]!) lt++;
    }
  return (gt - lt) / (a.length * b.length);
}

/**
 * Matched-pairs rank-biserial correlation (Kerby 2014): rank |a_i − b_i| over the non-zero
 * differences (average ranks for ties), r = (R+ − R−) / (R+ + R−). 0 if every difference is 0.
 */
export function pairedRankBiserial(a: Vec, b: Vec): number {
  const d: number[] = [];
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) d.push(a[i]! - b[i]!);
  if (d.length === 0) return 0;
  const order = d.map((_, i) => i).sort((x, y) => Math.abs(d[x]!) - Math.abs(d[y]!));
  const ranks = new Float64Array(d.length);
  for (let i = 0; i < order.length; ) {
    let j = i;
    while (j + 1 < order.length && Math.abs(d[order[j + 1]!]!) === Math.abs(d[order[i]!]!)) j++;
    for (let k = i; k <= j; k++) ranks[order[k]!] = (i + j) / 2 + 1;
    i = j + 1;
  }
  let pos = 0;
  let neg = 0;
  d.forEach((v, i) => {
    if (v > 0) pos += ranks[i]!;
    else neg += ranks[i]!;
  });
  return (pos - neg) / (pos + neg);
}

/** A permutation test with its effect sizes, as reported between two probe conditions. */
export interface Comparison extends PermutationResult {
  /** Cohen's d (two-sample) or d_z (paired). */
  cohensD: number;
  /** Rank-biserial (two-sample) or matched-pairs rank-biserial (paired). */
  rankBiserial: number;
  n: [number, number];
}

export function compare(a: Vec, b: Vec, opts: PermutationOpts = {}): Comparison {
  const t = permutationTest(a, b, opts);
  return {
    ...t,
    cohensD: t.paired ? pairedD(a, b) : cohensD(a, b),
    rankBiserial: t.paired ? pairedRankBiserial(a, b) : rankBiserial(a, b),
    n: [a.length, b.length],
  };
}
