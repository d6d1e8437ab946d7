// Glue between the GPT and @engram-ar/engram: parameter specs of the fusion layers (names from the
// engram package's fusionParamNames, so checkpoints, ONNX export and the sampler agree), the fusion
// layers themselves, the float64 reference of the same fusion, and the table-size accounting.
import { buildHashSpec, type EngramConfig, fusionReference } from '@engram-ar/engram';
import { EngramFusion, fusionParamNames } from '@engram-ar/engram/fusion';
import type { GPTConfig } from './config.js';
import type { HostWeights, WeightSpec } from './model.js';

/** Memory parameters: every table row (Σ over heads of the prime P) × dHead. */
export function engramTableParams(e: EngramConfig): number {
  return buildHashSpec(e).totalRows * e.dHead;
}

/** Width of the retrieved vector e of one Engram layer: S·K·dHead. */
export function engramInWidth(e: EngramConfig): number {
  return e.stencils.length * e.heads * e.dHead;
}

/** Dense weights of the fusion at backbone layer `layer` (backbone params in the ρ accounting). */
export function engramWeightSpecs(c: GPTConfig, layer: number): WeightSpec[] {
  const e = c.engram!;
  const E = engramInWidth(e);
  const n = fusionParamNames(layer);
  const specs: WeightSpec[] = [
    { name: n.wK, shape: [E, c.dim], init: 'normal', decay: true },
    { name: n.wV, shape: [E, c.dim], init: 'normal', decay: true },
    { name: n.normH, shape: [c.dim], init: 'ones', decay: false },
    { name: n.normK, shape: [c.dim], init: 'ones', decay: false },
  ];
  if (e.conv.enabled) {
    specs.push(
      // Zero-initialised so the conv branch starts as an exact no-op.
      { name: n.convWeight, shape: [e.conv.kernel, c.dim], init: 'zeros', decay: true },
      { name: n.convNorm, shape: [c.dim], init: 'ones', decay: false },
    );
  }
  return specs;
}

/** Builds the fusion layers and loads their weights from `host`. */
export function makeFusions(c: GPTConfig, host: HostWeights): Map<number, EngramFusion> {
  const out = new Map<number, EngramFusion>();
  for (const l of c.engram?.layers ?? []) {
    const f = EngramFusion.fromConfig(c.engram!, l, c.dim);
    const named: Record<string, Float32Array> = {};
    for (const s of engramWeightSpecs(c, l)) named[s.name] = host[s.name]!.data;
    f.setWeights(named);
    out.set(l, f);
  }
  return out;
}

/** Float64 fusion at backbone layer `layer` (engram's fusionReference with this model's weights). */
export function referenceEngramFusion(
  c: GPTConfig,
  host: HostWeights,
  layer: number,
  h: Float64Array, // [B·T, d]
  e: Float64Array, // [B·T, E]
  B: number,
  clamp: number,
): { y: Float64Array; gate: Float64Array } {
  const cfg = c.engram!;
  const n = fusionParamNames(layer);
  const get = (name: string) => host[name]!.data;
  return fusionReference(
    {
      wK: get(n.wK),
      wV: get(n.wV),
      normH: get(n.normH),
      normK: get(n.normK),
      ...(cfg.conv.enabled ? { convWeight: get(n.convWeight), convNorm: get(n.convNorm) } : {}),
    },
    h,
    e,
    {
      batch: B,
      seqLen: c.height * c.width,
      d: c.dim,
      inWidth: engramInWidth(cfg),
      clamp,
      ...(cfg.conv.enabled ? { conv: { kernel: cfg.conv.kernel, dilation: cfg.conv.dilation } } : {}),
    },
  );
}
