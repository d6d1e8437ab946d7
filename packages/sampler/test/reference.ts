// A second, deliberately naive implementation of the step model in float64 loops, straight from
// DESIGN.md §1 and ar-backbone's model.ts comments: full recompute over a whole sequence, no cache.
// Tests compare the ONNX graph against it; it also builds random models and their manifests.
import { buildHashSpec, type EngramConfigInput, hashSpecToJSON } from '@engram-ar/engram';
import { Rng } from '@engram-ar/tensor/rng';
import { MANIFEST_FORMAT, type ModelManifest, stepIoNames } from '../src/manifest.js';
import type { RopeTables, StepWeights } from '../src/step-graph.js';

export interface TinySpec {
  vocab: number;
  numClasses: number;
  height: number;
  width: number;
  nLayer: number;
  nHead: number;
  dim: number;
  mlpHidden: number;
  /** Engram config (vocab is filled in); `conv` as the manifest's { kernel, dilation }. */
  engram?: Omit<EngramConfigInput, 'vocab' | 'conv'> & { conv?: { kernel: number; dilation: number } };
  seed: number;
  /** Std of the random matrices (default 0.3). */
  std?: number;
}

export interface TinyModel {
  manifest: ModelManifest;
  weights: StepWeights;
  rope: RopeTables;
  table?: Float32Array;
  normEps: number;
  engramNormEps: number;
}

export function tinyModel(s: TinySpec): TinyModel {
  const rng = new Rng(s.seed);
  const D = s.dim;
  const std = s.std ?? 0.3;
  const weights: StepWeights = {};
  const rand = (name: string, shape: number[], std: number) => {
    const n = shape.reduce((a, b) => a * b, 1);
    weights[name] = { shape, data: rng.split(name).fillNormal(new Float32Array(n), 0, std) };
  };
  const gain = (name: string) => {
    const data = new Float32Array(D);
    const r = rng.split(name);
    for (let i = 0; i < D; i++) data[i] = 1 + 0.2 * r.normal();
    weights[name] = { shape: [D], data };
  };
  const spec = s.engram
    ? buildHashSpec({
        ...s.engram,
        vocab: s.vocab,
        conv: s.engram.conv ? { enabled: true, ...s.engram.conv } : undefined,
      })
    : null;
  const rowsPerLayer = spec ? spec.numStencils * spec.heads : 0;
  const dHead = spec?.config.dHead ?? 0;
  rand('tok_emb', [s.vocab, D], 1);
  rand('cls_emb', [s.numClasses + 1, D], 1);
  for (let i = 0; i < s.nLayer; i++) {
    const p = `blocks.${i}`;
    gain(`${p}.attn_norm`);
    gain(`${p}.mlp_norm`);
    for (const n of ['wq', 'wk', 'wv', 'wo']) rand(`${p}.${n}`, [D, D], std);
    rand(`${p}.w1`, [D, s.mlpHidden], std);
    rand(`${p}.w3`, [D, s.mlpHidden], std);
    rand(`${p}.w2`, [s.mlpHidden, D], std);
    if (s.engram?.layers.includes(i)) {
      const E = rowsPerLayer * dHead;
      rand(`engram.${i}.w_k`, [E, D], std);
      rand(`engram.${i}.w_v`, [E, D], std);
      gain(`engram.${i}.norm_h`);
      gain(`engram.${i}.norm_k`);
      if (s.engram.conv) {
        gain(`engram.${i}.conv.norm`);
        rand(`engram.${i}.conv.weight`, [s.engram.conv.kernel, D], std);
      }
    }
  }
  gain('norm_f');
  rand('head', [D, s.vocab], 0.5);
  const table = spec ? rng.split('table').fillNormal(new Float32Array(spec.totalRows * dHead)) : undefined;
  const H = s.nHead;
  const Dh = D / H;
  const maxSeq = s.height * s.width;
  const rope = ropeTables2D(s.height, s.width, H, Dh);
  const base = {
    nLayer: s.nLayer,
    engram: spec
      ? {
          config: spec.config as unknown as Record<string, unknown>,
          hash: hashSpecToJSON(spec),
          layers: spec.config.layers,
          rowsPerLayer,
          dHead,
          tableRows: spec.totalRows,
          conv: s.engram?.conv ?? null,
        }
      : null,
  };
  const manifest: ModelManifest = {
    format: MANIFEST_FORMAT,
    onnx: 'model.onnx',
    decode: null,
    grid: { height: s.height, width: s.width },
    vocab: s.vocab,
    numClasses: s.numClasses,
    nullClass: s.numClasses,
    classTokenOffset: s.vocab,
    nHead: H,
    headDim: Dh,
    dim: D,
    maxSeq,
    opset: 17,
    attention: 'plain',
    io: stepIoNames(base),
    meta: {},
    ...base,
  };
  return { manifest, weights, rope, table, normEps: 1e-5, engramNormEps: 1e-6 };
}

/** The backbone's 2D rotate-half RoPE tables, recomputed independently (class token unrotated). */
export function ropeTables2D(height: number, width: number, H: number, Dh: number, base = 10000): RopeTables {
  const T = height * width;
  const D = H * Dh;
  const m = Dh / 2;
  const half = m / 2;
  const cos = new Float32Array(T * D);
  const sin = new Float32Array(T * D);
  for (let t = 0; t < T; t++) {
    const pos = t === 0 ? [0, 0] : [Math.floor((t - 1) / width), (t - 1) % width];
    for (let h = 0; h < H; h++)
      for (let axis = 0; axis < 2; axis++)
        for (let j = 0; j < m; j++) {
          const theta = t === 0 ? 0 : pos[axis]! * base ** (-(j % half) / half);
          const idx = t * D + h * Dh + axis * m + j;
          cos[idx] = Math.cos(theta);
          sin[idx] = (j < half ? -1 : 1) * Math.sin(theta);
        }
  }
  return { cos, sin, block: Dh / 4 };
}

export interface RefInput {
  /** Token ids (codes < vocab, class tokens vocab + c). [B, T] */
  ids: Int32Array;
  /** Sequence positions. [B, T] */
  pos: Int32Array;
  /** Global row ids. [B, T, Le, S·K] */
  rows?: Int32Array;
  /** Per Engram layer; negative = learned. */
  clamp?: number[];
  B: number;
  T: number;
}

/** Full causal forward in float64: logits [B, T, V] and gates [B, T, Le]. */
export function referenceForward(
  model: TinyModel,
  inp: RefInput,
): { logits: Float64Array; gates: Float64Array } {
  const { manifest: m, weights, rope, normEps } = model;
  const { B, T } = inp;
  const D = m.dim;
  const H = m.nHead;
  const Dh = m.headDim;
  const V = m.vocab;
  const W = (n: string) => weights[n]!.data;
  const matvec = (x: Float64Array, w: Float32Array, nin: number, nout: number) => {
    const y = new Float64Array(nout);
    for (let i = 0; i < nin; i++) for (let o = 0; o < nout; o++) y[o] += x[i]! * w[i * nout + o]!;
    return y;
  };
  const rms = (x: Float64Array, gw: Float32Array, eps = normEps) => {
    let s = 0;
    for (const v of x) s += v * v;
    const r = 1 / Math.sqrt(s / x.length + eps);
    return x.map((v, i) => v * r * gw[i]!);
  };
  const ropeAt = (x: Float64Array, t: number) => {
    const b = rope.block;
    const out = new Float64Array(D);
    for (let i = 0; i < D; i++) {
      const blk = Math.floor(i / b);
      const partner = blk % 2 === 0 ? i + b : i - b;
      out[i] = x[i]! * rope.cos[t * D + i]! + x[partner]! * rope.sin[t * D + i]!;
    }
    return out;
  };
  const Le = m.engram?.layers.length ?? 0;
  const SK = m.engram?.rowsPerLayer ?? 0;
  const logits = new Float64Array(B * T * V);
  const gates = new Float64Array(B * T * Le);
  for (let b = 0; b < B; b++) {
    let h: Float64Array[] = [];
    for (let t = 0; t < T; t++) {
      const id = inp.ids[b * T + t]!;
      const src =
        id < V
          ? W('tok_emb').subarray(id * D, (id + 1) * D)
          : W('cls_emb').subarray((id - V) * D, (id - V + 1) * D);
      h.push(Float64Array.from(src));
    }
    for (let i = 0; i < m.nLayer; i++) {
      const p = `blocks.${i}`;
      const li = m.engram ? m.engram.layers.indexOf(i) : -1;
      if (li >= 0) {
        const e = m.engram!;
        const E = SK * e.dHead;
        const ys: Float64Array[] = [];
        for (let t = 0; t < T; t++) {
          const ev = new Float64Array(E);
          for (let r = 0; r < SK; r++) {
            const row = inp.rows![((b * T + t) * Le + li) * SK + r]!;
            for (let d = 0; d < e.dHead; d++) ev[r * e.dHead + d] = model.table![row * e.dHead + d]!;
          }
          const k = matvec(ev, W(`engram.${i}.w_k`), E, D);
          const v = matvec(ev, W(`engram.${i}.w_v`), E, D);
          const hn = rms(h[t]!, W(`engram.${i}.norm_h`), model.engramNormEps);
          const kn = rms(k, W(`engram.${i}.norm_k`), model.engramNormEps);
          let g = 0;
          for (let d = 0; d < D; d++) g += hn[d]! * kn[d]!;
          g /= Math.sqrt(D);
          g = Math.sign(g) * Math.sqrt(Math.max(Math.abs(g), 1e-6));
          const c = inp.clamp?.[li] ?? -1;
          const alpha = c >= 0 ? c : 1 / (1 + Math.exp(-g));
          gates[(b * T + t) * Le + li] = alpha;
          ys.push(v.map((x) => x * alpha));
        }
        if (e.conv) {
          const { kernel, dilation } = e.conv;
          const cw = W(`engram.${i}.conv.weight`);
          const normed = ys.map((y) => rms(y, W(`engram.${i}.conv.norm`), model.engramNormEps));
          for (let t = 0; t < T; t++) {
            for (let d = 0; d < D; d++) {
              let acc = 0;
              for (let j = 0; j < kernel; j++) {
                const src = t - (kernel - 1 - j) * dilation;
                if (src >= 0) acc += cw[j * D + d]! * normed[src]![d]!;
              }
              ys[t]![d] += acc / (1 + Math.exp(-acc));
            }
          }
        }
        h = h.map((x, t) => x.map((v, d) => v + ys[t]![d]!));
      }
      const n = h.map((x) => rms(x, W(`${p}.attn_norm`)));
      const q = n.map((x, t) => ropeAt(matvec(x, W(`${p}.wq`), D, D), inp.pos[b * T + t]!));
      const k = n.map((x, t) => ropeAt(matvec(x, W(`${p}.wk`), D, D), inp.pos[b * T + t]!));
      const v = n.map((x) => matvec(x, W(`${p}.wv`), D, D));
      const o = h.map(() => new Float64Array(D));
      for (let hd = 0; hd < H; hd++) {
        for (let t = 0; t < T; t++) {
          const s = new Float64Array(t + 1);
          for (let j = 0; j <= t; j++) {
            for (let d = 0; d < Dh; d++) s[j] += q[t]![hd * Dh + d]! * k[j]![hd * Dh + d]!;
            s[j] /= Math.sqrt(Dh);
          }
          const mx = Math.max(...s);
          const e = s.map((x) => Math.exp(x - mx));
          const z = e.reduce((a, c) => a + c, 0);
          for (let j = 0; j <= t; j++)
            for (let d = 0; d < Dh; d++) o[t]![hd * Dh + d] += (e[j]! / z) * v[j]![hd * Dh + d]!;
        }
      }
      h = h.map((x, t) => {
        const a = matvec(o[t]!, W(`${p}.wo`), D, D);
        return x.map((val, d) => val + a[d]!);
      });
      const hm = weights[`${p}.w1`]!.shape[1]!;
      h = h.map((x) => {
        const nn = rms(x, W(`${p}.mlp_norm`));
        const a1 = matvec(nn, W(`${p}.w1`), D, hm);
        const a3 = matvec(nn, W(`${p}.w3`), D, hm);
        const act = a1.map((z, j) => (z / (1 + Math.exp(-z))) * a3[j]!);
        const out = matvec(act, W(`${p}.w2`), hm, D);
        return x.map((val, d) => val + out[d]!);
      });
    }
    for (let t = 0; t < T; t++) {
      const lg = matvec(rms(h[t]!, W('norm_f')), W('head'), D, V);
      logits.set(lg, (b * T + t) * V);
    }
  }
  return { logits, gates };
}
