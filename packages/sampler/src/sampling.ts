// Next-code selection from one row of logits: classifier-free guidance, temperature, top-k and
// top-p (nucleus). Pure TS over Float32Array so it runs between ONNX Runtime steps without copies.

/** Anything that yields uniform draws in [0, 1) — `Rng` from @engram-ar/tensor/rng in practice. */
export interface UniformSource {
  uniform(): number;
}

export interface SamplingOptions {
  /** Softmax temperature; 0 means greedy (argmax). Default 1. */
  temperature?: number;
  /** Keep only the k most likely codes; 0 (default) keeps all. */
  topK?: number;
  /** Keep the smallest most-likely prefix whose mass is ≥ p; 1 (default) keeps all. */
  topP?: number;
}

/** Validated, defaulted sampling options; throws naming the offending field. */
export function resolveSampling(opts: SamplingOptions = {}): Required<SamplingOptions> {
  const temperature = opts.temperature ?? 1;
  const topK = opts.topK ?? 0;
  const topP = opts.topP ?? 1;
  if (!(Number.isFinite(temperature) && temperature >= 0))
    throw new Error(`temperature: expected a finite number ≥ 0, got ${temperature}`);
  if (!(Number.isInteger(topK) && topK >= 0)) throw new Error(`topK: expected an integer ≥ 0, got ${topK}`);
  if (!(topP > 0 && topP <= 1)) throw new Error(`topP: expected a number in (0, 1], got ${topP}`);
  return { temperature, topK, topP };
}

/**
 * Classifier-free guidance `uncond + s·(cond − uncond)`, elementwise, written into `out`
 * (which may alias `cond`). s = 1 returns `cond`, s = 0 returns `uncond`.
 */
export function applyCfg(
  cond: Float32Array,
  uncond: Float32Array,
  scale: number,
  out: Float32Array = new Float32Array(cond.length),
): Float32Array {
  if (cond.length !== uncond.length)
    throw new Error(`applyCfg: cond has ${cond.length}, uncond ${uncond.length}`);
  for (let i = 0; i < cond.length; i++) out[i] = uncond[i] + scale * (cond[i] - uncond[i]);
  return out;
}

/** Index of the largest value; the lowest index wins ties (so greedy decoding is deterministic). */
export function argmax(x: Float32Array, offset = 0, length = x.length - offset): number {
  let best = 0;
  let bestV = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < length; i++) {
    const v = x[offset + i];
    if (v > bestV) {
      bestV = v;
      best = i;
    }
  }
  return best;
}

/** log-softmax of `x[offset .. offset+length)` into `out[outOffset ..]`, in float64 for stability. */
export function logSoftmax(
  x: Float32Array,
  offset: number,
  length: number,
  out: Float32Array,
  outOffset = 0,
): void {
  let m = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < length; i++) if (x[offset + i] > m) m = x[offset + i];
  let s = 0;
  for (let i = 0; i < length; i++) s += Math.exp(x[offset + i] - m);
  const lse = m + Math.log(s);
  for (let i = 0; i < length; i++) out[outOffset + i] = x[offset + i] - lse;
}

/**
 * The distribution sampling draws from, as explicit (code, probability) candidates sorted by
 * decreasing probability (ties: lower code first). Temperature, then top-k, then top-p on the
 * renormalised top-k mass — the order of Hugging Face's and LlamaGen's samplers.
 * Temperature 0 yields the argmax alone.
 */
export function candidateDistribution(
  logits: Float32Array,
  opts: SamplingOptions = {},
  offset = 0,
  length = logits.length - offset,
): { codes: Int32Array; probs: Float64Array } {
  const { temperature, topK, topP } = resolveSampling(opts);
  if (temperature === 0)
    return { codes: Int32Array.of(argmax(logits, offset, length)), probs: Float64Array.of(1) };
  const k = topK > 0 && topK < length ? topK : length;
  const codes = topIndices(logits, offset, length, k);
  const m = logits[offset + codes[0]];
  const probs = new Float64Array(k);
  let total = 0;
  for (let i = 0; i < k; i++) {
    probs[i] = Math.exp((logits[offset + codes[i]] - m) / temperature);
    total += probs[i];
  }
  let keep = k;
  if (topP < 1) {
    // Smallest prefix with mass ≥ p; the 1e-12 slack keeps a prefix whose mass equals p up to rounding.
    let cum = 0;
    for (let i = 0; i < k; i++) {
      cum += probs[i] / total;
      if (cum >= topP - 1e-12) {
        keep = i + 1;
        break;
      }
    }
  }
  let kept = 0;
  for (let i = 0; i < keep; i++) kept += probs[i];
  const out = new Float64Array(keep);
  for (let i = 0; i < keep; i++) out[i] = probs[i] / kept;
  return { codes: codes.subarray(0, keep), probs: out };
}

// Exponentials of the row being sampled, reused across calls (one row at a time, never retained).
let expScratch = new Float64Array(0);

/**
 * Draws one code from `logits[offset .. offset+length)` with one uniform draw (none when greedy),
 * so a fixed seed gives the same codes whatever the batch layout.
 */
export function sampleLogits(
  logits: Float32Array,
  opts: SamplingOptions,
  rng: UniformSource,
  offset = 0,
  length = logits.length - offset,
): number {
  const { temperature, topK, topP } = resolveSampling(opts);
  if (temperature === 0) return argmax(logits, offset, length);
  if ((topK === 0 || topK >= length) && topP === 1) {
    // Fast path without sorting: inverse-CDF walk in code order over the cached exponentials.
    let m = Number.NEGATIVE_INFINITY;
    for (let i = 0; i < length; i++) if (logits[offset + i] > m) m = logits[offset + i];
    if (expScratch.length < length) expScratch = new Float64Array(length);
    const e = expScratch;
    let total = 0;
    for (let i = 0; i < length; i++) {
      e[i] = Math.exp((logits[offset + i] - m) / temperature);
      total += e[i];
    }
    let u = rng.uniform() * total;
    for (let i = 0; i < length; i++) {
      u -= e[i];
      if (u < 0) return i;
    }
    return lastFinite(logits, offset, length);
  }
  const { codes, probs } = candidateDistribution(logits, { temperature, topK, topP }, offset, length);
  let u = rng.uniform();
  for (let i = 0; i < codes.length; i++) {
    u -= probs[i];
    if (u < 0) return codes[i];
  }
  return codes[codes.length - 1];
}

// Rounding can leave u ≥ 0 after the walk; the answer is then the last code with non-zero mass.
function lastFinite(logits: Float32Array, offset: number, length: number): number {
  for (let i = length - 1; i >= 0; i--) if (logits[offset + i] > Number.NEGATIVE_INFINITY) return i;
  return 0;
}

/**
 * Indices of the k largest values in decreasing order, ties broken by lower index. A bounded
 * min-heap keeps it O(V log k), which matters at V = 16384 codes × 256 rows per step.
 */
export function topIndices(x: Float32Array, offset: number, length: number, k: number): Int32Array {
  if (k >= length) {
    const all = new Int32Array(length);
    for (let i = 0; i < length; i++) all[i] = i;
    return all.sort((a, b) => x[offset + b] - x[offset + a] || a - b);
  }
  // heap[0] is the "worst" kept element: smallest value, and among equals the highest index.
  const heap = new Int32Array(k);
  const worse = (a: number, b: number): boolean => {
    const va = x[offset + a];
    const vb = x[offset + b];
    return va < vb || (va === vb && a > b);
  };
  const siftDown = (i: number, n: number): void => {
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let w = i;
      if (l < n && worse(heap[l], heap[w])) w = l;
      if (r < n && worse(heap[r], heap[w])) w = r;
      if (w === i) return;
      const t = heap[i];
      heap[i] = heap[w];
      heap[w] = t;
      i = w;
    }
  };
  for (let i = 0; i < k; i++) heap[i] = i;
  for (let i = (k >> 1) - 1; i >= 0; i--) siftDown(i, k);
  for (let i = k; i < length; i++) {
    if (worse(heap[0], i)) {
      heap[0] = i;
      siftDown(0, k);
    }
  }
  return heap.sort((a, b) => x[offset + b] - x[offset + a] || a - b);
}
