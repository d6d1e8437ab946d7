// Parameter and FLOP accounting, and the ρ solver.
//
// ρ = P_backbone / (P_backbone + P_memory). P_memory counts Engram table rows only (rows × dHead);
// everything dense — embeddings, head, attention, MLP, norms, Engram projections/norms/conv — is
// backbone. The baseline (no Engram) has ρ = 1.
import type { EngramConfigInput } from '@engram-ar/engram';
import { type GPTConfig, parseGPTConfig } from './config.js';
import { engramTableParams } from './engram-layer.js';
import { weightSpecs } from './model.js';

export interface ParamCount {
  backbone: number;
  memory: number;
  total: number;
  /** backbone / total (1 for the baseline). */
  rho: number;
}

export function countParams(c: GPTConfig): ParamCount {
  let backbone = 0;
  for (const s of weightSpecs(c)) backbone += s.shape.reduce((a, b) => a * b, 1);
  const memory = c.engram ? engramTableParams(c.engram) : 0;
  const total = backbone + memory;
  return { backbone, memory, total, rho: backbone / total };
}

/**
 * Closed form of the dense (backbone) parameter count, equal to the sum over weightSpecs (tested):
 * V·d (tok_emb) + (C+1)·d (cls_emb) + L·(4d² + 3·d·h + 2d) + d (norm_f) + d·V (head)
 * + per Engram layer 2·E·d (W_K, W_V) + 2d (norms) [+ kernel·d + d with the conv].
 */
export function denseParams(c: GPTConfig): number {
  const d = c.dim;
  let n =
    c.vocab * d +
    (c.numClasses + 1) * d +
    c.nLayer * (4 * d * d + 3 * d * c.mlpHidden + 2 * d) +
    d +
    d * c.vocab;
  if (c.engram) {
    const E = c.engram.stencils.length * c.engram.heads * c.engram.dHead;
    const conv = c.engram.conv.enabled ? c.engram.conv.kernel * d + d : 0;
    n += c.engram.layers.length * (2 * E * d + 2 * d + conv);
  }
  return n;
}

export interface FlopCount {
  /** Forward FLOPs to generate one code with a KV cache, averaged over the grid (2 FLOPs per MAC). */
  perCode: number;
  /** Forward FLOPs per position of a teacher-forced pass over a full grid (attention over all T keys, as executed). */
  forwardPerPosition: number;
  /** Training FLOPs per position (forward + backward ≈ 3 × forward). */
  trainPerPosition: number;
}

/** Matmul FLOPs (embedding lookups, norms and elementwise ops are not counted). */
export function countFlops(c: GPTConfig): FlopCount {
  const d = c.dim;
  const T = c.height * c.width;
  const proj = 2 * (4 * d * d + 3 * d * c.mlpHidden);
  let engram = 0;
  if (c.engram) {
    const e = c.engram.stencils.length * c.engram.heads * c.engram.dHead;
    const conv = c.engram.conv.enabled ? 2 * c.engram.conv.kernel * d : 0;
    engram = c.engram.layers.length * (2 * 2 * e * d + 2 * d + conv);
  }
  const head = 2 * d * c.vocab;
  // Generating code t attends over t+1 cached positions (class token + t codes): mean (T+1)/2.
  const attnCached = c.nLayer * 2 * 2 * d * ((T + 1) / 2);
  const attnFull = c.nLayer * 2 * 2 * d * T;
  const perCode = c.nLayer * proj + engram + head + attnCached;
  const forwardPerPosition = c.nLayer * proj + engram + head + attnFull;
  return { perCode, forwardPerPosition, trainPerPosition: 3 * forwardPerPosition };
}

export interface SolveRhoOptions {
  totalParams: number;
  /** Target ρ in (0, 1]; 1 = baseline (no Engram). */
  rho: number;
  vocab: number;
  height: number;
  width: number;
  numClasses: number;
  /** Engram settings except table size/vocab; layers default to [min(1, nLayer-1)]. */
  engram?: Omit<EngramConfigInput, 'tableRows' | 'vocab' | 'layers'> & { layers?: number[] };
  /** Preferred dim per layer (LlamaGen GPT-B: 768/12 = 64). */
  aspect?: number;
  /** Preferred SwiGLU hidden / dim (LlamaGen: 8/3). */
  mlpRatio?: number;
  /** Head dim for dim ≥ 256; smaller models use 4 heads. */
  headDim?: number;
  maxLayers?: number;
  seed?: number;
  /** Relative tolerance on the backbone and memory budgets (default 0.005). */
  tolerance?: number;
}

export interface SolveRhoResult {
  config: GPTConfig;
  params: ParamCount;
  flops: FlopCount;
}

/**
 * Picks nLayer, dim, mlpHidden (and Engram tableRows) so that total params and ρ land within
 * 2 % of the targets (the solver aims at `tolerance`, default 0.5 %). Among feasible shapes it prefers
 * dim/nLayer ≈ aspect and mlpHidden/dim ≈ mlpRatio.
 */
export function solveRho(o: SolveRhoOptions): SolveRhoResult {
  const aspect = o.aspect ?? 64;
  const ratio = o.mlpRatio ?? 8 / 3;
  const hd = o.headDim ?? 64;
  const tol = o.tolerance ?? 0.005;
  if (!(o.rho > 0 && o.rho <= 1)) throw new Error(`solveRho: rho must be in (0, 1], got ${o.rho}`);
  if (o.rho < 1 && !o.engram) throw new Error('solveRho: rho < 1 needs engram settings');
  const backboneTarget = o.totalParams * o.rho;
  const memoryTarget = o.totalParams - backboneTarget;
  const useEngram = o.rho < 1;

  // Validate the fixed part once; candidates are cheap spreads of it (the winner is re-validated).
  const template = parseGPTConfig({
    vocab: o.vocab,
    height: o.height,
    width: o.width,
    numClasses: o.numClasses,
    nLayer: 64,
    nHead: 4,
    dim: 16,
    mlpHidden: 16,
    seed: o.seed ?? 0,
    engram: useEngram ? { layers: [0], ...o.engram, vocab: o.vocab, tableRows: 2 } : null,
  });
  const build = (nLayer: number, dim: number, mlpHidden: number, tableRows: number): GPTConfig => ({
    ...template,
    nLayer,
    nHead: dim >= 256 ? dim / hd : 4,
    dim,
    mlpHidden,
    engram: template.engram
      ? { ...template.engram, layers: o.engram?.layers ?? [Math.min(1, nLayer - 1)], tableRows }
      : null,
  });

  let best: { score: number; config: GPTConfig } | null = null;
  for (let nLayer = 1; nLayer <= (o.maxLayers ?? 48); nLayer++) {
    if (o.engram?.layers?.some((l) => l >= nLayer) && useEngram) continue;
    for (let dim = 16; dim <= 8192; dim += dim < 256 ? 16 : hd) {
      // Backbone is affine in mlpHidden: fixed + 3·dim·nLayer·mlpHidden. Solve for mlpHidden.
      const fixed = denseParams(build(nLayer, dim, 0, 2));
      const hExact = (backboneTarget - fixed) / (3 * dim * nLayer);
      if (hExact < dim) break; // larger dims only shrink hExact further
      if (hExact > 6 * dim) continue;
      const step = hExact > 256 ? 8 : 1;
      const mlpHidden = Math.max(1, Math.round(hExact / step) * step);
      const score = Math.abs(Math.log(dim / nLayer / aspect)) + Math.abs(Math.log(mlpHidden / dim / ratio));
      if (best && score >= best.score) continue;
      let tableRows = 2;
      if (useEngram) {
        const c0 = build(nLayer, dim, mlpHidden, 2);
        const e = c0.engram!;
        const perRow = e.layers.length * e.stencils.length * e.heads * e.dHead;
        tableRows = Math.max(2, Math.round(memoryTarget / perRow));
        // Head sizes are consecutive primes ≥ tableRows, so they overshoot; correct a few times.
        for (let it = 0; it < 4; it++) {
          const excess = engramTableParams(build(nLayer, dim, mlpHidden, tableRows).engram!) - memoryTarget;
          tableRows = Math.max(2, tableRows - Math.round(excess / perRow));
        }
      }
      const config = build(nLayer, dim, mlpHidden, tableRows);
      const backbone = denseParams(config);
      const total = backbone + (config.engram ? engramTableParams(config.engram) : 0);
      if (Math.abs(backbone - backboneTarget) > tol * backboneTarget) continue;
      // Prime head sizes move the memory in jumps; accept it when total and ρ are within 1.5 %.
      if (Math.abs(total - o.totalParams) > 0.015 * o.totalParams) continue;
      if (Math.abs(backbone / total - o.rho) > 0.015 * o.rho) continue;
      best = { score, config };
    }
  }
  if (!best) {
    throw new Error(
      `solveRho: no shape reaches backbone ${Math.round(backboneTarget)} / memory ${Math.round(memoryTarget)} ` +
        `params (total ${o.totalParams}, rho ${o.rho}); the embeddings and head alone may exceed the backbone budget`,
    );
  }
  const config = parseGPTConfig(best.config);
  return { config, params: countParams(config), flops: countFlops(config) };
}
