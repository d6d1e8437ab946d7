// ONNX export: a trained GPT (in memory or a checkpoint) → outDir/model.onnx + outDir/model.json.
//
// The step graph itself (KV cache, 2D RoPE, Engram fusion, conv state; see DESIGN.md §3) is built by
// @engram-ar/sampler's buildStepGraph, the package that runs it; this file maps the backbone onto it:
//   - token ids: codes 0..vocab-1, class c → vocab + c (tok_emb and cls_emb stacked in the graph);
//   - position_ids: sequence position t (0 = class token, t ≥ 1 = code t-1), gathering this model's
//     own ropeTables(config), so the graph rotates exactly as the tfjs forward;
//   - Engram: the table (checkpoint tensor 'engram.table', [totalRows, dHead]) is one initialiser, the
//     hash constants go into model.json for the sampler to verify; tables ≥ 1 GiB go to external data.
import { buildHashSpec, hashSpecToJSON } from '@engram-ar/engram';
import {
  MANIFEST_FORMAT,
  type ModelManifest,
  parseManifest,
  type StepGraphOptions,
  type StepWeights,
  stepIoNames,
  writeStepModel,
} from '@engram-ar/sampler';
import { loadCheckpoint } from '@engram-ar/tensor/safetensors';
import { type GPTConfig, headDim, parseGPTConfig } from './config.js';
import { type GPT, type HostWeights, ropeTables } from './model.js';

/** RMSNorm epsilon of the Engram fusion (engram's FUSION_RMS_EPS). */
const ENGRAM_NORM_EPS = 1e-6;
const TABLE_TENSOR = 'engram.table';

export interface ExportOptions {
  /** Attention lowering: plain ai.onnx ops or com.microsoft MultiHeadAttention. Default 'plain'. */
  attention?: 'plain' | 'contrib';
  /** Initialisers at least this many bytes go to `model.onnx.data`. Default 1 GiB. */
  externalDataThreshold?: number;
  /** Extra provenance strings for model.json's `meta`. */
  meta?: Record<string, string>;
}

/** What can be exported: host weights (+ table), a live GPT (+ table), or a checkpoint path. */
export type ExportSource =
  | { config: GPTConfig; weights: HostWeights; table?: Float32Array | null }
  | { model: GPT; table?: Float32Array | { data: Float32Array } | null }
  | string;

/** Maps a backbone config + weights onto the sampler's step-graph options (no files written). */
export function stepGraphOptions(
  config: GPTConfig,
  weights: HostWeights,
  table: Float32Array | null,
  opts: ExportOptions = {},
): StepGraphOptions {
  const c = parseGPTConfig(config);
  const attention = opts.attention ?? 'plain';
  const spec = c.engram ? buildHashSpec(c.engram) : null;
  const engramLayers = c.engram?.layers ?? [];
  const io = stepIoNames({
    nLayer: c.nLayer,
    engram: spec ? { layers: engramLayers, conv: convOf(c) } : null,
  });
  const manifest: ModelManifest = parseManifest({
    format: MANIFEST_FORMAT,
    onnx: 'model.onnx',
    grid: { height: c.height, width: c.width },
    vocab: c.vocab,
    numClasses: c.numClasses,
    nullClass: c.numClasses,
    classTokenOffset: c.vocab,
    nLayer: c.nLayer,
    nHead: c.nHead,
    headDim: headDim(c),
    dim: c.dim,
    maxSeq: c.height * c.width,
    engram:
      spec && c.engram
        ? {
            config: c.engram,
            hash: hashSpecToJSON(spec),
            layers: engramLayers,
            rowsPerLayer: spec.numStencils * spec.heads,
            dHead: c.engram.dHead,
            tableRows: spec.totalRows,
            conv: convOf(c),
          }
        : null,
    opset: 17,
    attention,
    io,
    meta: { exporter: '@engram-ar/ar-backbone', ...opts.meta },
  });
  const step: StepWeights = {};
  for (const [name, t] of Object.entries(weights)) {
    // The fusion's parameters are named engram.{layer}.* (engram's fusionParamNames); a backbone that
    // nests them as blocks.{layer}.engram.* is mapped onto that canonical name.
    const nested = /^blocks\.(\d+)\.engram\.(.+)$/.exec(name);
    step[nested ? `engram.${nested[1]}.${nested[2]}` : name] = t;
  }
  if (spec && !table) throw new Error('exportOnnx: an Engram model needs its table (engram.table)');
  const { cos, sin } = ropeTables(c);
  return {
    manifest,
    weights: step,
    rope: { cos, sin, block: headDim(c) / 4 },
    normEps: c.normEps,
    engramNormEps: ENGRAM_NORM_EPS,
    table: table ?? undefined,
    attention,
  };
}

function convOf(c: GPTConfig): { kernel: number; dilation: number } | null {
  const conv = c.engram?.conv;
  return conv?.enabled ? { kernel: conv.kernel, dilation: conv.dilation } : null;
}

async function resolveSource(src: ExportSource): Promise<{
  config: GPTConfig;
  weights: HostWeights;
  table: Float32Array | null;
  meta: Record<string, string>;
}> {
  if (typeof src === 'string') {
    const { tensors, sidecar } = await loadCheckpoint(src);
    const s = sidecar as { config?: unknown; step?: number };
    if (!s?.config) throw new Error(`${src}: checkpoint sidecar has no 'config'`);
    const config = parseGPTConfig(s.config);
    const weights: HostWeights = {};
    for (const [name, t] of Object.entries(tensors)) {
      // Optimiser state rides along in training checkpoints; the graph reads only the names it needs.
      if (name === TABLE_TENSOR || t.dtype !== 'F32') continue;
      weights[name] = { shape: t.shape, data: t.data as Float32Array };
    }
    const table = tensors[TABLE_TENSOR]?.data as Float32Array | undefined;
    return { config, weights, table: table ?? null, meta: { checkpoint: src, step: String(s.step ?? '') } };
  }
  if ('model' in src) {
    const t = src.table;
    const table = t ? (t instanceof Float32Array ? t : t.data) : null;
    return { config: src.model.config, weights: src.model.toHost(), table, meta: {} };
  }
  return { config: src.config, weights: src.weights, table: src.table ?? null, meta: {} };
}

/**
 * Writes outDir/model.onnx (+ model.onnx.data for tables ≥ the threshold) and outDir/model.json.
 * Returns the manifest.
 */
export async function exportOnnx(
  src: ExportSource,
  outDir: string,
  opts: ExportOptions = {},
): Promise<ModelManifest> {
  const { config, weights, table, meta } = await resolveSource(src);
  const step = stepGraphOptions(config, weights, table, { ...opts, meta: { ...meta, ...opts.meta } });
  return writeStepModel(outDir, { ...step, externalDataThreshold: opts.externalDataThreshold });
}
