// Inception Score (Salimans et al. 2016) over class logits, as the reference implementation:
// the N samples are cut into `splits` consecutive parts [i·N/splits, (i+1)·N/splits), each part's
// score is exp(mean_x KL(p(y|x) ‖ p(y))) with p(y) the part's mean prediction, and the result is
// the mean and (population) standard deviation of the part scores.
export interface InceptionScore {
  mean: number;
  std: number;
  splitScores: Float64Array; // [splits]
}

/** Row-wise softmax in float64 (max-shifted). logits [N, C] → probabilities [N, C]. */
export function softmaxRows(logits: Float32Array | Float64Array, classes: number): Float64Array {
  if (logits.length % classes !== 0)
    throw new Error(`softmaxRows: ${logits.length} values is not N × ${classes}`);
  const p = new Float64Array(logits.length);
  for (let o = 0; o < logits.length; o += classes) {
    let mx = Number.NEGATIVE_INFINITY;
    for (let c = 0; c < classes; c++) mx = Math.max(mx, logits[o + c]!);
    let s = 0;
    for (let c = 0; c < classes; c++) s += p[o + c] = Math.exp(logits[o + c]! - mx);
    for (let c = 0; c < classes; c++) p[o + c]! /= s;
  }
  return p;
}

/** IS from probabilities [N, C] (rows sum to 1). */
export function inceptionScoreFromProbs(
  probs: Float64Array,
  classes: number,
  opts: { splits?: number } = {},
): InceptionScore {
  const splits = opts.splits ?? 10;
  const n = probs.length / classes;
  if (!Number.isInteger(n) || n < splits) {
    throw new Error(`inceptionScore: need at least splits = ${splits} samples, got ${n}`);
  }
  const scores = new Float64Array(splits);
  const py = new Float64Array(classes);
  for (let s = 0; s < splits; s++) {
    const lo = Math.floor((s * n) / splits);
    const hi = Math.floor(((s + 1) * n) / splits);
    py.fill(0);
    for (let i = lo; i < hi; i++) for (let c = 0; c < classes; c++) py[c]! += probs[i * classes + c]!;
    for (let c = 0; c < classes; c++) py[c]! /= hi - lo;
    let kl = 0;
    for (let i = lo; i < hi; i++) {
      for (let c = 0; c < classes; c++) {
        const p = probs[i * classes + c]!;
        if (p > 0) kl += p * (Math.log(p) - Math.log(py[c]!));
      }
    }
    scores[s] = Math.exp(kl / (hi - lo));
  }
  let mean = 0;
  for (const v of scores) mean += v / splits;
  let varSum = 0;
  for (const v of scores) varSum += (v - mean) ** 2;
  return { mean, std: Math.sqrt(varSum / splits), splitScores: scores };
}

/** IS from logits [N, C] (softmax applied here). */
export function inceptionScore(
  logits: Float32Array | Float64Array,
  classes: number,
  opts: { splits?: number } = {},
): InceptionScore {
  return inceptionScoreFromProbs(softmaxRows(logits, classes), classes, opts);
}

/** Fraction of samples whose arg-max class equals the class they were conditioned on. */
export function classConsistency(
  logits: Float32Array | Float64Array,
  classes: number,
  labels: Int32Array,
): number {
  const n = labels.length;
  if (logits.length !== n * classes) {
    throw new Error(
      `classConsistency: logits has ${logits.length} values, expected labels.length × ${classes}`,
    );
  }
  let hits = 0;
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let c = 1; c < classes; c++) if (logits[i * classes + c]! > logits[i * classes + best]!) best = c;
    if (best === labels[i]) hits++;
  }
  return n === 0 ? Number.NaN : hits / n;
}
