// The ONE Engram hash of the repo (training, ONNX export, sampling and probes all call this file).
//
// For Engram layer l, stencil s and key ids id_0..id_{J-1} (neighbour codes, pad = vocab for cells outside
// the grid/sequence, then the class id if classKeyed):
//   mix = XOR_j imul(id_j + 1, m[l][s][j]) >>> 0        (uint32; the +1 keeps id 0 from zeroing its term)
//   row = mix mod P[l][s][k]                            (head k)
//   global row id = offset[l][s][k] + row               (one flat table; heads laid out (l, s, k)-major)
// m are odd uint32 multipliers drawn from Rng(seed).split('engram-hash'); P are the smallest primes ≥ tableRows,
// taken in (l, s, k) order, so all are distinct. Position p (raster index r·W + c, or t in a sequence)
// predicts code p and is keyed only by codes < p, so the same ids come out in teacher-forced training
// (rowsForGrids) and in step-by-step sampling from a partially filled grid (rowsForNext).
import { Rng } from '@engram-ar/tensor/rng';
import { type EngramConfig, isStencil2D, type Neighbour, parseEngramConfig } from './config.js';

const DELTA: Record<Neighbour, readonly [number, number]> = {
  L: [0, -1],
  U: [-1, 0],
  UL: [-1, -1],
  UR: [-1, 1],
};

export interface HashSpec {
  readonly config: EngramConfig;
  readonly kind: '2d' | '1d';
  /** Le, S, K. */
  readonly numLayers: number;
  readonly numStencils: number;
  readonly heads: number;
  /** Row ids per position: Le·S·K (layout [Le, S·K], s-major inside a layer). */
  readonly rowsPerPosition: number;
  /** Key slots per (layer, stencil): max stencil order, +1 if classKeyed (the class uses slot order[s]). */
  readonly keyWidth: number;
  /** Neighbour count per stencil. [S] */
  readonly orders: Int32Array;
  /** Neighbour displacement per (stencil, slot): row and column deltas (2D) or -offset in dCol (1D). [S, keyWidth] */
  readonly dRow: Int32Array;
  readonly dCol: Int32Array;
  /** Odd multipliers m[l][s][j]. [Le, S, keyWidth] */
  readonly multipliers: Uint32Array;
  /** Head moduli P[l][s][k], distinct primes ≥ tableRows. [Le, S, K] */
  readonly primes: Uint32Array;
  /** First global row of each head's block. [Le, S, K] */
  readonly offsets: Int32Array;
  /** Σ primes: the table's row count. */
  readonly totalRows: number;
  /** Pad id for neighbours outside the grid/sequence (= vocab). */
  readonly pad: number;
  readonly classKeyed: boolean;
}

function isPrime(n: number): boolean {
  if (n < 2) return false;
  if (n % 2 === 0) return n === 2;
  if (n % 3 === 0) return n === 3;
  for (let f = 5; f * f <= n; f += 6) if (n % f === 0 || n % (f + 2) === 0) return false;
  return true;
}

/** Smallest prime ≥ n. */
export function nextPrime(n: number): number {
  let p = Math.max(2, Math.ceil(n));
  while (!isPrime(p)) p++;
  return p;
}

/** Builds the hash constants of a config (accepts raw input too; it is validated). */
export function buildHashSpec(cfgInput: EngramConfig | unknown): HashSpec {
  const config = parseEngramConfig(cfgInput);
  const Le = config.layers.length;
  const S = config.stencils.length;
  const K = config.heads;
  const kind = isStencil2D(config) ? '2d' : '1d';
  const orders = new Int32Array(S);
  for (let s = 0; s < S; s++) orders[s] = config.stencils[s]!.length;
  const keyWidth = Math.max(...orders) + (config.classKeyed ? 1 : 0);
  const dRow = new Int32Array(S * keyWidth);
  const dCol = new Int32Array(S * keyWidth);
  for (let s = 0; s < S; s++) {
    const st = config.stencils[s]!;
    for (let j = 0; j < st.length; j++) {
      const n = st[j]!;
      if (typeof n === 'string') {
        dRow[s * keyWidth + j] = DELTA[n][0];
        dCol[s * keyWidth + j] = DELTA[n][1];
      } else {
        dCol[s * keyWidth + j] = -n;
      }
    }
  }
  const rng = new Rng(config.seed).split('engram-hash');
  const multipliers = new Uint32Array(Le * S * keyWidth);
  for (let i = 0; i < multipliers.length; i++) multipliers[i] = (rng.nextU32() | 1) >>> 0;
  const primes = new Uint32Array(Le * S * K);
  const offsets = new Int32Array(Le * S * K);
  let p = config.tableRows - 1;
  let total = 0;
  for (let i = 0; i < primes.length; i++) {
    p = nextPrime(p + 1);
    primes[i] = p;
    offsets[i] = total;
    total += p;
  }
  return {
    config,
    kind,
    numLayers: Le,
    numStencils: S,
    heads: K,
    rowsPerPosition: Le * S * K,
    keyWidth,
    orders,
    dRow,
    dCol,
    multipliers,
    primes,
    offsets,
    totalRows: total,
    pad: config.vocab,
    classKeyed: config.classKeyed,
  };
}

/** Plain-JSON description of the hash (for ONNX manifests); `checkHashSpec` verifies one against a spec. */
export interface HashSpecJSON {
  seed: number | string;
  stencils: (Neighbour[] | number[])[];
  layers: number[];
  heads: number;
  vocab: number;
  pad: number;
  classKeyed: boolean;
  tableRows: number;
  totalRows: number;
  multipliers: number[];
  primes: number[];
  offsets: number[];
}

export function hashSpecToJSON(spec: HashSpec): HashSpecJSON {
  const c = spec.config;
  return {
    seed: c.seed,
    stencils: c.stencils,
    layers: c.layers,
    heads: c.heads,
    vocab: c.vocab,
    pad: spec.pad,
    classKeyed: c.classKeyed,
    tableRows: c.tableRows,
    totalRows: spec.totalRows,
    multipliers: Array.from(spec.multipliers),
    primes: Array.from(spec.primes),
    offsets: Array.from(spec.offsets),
  };
}

/** Throws (naming the field) if a manifest's hash description disagrees with the spec built here. */
export function checkHashSpec(spec: HashSpec, json: HashSpecJSON): void {
  const mine = hashSpecToJSON(spec);
  for (const key of Object.keys(mine) as (keyof HashSpecJSON)[]) {
    if (JSON.stringify(mine[key]) !== JSON.stringify(json[key])) {
      throw new Error(`hash spec mismatch in field '${key}': manifest has a different value than this build`);
    }
  }
}

// Scratch for one position's key ids; grown on demand, never allocated per position.
let scratch = new Int32Array(64);
function keyScratch(n: number): Int32Array {
  if (scratch.length < n) scratch = new Int32Array(n);
  return scratch;
}

/** Hashes the key ids of one position (ids: [S, keyWidth]) into out[o .. o + Le·S·K). */
function hashPosition(spec: HashSpec, ids: Int32Array, out: Int32Array, o: number): void {
  const { numLayers: Le, numStencils: S, heads: K, keyWidth: J, orders, multipliers, primes, offsets } = spec;
  const width = spec.classKeyed ? 1 : 0;
  for (let l = 0; l < Le; l++) {
    for (let s = 0; s < S; s++) {
      const mb = (l * S + s) * J;
      const n = orders[s]! + width;
      let mix = 0;
      for (let j = 0; j < n; j++) mix ^= Math.imul(ids[s * J + j]! + 1, multipliers[mb + j]!);
      const u = mix >>> 0;
      const hb = (l * S + s) * K;
      for (let k = 0; k < K; k++) out[o++] = offsets[hb + k]! + (u % primes[hb + k]!);
    }
  }
}

function checkClass(spec: HashSpec, cls: number | undefined, where: string): number {
  if (!spec.classKeyed) return 0;
  if (cls === undefined || !Number.isInteger(cls) || cls < 0) {
    throw new Error(`${where}: classKeyed hash needs a non-negative integer class id, got ${cls}`);
  }
  return cls;
}

function badCode(where: string, v: number, at: string, vocab: number): Error {
  return new RangeError(`${where}: code ${v} at ${at} is outside [0, ${vocab})`);
}

/**
 * Fills the key ids of grid cell (r, c) from `codes` (one grid starting at `base`, row length W) into ids.
 * 2D stencils read causal neighbours; 1D stencils read the raster sequence (p - offset).
 */
function gatherKey2D(
  spec: HashSpec,
  codes: Int32Array,
  base: number,
  W: number,
  r: number,
  c: number,
  cls: number,
  ids: Int32Array,
  where: string,
): void {
  const { numStencils: S, keyWidth: J, orders, dRow, dCol, pad } = spec;
  const vocab = pad;
  const p = r * W + c;
  for (let s = 0; s < S; s++) {
    const n = orders[s]!;
    for (let j = 0; j < n; j++) {
      let q = -1;
      if (spec.kind === '2d') {
        const rr = r + dRow[s * J + j]!;
        const cc = c + dCol[s * J + j]!;
        if (rr >= 0 && cc >= 0 && cc < W) q = rr * W + cc;
      } else {
        q = p + dCol[s * J + j]!;
      }
      let id = pad;
      if (q >= 0) {
        id = codes[base + q]!;
        if (!(id >= 0 && id < vocab)) throw badCode(where, id, `index ${q} (keys of position ${p})`, vocab);
      }
      ids[s * J + j] = id;
    }
    if (spec.classKeyed) ids[s * J + n] = cls;
  }
}

/**
 * Row ids for teacher-forced training on whole grids: position p = r·W + c predicts code p and is keyed by
 * its causal neighbours. codes: Int32Array [B, H, W]; classes: Int32Array [B] (needed if classKeyed).
 * Returns Int32Array [B, H·W, Le, S·K] of global row ids.
 */
export function rowsForGrids(
  spec: HashSpec,
  codes: Int32Array, // [B, H, W]
  shape: readonly [number, number, number],
  classes?: Int32Array, // [B]
  out?: Int32Array, // [B, H·W, Le, S·K]
): Int32Array {
  const [B, H, W] = shape;
  if (codes.length !== B * H * W) {
    throw new Error(
      `rowsForGrids: codes has ${codes.length} elements, shape [${B}, ${H}, ${W}] needs ${B * H * W}`,
    );
  }
  const R = spec.rowsPerPosition;
  const n = B * H * W * R;
  if (out && out.length !== n) throw new Error(`rowsForGrids: out has ${out.length} elements, needs ${n}`);
  const res = out ?? new Int32Array(n);
  const ids = keyScratch(spec.numStencils * spec.keyWidth);
  for (let b = 0; b < B; b++) {
    const cls = checkClass(spec, classes?.[b], 'rowsForGrids');
    const base = b * H * W;
    for (let r = 0; r < H; r++) {
      for (let c = 0; c < W; c++) {
        gatherKey2D(spec, codes, base, W, r, c, cls, ids, 'rowsForGrids');
        hashPosition(spec, ids, res, (base + r * W + c) * R);
      }
    }
  }
  return res;
}

/**
 * Row ids for the next sampling step of one grid: only cells before `pos` (raster order) are read, so the
 * rest of `grid` may hold anything. grid: Int32Array [H, W]. Returns Int32Array [Le, S·K].
 */
export function rowsForNext(
  spec: HashSpec,
  grid: Int32Array, // [H, W]
  shape: readonly [number, number],
  pos: number,
  cls?: number,
  out?: Int32Array, // [Le, S·K]
): Int32Array {
  const [H, W] = shape;
  if (grid.length !== H * W) throw new Error(`rowsForNext: grid has ${grid.length} elements, needs ${H * W}`);
  if (!Number.isInteger(pos) || pos < 0 || pos >= H * W)
    throw new RangeError(`rowsForNext: pos ${pos} outside grid`);
  const res = out ?? new Int32Array(spec.rowsPerPosition);
  const ids = keyScratch(spec.numStencils * spec.keyWidth);
  const c0 = checkClass(spec, cls, 'rowsForNext');
  gatherKey2D(spec, grid, 0, W, Math.floor(pos / W), pos % W, c0, ids, 'rowsForNext');
  hashPosition(spec, ids, res, 0);
  return res;
}

/**
 * Batched `rowsForNext`: grids Int32Array [B, H, W] (each filled before `pos`), classes [B].
 * Returns Int32Array [B, Le, S·K].
 */
export function rowsForNextBatch(
  spec: HashSpec,
  grids: Int32Array, // [B, H, W]
  shape: readonly [number, number, number],
  pos: number,
  classes?: Int32Array, // [B]
  out?: Int32Array, // [B, Le, S·K]
): Int32Array {
  const [B, H, W] = shape;
  if (grids.length !== B * H * W) throw new Error(`rowsForNextBatch: grids has ${grids.length} elements`);
  if (!Number.isInteger(pos) || pos < 0 || pos >= H * W) {
    throw new RangeError(`rowsForNextBatch: pos ${pos} outside grid`);
  }
  const R = spec.rowsPerPosition;
  if (out && out.length !== B * R) throw new Error(`rowsForNextBatch: out has ${out.length} elements`);
  const res = out ?? new Int32Array(B * R);
  const ids = keyScratch(spec.numStencils * spec.keyWidth);
  const r = Math.floor(pos / W);
  const c = pos % W;
  for (let b = 0; b < B; b++) {
    const cls = checkClass(spec, classes?.[b], 'rowsForNextBatch');
    gatherKey2D(spec, grids, b * H * W, W, r, c, cls, ids, 'rowsForNextBatch');
    hashPosition(spec, ids, res, b * R);
  }
  return res;
}

function require1D(spec: HashSpec, where: string): void {
  if (spec.kind !== '1d')
    throw new Error(`${where}: needs 1D stencils (offset lists), config has 2D stencils`);
}

/**
 * Row ids for teacher-forced training on token sequences: position t predicts token t and is keyed by
 * tokens t - offset (pad before the start). tokens: Int32Array [B, T]. Returns Int32Array [B, T, Le, S·K].
 */
export function rowsForSequences(
  spec: HashSpec,
  tokens: Int32Array, // [B, T]
  shape: readonly [number, number],
  classes?: Int32Array, // [B]
  out?: Int32Array, // [B, T, Le, S·K]
): Int32Array {
  require1D(spec, 'rowsForSequences');
  return rowsForGrids(spec, tokens, [shape[0], 1, shape[1]], classes, out);
}

/** Row ids for the next token t of one sequence (only tokens < t are read). Returns Int32Array [Le, S·K]. */
export function rowsForNextToken(
  spec: HashSpec,
  seq: Int32Array, // [T]
  t: number,
  cls?: number,
  out?: Int32Array, // [Le, S·K]
): Int32Array {
  require1D(spec, 'rowsForNextToken');
  return rowsForNext(spec, seq, [1, seq.length], t, cls, out);
}
