// Seeded, splittable PRNG shared by the whole repo (pure TS, no tfjs: the sampler and probes use it too).
//
// Generator: xoshiro128** (Blackman & Vigna), 128-bit state, period 2^128 - 1. Seeds and split labels are
// absorbed into a fresh 128-bit state by a keyed mixer built on the lowbias32 integer hash, so any seed
// (number or string) and any label give a well-mixed starting point.
//
// Split semantics: `split(label)` is a pure function of (current parent state, label). It does NOT advance
// the parent. Hence:
//   - the same label split twice from the same parent state gives the same child (stable sub-streams);
//   - different labels give independent children;
//   - drawing from the parent between two splits changes what the later split returns.
// Typical use: `const rng = new Rng(cfg.seed); const init = rng.split('init'); const data = rng.split('data');`.
//
// normal() uses Box–Muller and caches the second variate; the cache is part of the state, so
// `Rng.fromState(r.state())` continues exactly where `r` is.

export interface RngState {
  /** xoshiro128** state words, each an unsigned 32-bit integer. */
  s: [number, number, number, number];
  /** Cached second Box–Muller variate, or null. */
  spare: number | null;
}

const TAG_NUMBER_SEED = 0x6e756d31; // distinguishes seed 1 from seed '1'
const TAG_STRING_SEED = 0x73747231;
const TAG_SPLIT = 0x73706c74;
const TWO_POW_32 = 4294967296;
const TWO_POW_53 = 9007199254740992;

/** lowbias32 (hash-prospector): a full-avalanche 32-bit bijection. */
function mix32(x: number): number {
  x ^= x >>> 16;
  x = Math.imul(x, 0x21f0aaad);
  x ^= x >>> 15;
  x = Math.imul(x, 0x735a2d97);
  x ^= x >>> 15;
  return x >>> 0;
}

/** Absorbs a word sequence into a non-zero 128-bit state. Length is absorbed too, so prefixes differ. */
function absorb(words: number[]): [number, number, number, number] {
  const s = [0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344 ^ words.length];
  for (const w of words) {
    for (let j = 0; j < 4; j++) {
      s[j] = mix32((s[j]! ^ w) + Math.imul(j + 1, 0x9e3779b9) + s[(j + 3) & 3]!);
    }
  }
  for (let round = 0; round < 3; round++) {
    for (let j = 0; j < 4; j++) s[j] = mix32(s[j]! + s[(j + 1) & 3]! + round);
  }
  if ((s[0]! | s[1]! | s[2]! | s[3]!) === 0) s[0] = 1; // xoshiro's only forbidden state
  return [s[0]! >>> 0, s[1]! >>> 0, s[2]! >>> 0, s[3]! >>> 0];
}

function numberWords(x: number): number[] {
  if (!Number.isFinite(x)) throw new Error(`Rng: seed/label must be finite, got ${x}`);
  const f = new Float64Array([x]);
  const u = new Uint32Array(f.buffer);
  return [u[0]!, u[1]!];
}

function stringWords(str: string): number[] {
  const bytes = new TextEncoder().encode(str);
  const words = [bytes.length];
  for (let i = 0; i < bytes.length; i += 4) {
    words.push(
      (bytes[i]! | ((bytes[i + 1] ?? 0) << 8) | ((bytes[i + 2] ?? 0) << 16) | ((bytes[i + 3] ?? 0) << 24)) >>>
        0,
    );
  }
  return words;
}

function keyWords(key: number | string): number[] {
  return typeof key === 'number'
    ? [TAG_NUMBER_SEED, ...numberWords(key)]
    : [TAG_STRING_SEED, ...stringWords(key)];
}

function isU32(x: unknown): x is number {
  return typeof x === 'number' && Number.isInteger(x) && x >= 0 && x < TWO_POW_32;
}

export class Rng {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;
  private spare: number | null = null;

  constructor(seed: number | string) {
    [this.s0, this.s1, this.s2, this.s3] = absorb(keyWords(seed));
  }

  /** Next unsigned 32-bit integer (xoshiro128**). */
  nextU32(): number {
    const s0 = this.s0;
    const s1 = this.s1;
    const s2 = this.s2;
    const s3 = this.s3;
    const r = Math.imul(rotl(Math.imul(s1, 5), 7), 9) >>> 0;
    const t = s1 << 9;
    let n2 = s2 ^ s0;
    let n3 = s3 ^ s1;
    const n1 = s1 ^ n2;
    const n0 = s0 ^ n3;
    n2 ^= t;
    n3 = rotl(n3, 11);
    this.s0 = n0 >>> 0;
    this.s1 = n1 >>> 0;
    this.s2 = n2 >>> 0;
    this.s3 = n3 >>> 0;
    return r;
  }

  /** Uniform double in [0, 1) with 53 random bits (two draws). */
  uniform(): number {
    const hi = this.nextU32() >>> 5; // 27 bits
    const lo = this.nextU32() >>> 6; // 26 bits
    return (hi * 67108864 + lo) / TWO_POW_53;
  }

  /** Standard normal variate (Box–Muller; every second call uses the cached partner). */
  normal(): number {
    if (this.spare !== null) {
      const z = this.spare;
      this.spare = null;
      return z;
    }
    const u1 = 1 - this.uniform(); // (0, 1]: log is finite
    const u2 = this.uniform();
    const r = Math.sqrt(-2 * Math.log(u1));
    const theta = 2 * Math.PI * u2;
    this.spare = r * Math.sin(theta);
    return r * Math.cos(theta);
  }

  /** Unbiased integer in [0, n), 1 ≤ n ≤ 2^32 (rejection sampling on the top of the 32-bit range). */
  int(n: number): number {
    if (!Number.isInteger(n) || n < 1 || n > TWO_POW_32) {
      throw new Error(`Rng.int: n must be an integer in [1, 2^32], got ${n}`);
    }
    const limit = TWO_POW_32 - (TWO_POW_32 % n); // largest multiple of n that fits
    for (;;) {
      const x = this.nextU32();
      if (x < limit) return x % n;
    }
  }

  /** Independent child stream; pure in (current state, label), does not advance this Rng. */
  split(label: string | number): Rng {
    const child = Object.create(Rng.prototype) as Rng;
    [child.s0, child.s1, child.s2, child.s3] = absorb([
      TAG_SPLIT,
      this.s0,
      this.s1,
      this.s2,
      this.s3,
      ...keyWords(label),
    ]);
    child.spare = null;
    return child;
  }

  /** Fisher–Yates shuffle in place; returns `a`. */
  shuffle<T>(a: T[]): T[] {
    for (let i = a.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const t = a[i]!;
      a[i] = a[j]!;
      a[j] = t;
    }
    return a;
  }

  /** Uniformly random permutation of 0..n-1. */
  permutation(n: number): Int32Array {
    const p = new Int32Array(n);
    for (let i = 0; i < n; i++) p[i] = i;
    for (let i = n - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const t = p[i]!;
      p[i] = p[j]!;
      p[j] = t;
    }
    return p;
  }

  /** Fills `out` with N(mean, std²) variates (rounded to float32); returns `out`. */
  fillNormal(out: Float32Array, mean = 0, std = 1): Float32Array {
    for (let i = 0; i < out.length; i++) out[i] = mean + std * this.normal();
    return out;
  }

  state(): RngState {
    return { s: [this.s0, this.s1, this.s2, this.s3], spare: this.spare };
  }

  static fromState(st: RngState): Rng {
    if (
      st === null ||
      typeof st !== 'object' ||
      !Array.isArray(st.s) ||
      st.s.length !== 4 ||
      !st.s.every(isU32) ||
      st.s.every((w) => w === 0)
    ) {
      throw new Error('Rng.fromState: s must be 4 unsigned 32-bit integers, not all zero');
    }
    if (st.spare !== null && !(typeof st.spare === 'number' && Number.isFinite(st.spare))) {
      throw new Error('Rng.fromState: spare must be a finite number or null');
    }
    const r = Object.create(Rng.prototype) as Rng;
    [r.s0, r.s1, r.s2, r.s3] = st.s;
    r.spare = st.spare;
    return r;
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}
