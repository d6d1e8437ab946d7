// The ONNX step graph (DESIGN.md §3) built from host weights. It lives in the sampler — the
// package that runs it — so the graph, its manifest and its runner share one owner and tests can
// build graphs without TensorFlow.js; ar-backbone's exporter only maps a model onto `StepWeights`.
//
// One graph serves prefill (T > 1) and decode (T = 1): new keys/values are appended to
// `past_key_values.{i}.*` ([B, H, P, Dh], P = 0 at the start) and the causal mask allows query t
// (absolute position P + t) to see key j iff j ≤ P + t.
//
// Token layout: input_ids < vocab are codes, classTokenOffset + c is class c (null class included);
// the graph stacks tok_emb and cls_emb into one embedding matrix. position_ids are sequence
// positions (0 = class token, t = code t-1), used only to gather the RoPE tables.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { float, GraphBuilder } from '@engram-ar/onnx';
import { atomicWriteFile } from '@engram-ar/tensor/safetensors';
import { type ModelManifest, parseManifest, stepIoNames } from './manifest.js';

export interface HostTensor {
  shape: number[];
  data: Float32Array;
}

/**
 * Weights with the backbone's flat names (linear weights stored [in, out], y = x @ W):
 * tok_emb [V, D], cls_emb [C+1, D]; per block i: blocks.i.{attn_norm, mlp_norm} [D],
 * blocks.i.{wq, wk, wv, wo} [D, D], blocks.i.{w1, w3} [D, Hm], blocks.i.w2 [Hm, D];
 * norm_f [D], head [D, V]. Engram at backbone layer l adds (engram's fusionParamNames(l))
 * engram.l.{w_k, w_v} [S·K·dHead, D], engram.l.{norm_h, norm_k} [D] and, with a conv,
 * engram.l.conv.weight [kernel, D] (tap kernel-1 multiplies the newest input) and engram.l.conv.norm [D].
 */
export type StepWeights = Record<string, HostTensor>;

export interface RopeTables {
  /** [maxSeq, D] multiplier of x (all heads side by side). */
  cos: Float32Array;
  /** [maxSeq, D] multiplier of swapBlocks(x); carries the rotate-half sign. */
  sin: Float32Array;
  /**
   * swapBlocks exchanges adjacent blocks of this many dims (x viewed as [.., D/(2·block), 2, block],
   * reversed on the size-2 axis) — headDim/4 for the backbone's 2D rotate-half layout.
   */
  block: number;
}

export interface StepGraphOptions {
  manifest: ModelManifest;
  weights: StepWeights;
  rope: RopeTables;
  normEps: number;
  /** RMSNorm epsilon inside the Engram fusion (engram's FUSION_RMS_EPS); default 1e-6. */
  engramNormEps?: number;
  /** Engram table [tableRows, dHead] (required when manifest.engram is set). */
  table?: Float32Array;
  /** Attention lowering; defaults to manifest.attention. */
  attention?: 'plain' | 'contrib';
  /**
   * 'past' (default): the DESIGN.md §3 graph with past_key_values → present. 'buffer': the fast
   * decode graph over a host-owned fixed-size cache (see `decodeIoNames`): inputs
   * `key_cache.{i}` and `value_cache.{i}` [B, H, M, Dh] and
   * `past_length` (int64 scalar, valid slots), outputs only this step's `new_key.{i}` /
   * `new_value.{i}` [B, H, 1, Dh] for one position per call (T = 1), so the cache never crosses
   * into JS (ORT copies every output).
   */
  cache?: 'past' | 'buffer';
}

const NEG = -1e9;

/** Builds the step graph; save it with `builder.save(path, { externalData })`. */
export function buildStepGraph(opts: StepGraphOptions): GraphBuilder {
  const { manifest: m, weights, rope, normEps } = opts;
  const attention = opts.attention ?? m.attention;
  const D = m.dim;
  const H = m.nHead;
  const Dh = m.headDim;
  if (H * Dh !== D) throw new Error(`manifest: nHead·headDim = ${H * Dh} but dim = ${D}`);
  const g = new GraphBuilder({ name: 'engram_ar_step', opset: m.opset });
  const w = (name: string, shape: number[]): Float32Array => {
    const t = weights[name];
    if (!t) throw new Error(`weights: missing '${name}'`);
    if (t.shape.join(',') !== shape.join(','))
      throw new Error(`weights: '${name}' has shape [${t.shape}], expected [${shape}]`);
    return t.data;
  };
  const init = (name: string, data: Float32Array, dims: number[]): string => g.init(name, data, dims);

  // ---- inputs ----
  const buffered = opts.cache === 'buffer';
  // The decode graph runs one position per call (T = 1), which lets its attention use elementwise
  // ops for the new row instead of tiny batched MatMuls.
  const seq = buffered ? 1 : 'seq';
  const ids = g.input('input_ids', 'int64', ['batch', seq]);
  const posIds = g.input('position_ids', 'int64', ['batch', seq]);
  const Le = m.engram?.layers.length ?? 0;
  const SK = m.engram?.rowsPerLayer ?? 0;
  const rows = m.engram ? g.input('engram_rows', 'int64', ['batch', seq, Le, SK]) : '';
  const clamp = m.engram ? g.input('gate_clamp', 'float32', [Le]) : '';
  const past: { key: string; value: string }[] = [];
  for (let i = 0; i < m.nLayer; i++) {
    past.push(
      buffered
        ? {
            key: g.input(`key_cache.${i}`, 'float32', ['batch', H, 'max_length', Dh]),
            value: g.input(`value_cache.${i}`, 'float32', ['batch', H, 'max_length', Dh]),
          }
        : {
            key: g.input(`past_key_values.${i}.key`, 'float32', ['batch', H, 'past', Dh]),
            value: g.input(`past_key_values.${i}.value`, 'float32', ['batch', H, 'past', Dh]),
          },
    );
  }
  const pastLength = buffered ? g.input('past_length', 'int64', []) : '';
  const conv = m.engram?.conv ?? null;
  const convLen = conv ? (conv.kernel - 1) * conv.dilation : 0;
  const convStates = conv
    ? Array.from({ length: Le }, (_, l) => g.input(`conv_state.${l}`, 'float32', ['batch', convLen, D]))
    : [];

  // ---- embeddings, rope tables, mask ----
  const V = m.vocab;
  const C1 = m.numClasses + 1;
  if (m.classTokenOffset !== V) throw new Error(`manifest: classTokenOffset must be vocab (${V})`);
  const emb = new Float32Array((V + C1) * D);
  emb.set(w('tok_emb', [V, D]));
  emb.set(w('cls_emb', [C1, D]), V * D);
  let h = g.gather(init('embedding', emb, [V + C1, D]), ids); // [B, T, D]
  if (rope.cos.length !== m.maxSeq * D || rope.sin.length !== m.maxSeq * D)
    throw new Error(`rope: tables must be [maxSeq=${m.maxSeq}, dim=${D}]`);
  const cos = g.gather(init('rope.cos', rope.cos, [m.maxSeq, D]), posIds); // [B, T, D]
  const sin = g.gather(init('rope.sin', rope.sin, [m.maxSeq, D]), posIds);
  const mask = buffered ? '' : causalMask(g, ids, past[0]!.key); // [T, P+T]
  const maskT = buffered ? '' : g.transpose(mask, [1, 0]); // [P+T, T]

  const applyRope = (x: string): string => {
    const b = rope.block;
    const x5 = g.reshape(x, [0, 0, D / (2 * b), 2, b]);
    const [lo, hi] = g.node('Split', [x5], { axis: 3 }, { outputs: 2 });
    const swapped = g.reshape(g.concat([hi!, lo!], 3), [0, 0, D]);
    return g.add(g.mul(x, cos), g.mul(swapped, sin));
  };

  const gates: string[] = [];
  const scale = 1 / Math.sqrt(Dh);
  for (let i = 0; i < m.nLayer; i++) {
    const p = `blocks.${i}`;
    const li = m.engram ? m.engram.layers.indexOf(i) : -1;
    if (li >= 0) {
      const { y, gate, convOut } = engramBlock(g, {
        h,
        rows,
        clamp,
        li,
        D,
        SK,
        dHead: m.engram!.dHead,
        tableRows: m.engram!.tableRows,
        table: i === m.engram!.layers[0] ? opts.table : undefined,
        w: (n, s) => w(`engram.${i}.${n}`, s),
        normEps: opts.engramNormEps ?? 1e-6,
        conv,
        convState: convStates[li],
      });
      h = g.add(h, y);
      gates.push(gate);
      if (convOut) g.output(`present_conv_state.${li}`, 'float32', ['batch', convLen, D], convOut);
    }
    // Attention. 1/sqrt(Dh) is folded into Wq (RoPE is linear, so this commutes with it).
    const n1 = g.rmsNorm(h, init(`${p}.attn_norm`, w(`${p}.attn_norm`, [D]), [D]), normEps);
    const wq = w(`${p}.wq`, [D, D]);
    const qkvW = new Float32Array(D * 3 * D);
    const wk = w(`${p}.wk`, [D, D]);
    const wv = w(`${p}.wv`, [D, D]);
    for (let r = 0; r < D; r++) {
      for (let c = 0; c < D; c++) {
        qkvW[r * 3 * D + c] = wq[r * D + c]! * scale;
        qkvW[r * 3 * D + D + c] = wk[r * D + c]!;
        qkvW[r * 3 * D + 2 * D + c] = wv[r * D + c]!;
      }
    }
    const qkv = g.matmul(n1, init(`${p}.wqkv`, qkvW, [D, 3 * D]));
    const [q, k, v] = g.node('Split', [qkv], { axis: 2 }, { outputs: 3 }) as [string, string, string];
    const toHeads = (x: string) => g.transpose(g.reshape(x, [0, 0, H, Dh]), [0, 2, 1, 3]); // [B, H, T, Dh]
    let o: string;
    if (buffered) {
      const qh = toHeads(applyRope(q));
      const kh = toHeads(applyRope(k));
      const vh = toHeads(v);
      g.output(`new_key.${i}`, 'float32', ['batch', H, 'seq', Dh], kh);
      g.output(`new_value.${i}`, 'float32', ['batch', H, 'seq', Dh], vh);
      o = bufferAttention(g, qh, kh, vh, past[i]!.key, past[i]!.value, pastLength, D);
    } else {
      const qh = toHeads(applyRope(q));
      const kh = toHeads(applyRope(k));
      const vh = toHeads(v);
      const presentK = g.concat([past[i]!.key, kh], 2);
      const presentV = g.concat([past[i]!.value, vh], 2);
      g.output(`present.${i}.key`, 'float32', ['batch', H, 'total', Dh], presentK);
      g.output(`present.${i}.value`, 'float32', ['batch', H, 'total', Dh], presentV);
      if (attention === 'contrib') {
        o = contribAttention(g, qh, presentK, presentV, mask, H);
      } else {
        // Scores as K·qᵀ ([B, H, P+T, T]) so the cache is read in its stored layout: transposing
        // the whole K for q·Kᵀ dominated decode time at batch 256. Only q and the scores transpose.
        const scoresT = g.add(g.matmul(presentK, g.transpose(qh, [0, 1, 3, 2])), maskT);
        const probs = g.transpose(g.softmax(scoresT, 2), [0, 1, 3, 2]); // [B, H, T, P+T]
        const attn = g.matmul(probs, presentV); // [B, H, T, Dh]
        o = g.reshape(g.transpose(attn, [0, 2, 1, 3]), [0, 0, D]);
      }
    }
    h = g.add(h, g.matmul(o, init(`${p}.wo`, w(`${p}.wo`, [D, D]), [D, D])));
    // SwiGLU MLP with W1|W3 fused into one matmul.
    const n2 = g.rmsNorm(h, init(`${p}.mlp_norm`, w(`${p}.mlp_norm`, [D]), [D]), normEps);
    const hm = weights[`${p}.w1`]?.shape[1] ?? 0;
    const w13 = interleaveColumns(w(`${p}.w1`, [D, hm]), w(`${p}.w3`, [D, hm]), D, hm);
    const [a, b] = g.node(
      'Split',
      [g.matmul(n2, init(`${p}.w13`, w13, [D, 2 * hm]))],
      { axis: 2 },
      { outputs: 2 },
    );
    const act = g.mul(g.silu(a!), b!);
    h = g.add(h, g.matmul(act, init(`${p}.w2`, w(`${p}.w2`, [hm, D]), [hm, D])));
  }
  const nf = g.rmsNorm(h, init('norm_f', w('norm_f', [D]), [D]), normEps);
  g.output('logits', 'float32', ['batch', 'seq', V], g.matmul(nf, init('head', w('head', [D, V]), [D, V])));
  if (gates.length) g.output('engram_gate', 'float32', ['batch', 'seq', Le], g.concat(gates, 2));

  if (!buffered) {
    const io = stepIoNames(m);
    if (io.inputs.join() !== m.io.inputs.join() || io.outputs.join() !== m.io.outputs.join())
      throw new Error('manifest.io: does not list the step graph I/O names (use stepIoNames)');
  }
  g.metadata('engram_ar.format', m.format);
  return g;
}

/** Initialisers at least this large go to external data (ONNX protobufs stop at 2 GiB). */
export const EXTERNAL_DATA_THRESHOLD = 2 ** 30;

/**
 * Writes `dir/<manifest.onnx>` and `dir/model.json` (atomically). Initialisers of at least
 * `externalDataThreshold` bytes (default 1 GiB; in practice the Engram table) go to
 * `<onnx>.data` beside the model, recorded as manifest.externalData.
 */
export async function writeStepModel(
  dir: string,
  opts: StepGraphOptions & { externalDataThreshold?: number; decodeGraph?: boolean },
): Promise<ModelManifest> {
  const threshold = opts.externalDataThreshold ?? EXTERNAL_DATA_THRESHOLD;
  const location = `${opts.manifest.onnx}.data`;
  const withDecode = opts.decodeGraph ?? true;
  const decode = withDecode ? { onnx: 'decode.onnx', maxLength: opts.manifest.maxSeq } : null;
  const manifestIn = { ...opts.manifest, decode };
  const step = buildStepGraph({ ...opts, manifest: manifestIn, cache: 'past' }).encode({
    externalData: { thresholdBytes: threshold, location },
  });
  const manifest = parseManifest({ ...manifestIn, externalData: step.dataChunks ? location : undefined });
  await mkdir(dir, { recursive: true });
  if (step.dataChunks) await atomicWriteFile(join(dir, location), step.dataChunks);
  await atomicWriteFile(join(dir, manifest.onnx), step.model);
  if (decode) {
    // Both graphs declare their large initialisers in the same order from the same arrays, so the
    // decode graph's external data is byte-identical and it points at the same file.
    const dec = buildStepGraph({ ...opts, manifest, cache: 'buffer' }).encode({
      externalData: { thresholdBytes: threshold, location },
    });
    if (!sameChunks(step.dataChunks, dec.dataChunks))
      throw new Error('writeStepModel: decode graph external data differs from the step graph');
    await atomicWriteFile(join(dir, decode.onnx), dec.model);
  }
  await atomicWriteFile(join(dir, 'model.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  return manifest;
}

function sameChunks(a: Uint8Array[] | null, b: Uint8Array[] | null): boolean {
  if (!a || !b) return a === b;
  if (a.length !== b.length) return false;
  return a.every((x, i) => x.byteLength === b[i]!.byteLength && Buffer.compare(x, b[i]!) === 0);
}

/** [D, a] and [D, b] side by side → [D, a + b]. */
function interleaveColumns(x: Float32Array, y: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(rows * 2 * cols);
  for (let r = 0; r < rows; r++) {
    out.set(x.subarray(r * cols, (r + 1) * cols), r * 2 * cols);
    out.set(y.subarray(r * cols, (r + 1) * cols), r * 2 * cols + cols);
  }
  return out;
}

/** Additive mask [T, P+T]: 0 where key j ≤ P + t, −1e9 above. P from the past cache's shape. */
function causalMask(g: GraphBuilder, ids: string, pastKey: string): string {
  const T = g.op('Gather', [g.op('Shape', [ids]), g.scalar(1, 'int64')], { axis: 0 });
  const P = g.op('Gather', [g.op('Shape', [pastKey]), g.scalar(2, 'int64')], { axis: 0 });
  const total = g.add(P, T);
  const one = g.scalar(1, 'int64');
  const qPos = g.unsqueeze(g.op('Range', [P, total, one]), [1]); // [T, 1]
  const kPos = g.unsqueeze(g.op('Range', [g.scalar(0, 'int64'), total, one]), [0]); // [1, P+T]
  return g.op('Where', [g.op('Greater', [kPos, qPos]), g.scalar(NEG), g.scalar(0)]);
}

/**
 * Attention of one new position over a host-owned cache: keyCache/valueCache [B, H, M, Dh] hold
 * `pastLength` valid slots (the rest is masked), qh/kh/vh [B, H, 1, Dh] are this step's rows. Both caches keep
 * the plain [.., M, Dh] layout so the host appends a row with contiguous copies; scores are formed
 * as K·qᵀ ([B, H, M, 1]) so nothing the size of the cache is transposed in the graph, and the new
 * row's score and value are elementwise (a batched 1×1 MatMul cost more than the cache's).
 * 1/sqrt(Dh) is already in Wq.
 */
function bufferAttention(
  g: GraphBuilder,
  qh: string,
  kh: string,
  vh: string,
  keyCache: string,
  valueCache: string,
  pastLength: string,
  D: number,
): string {
  const zero = g.scalar(0, 'int64');
  const one = g.scalar(1, 'int64');
  const M = g.op('Gather', [g.op('Shape', [keyCache]), g.scalar(2, 'int64')], { axis: 0 });
  const slotValid = g.unsqueeze(g.op('Less', [g.op('Range', [zero, M, one]), pastLength]), [1]); // [M, 1]
  // [B, H, 1, Dh]ᵀ is a reshape: T = 1.
  const pastScores = g.op('Where', [
    slotValid,
    g.matmul(keyCache, g.reshape(qh, [0, 0, -1, 1])),
    g.scalar(NEG),
  ]); // [B, H, M, 1]
  const newScore = g.op('ReduceSum', [g.mul(kh, qh), g.int64s([3], 'axes')], { keepdims: 1 }); // [B, H, 1, 1]
  const probs = g.softmax(g.concat([pastScores, newScore], 2), 2); // [B, H, M+1, 1]
  const sizes = g.concat([g.unsqueeze(M, [0]), g.int64s([1], 'one')], 0);
  const [pPast, pNew] = g.node('Split', [probs, sizes], { axis: 2 }, { outputs: 2 });
  const past = g.matmul(g.reshape(pPast!, [0, 0, 1, -1]), valueCache); // [B, H, 1, Dh]
  const mixed = g.add(past, g.mul(pNew!, vh)); // [B, H, 1, Dh]
  return g.reshape(g.transpose(mixed, [0, 2, 1, 3]), [0, 0, D]);
}

/** com.microsoft MultiHeadAttention on already-rotated, already-cached heads. */
function contribAttention(
  g: GraphBuilder,
  qh: string,
  presentK: string,
  presentV: string,
  mask: string,
  H: number,
): string {
  // MHA takes Q as [B, T, D] and K/V as [B, H, L, Dh] (BNSH); the mask as an additive bias
  // [1, 1, T, L]. scale = 1 because Wq already carries 1/sqrt(Dh).
  const q = g.reshape(g.transpose(qh, [0, 2, 1, 3]), [0, 0, -1]);
  const bias = g.unsqueeze(mask, [0, 1]);
  const [o] = g.contrib('MultiHeadAttention', [q, presentK, presentV, '', '', bias], {
    num_heads: H,
    scale: float(1),
  });
  return o!;
}

interface EngramBlockArgs {
  h: string;
  rows: string;
  clamp: string;
  li: number;
  D: number;
  SK: number;
  dHead: number;
  tableRows: number;
  table: Float32Array | undefined;
  w: (name: string, shape: number[]) => Float32Array;
  normEps: number;
  conv: { kernel: number; dilation: number } | null;
  convState: string | undefined;
}

/**
 * Gated Engram fusion (DESIGN.md §1): e = table[rows], k = e W_K, v = e W_V,
 * g = <RMSNorm(h), RMSNorm(k)>/sqrt(D), g ← sign(g)·sqrt(max(|g|, 1e-6)), α = sigmoid(g);
 * α is replaced by gate_clamp[li] when that is ≥ 0; y = α·v (+ SiLU(conv(RMSNorm(y))) with a conv).
 * The reported gate is the α actually used.
 */
function engramBlock(
  g: GraphBuilder,
  a: EngramBlockArgs,
): { y: string; gate: string; convOut: string | null } {
  const { D, SK, dHead } = a;
  const E = SK * dHead;
  if (a.table) {
    if (a.table.length !== a.tableRows * dHead)
      throw new Error(`table: expected [${a.tableRows}, ${dHead}], got ${a.table.length} values`);
    g.init('engram.table', a.table, [a.tableRows, dHead]);
  }
  const rowsL = g.op('Gather', [a.rows, g.scalar(a.li, 'int64')], { axis: 2 }); // [B, T, S·K]
  const e = g.reshape(g.gather('engram.table', rowsL), [0, 0, E]); // [B, T, S·K·dHead]
  const p = `engram.${a.li}`;
  const kv = g.matmul(
    e,
    g.init(`${p}.w_kv`, interleaveColumns(a.w('w_k', [E, D]), a.w('w_v', [E, D]), E, D), [E, 2 * D]),
  );
  const [k, v] = g.node('Split', [kv], { axis: 2 }, { outputs: 2 }) as [string, string];
  const hn = g.rmsNorm(a.h, g.init(`${p}.norm_h`, a.w('norm_h', [D]), [D]), a.normEps);
  const kn = g.rmsNorm(k, g.init(`${p}.norm_k`, a.w('norm_k', [D]), [D]), a.normEps);
  const dot = g.op('ReduceSum', [g.mul(hn, kn), g.int64s([-1], 'axes')], { keepdims: 1 }); // [B, T, 1]
  const s = g.mul(dot, g.scalar(1 / Math.sqrt(D)));
  const signed = g.mul(g.op('Sign', [s]), g.sqrt(g.op('Max', [g.op('Abs', [s]), g.scalar(1e-6)])));
  const alpha = g.sigmoid(signed);
  const c = g.op('Gather', [a.clamp, g.scalar(a.li, 'int64')], { axis: 0 }); // scalar
  const used = g.op('Where', [g.op('Less', [c, g.scalar(0)]), alpha, c]); // [B, T, 1]
  let y = g.mul(used, v);
  let convOut: string | null = null;
  if (a.conv && a.convState) {
    const { kernel, dilation } = a.conv;
    const n = g.rmsNorm(y, g.init(`${p}.conv_norm`, a.w('conv.norm', [D]), [D]), a.normEps);
    const full = g.concat([a.convState, n], 1); // [B, (k-1)d + T, D]
    const cw = a.w('conv.weight', [kernel, D]);
    // Depthwise Conv wants [D, 1, kernel]; our weight is [kernel, D].
    const dw = new Float32Array(D * kernel);
    for (let j = 0; j < kernel; j++) for (let d = 0; d < D; d++) dw[d * kernel + j] = cw[j * D + d]!;
    const convd = g.op('Conv', [g.transpose(full, [0, 2, 1]), g.init(`${p}.conv_w`, dw, [D, 1, kernel])], {
      group: D,
      kernel_shape: [kernel],
      dilations: [dilation],
    }); // [B, D, T]
    y = g.add(y, g.silu(g.transpose(convd, [0, 2, 1])));
    const L = (kernel - 1) * dilation;
    convOut = g.slice(full, [-L], [2 ** 62], [1]);
  }
  return { y, gate: used, convOut };
}
