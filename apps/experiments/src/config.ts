// The run configuration of `engram-ar run`: one zod schema (every field described; errors name the
// field path), three presets and `--set key=value` overrides applied before validation.
import { existsSync } from 'node:fs';
import { FASHION_MNIST_DEFAULT_DIR } from '@engram-ar/datasets';
import { TokenizerConfigSchema } from '@engram-ar/vq-tokenizer';
import { z } from 'zod';

const posInt = z.number().int().positive();
const seed = z.number().int();
const unit = z.number().gt(0).lte(1);

const Stencil = z.array(z.enum(['L', 'U', 'UL', 'UR'])).min(1);

const EngramSettings = z
  .object({
    stencils: z
      .array(Stencil)
      .min(1)
      .describe('2D stencils of causal neighbours, e.g. [["L","U"],["L","U","UL"]]'),
    heads: posInt.describe('hash heads K per (layer, stencil)'),
    dHead: posInt.describe('width of one table row'),
    layers: z
      .array(z.number().int().min(0))
      .min(1)
      .optional()
      .describe('backbone layers with an Engram block (default: layer min(1, nLayer-1))'),
    classKeyed: z.boolean().default(false).describe('the class id joins every hash key'),
    conv: z.boolean().default(false).describe('short causal depthwise conv after the gated fusion'),
  })
  .strict();

const TrainSettings = z
  .object({
    steps: posInt.describe('optimiser steps per variant'),
    batchSize: posInt.describe('grids per step'),
    lr: z.number().positive().describe('peak learning rate (linear warmup, cosine to minLr)'),
    minLr: z.number().min(0).describe('final learning rate'),
    warmupSteps: z.number().int().min(0).describe('linear warmup steps'),
    weightDecay: z.number().min(0).describe('AdamW decoupled weight decay (matrices and embeddings)'),
    tableLrMultiplier: z.number().positive().describe('Engram table lr = lr × this'),
    evalSize: posInt.describe('held-out grids of the final bits/code evaluation'),
    checkpointEvery: z
      .number()
      .int()
      .min(0)
      .describe('checkpoint every N steps (resume point of a killed run; 0 = end only)'),
  })
  .strict();

export const RunConfigSchema = z
  .object({
    preset: z.string().describe('preset this config started from (informational)'),
    seed: seed.describe('root seed of every random stream of the run'),
    backend: z
      .enum(['auto', 'wasm', 'cpu', 'tfjs-node', 'tfjs-node-gpu'])
      .describe('tfjs backend for training stages (auto: tfjs-node-gpu → tfjs-node → wasm → cpu)'),
    workers: z.number().int().min(0).describe('parallel training worker processes (0 = one per core)'),
    data: z
      .object({
        dataset: z.enum(['mnist', 'fashion-mnist', 'folder']).describe('image source'),
        dir: z
          .string()
          .optional()
          .describe('data directory (fashion-mnist IDX files, or folder of class sub-folders)'),
        testDir: z
          .string()
          .optional()
          .describe(
            'folder: held-out images in their own class-per-folder tree (else a seeded split of dir)',
          ),
        size: posInt.optional().describe('folder: images are resized to size×size'),
        channels: z
          .union([z.literal(1), z.literal(3)])
          .optional()
          .describe('folder: 1 gray or 3 RGB'),
        trainCount: z
          .number()
          .int()
          .min(0)
          .optional()
          .describe('use only this many training images (0/absent = all)'),
        testCount: z
          .number()
          .int()
          .min(0)
          .optional()
          .describe('held-out images (dataset default when absent)'),
      })
      .strict()
      .describe('real image data'),
    featureNet: z
      .object({
        extractor: z
          .string()
          .optional()
          .describe(
            'ONNX feature extractor (e.g. Inception-v3 → standard FID); absent = train the small CNN (classifier-FID)',
          ),
        extractorSpec: z
          .record(z.string(), z.unknown())
          .optional()
          .describe(
            "fields of metrics' extractor spec (kind, input, layout, height, width, channels, range, featureOutput, logitsOutput) when the extractor has no sidecar",
          ),
        steps: posInt.describe('feature-net training steps'),
        batchSize: posInt.describe('feature-net batch size'),
        keepFeatures: posInt.describe('real features kept for precision/recall'),
        referenceCount: posInt.describe('real train images whose features form the FID reference'),
      })
      .strict()
      .describe('feature extractor of FID / IS / precision / recall'),
    tokenizer: TokenizerConfigSchema.describe(
      'VQ tokenizer architecture and training (see @engram-ar/vq-tokenizer)',
    ),
    ar: z
      .object({
        totalParams: posInt.describe('parameter budget every variant is solved to (backbone + table)'),
        rhos: z
          .array(unit)
          .min(1)
          .describe('E1 ρ sweep (backbone / total); the baseline ρ = 1 is always trained'),
        engram: EngramSettings.describe('Engram memory settings shared by every variant'),
        solver: z
          .object({
            aspect: z.number().positive().describe('preferred dim per layer'),
            mlpRatio: z.number().positive().describe('preferred SwiGLU hidden / dim'),
            headDim: posInt.describe('head dim for dim ≥ 256 (smaller models use 4 heads)'),
            maxLayers: posInt.describe('largest depth considered'),
          })
          .strict()
          .describe('ρ solver preferences'),
        train: TrainSettings.describe('AR training'),
      })
      .strict()
      .describe('the AR variants of E1 (baseline + ρ sweep)'),
    sampling: z
      .object({
        n: posInt.describe('samples per variant (classes round-robin)'),
        cfgScale: z.number().min(0).describe('classifier-free guidance scale (1 = off)'),
        temperature: z.number().min(0).describe('softmax temperature'),
        topK: z.number().int().min(0).describe('top-k (0 = all)'),
        topP: unit.describe('nucleus mass'),
        batchSize: posInt.describe('grids per ORT batch'),
        gridPerClass: posInt.describe('samples per class shown in the report grids'),
      })
      .strict()
      .describe('sample generation for metrics and report grids'),
    metrics: z
      .object({
        bootstrap: z.number().int().min(0).describe('bootstrap replicates of the FID / IS CIs'),
      })
      .strict()
      .describe('sample-quality metrics'),
    probes: z
      .object({
        rho: unit.describe('ρ of the variant probed by E2/E3 and twinned by E4 (must be in ar.rhos)'),
        evalCount: posInt.describe('held-out grids scored by the probes'),
        poolCount: posInt.describe('donor candidates (first grids of the train split)'),
        bootstrap: posInt.describe('bootstrap replicates of the probe CIs'),
        permutations: posInt.describe('permutation-test permutations'),
        clamps: z.array(z.number().min(0)).min(1).describe('E2 gate values'),
        clampSamples: z
          .number()
          .int()
          .min(0)
          .describe('E2 samples per gate setting for FID/IS (0 = NLL only)'),
        frozenTable: z.boolean().describe('E4: train the frozen-N(0,1)-table twin and compare'),
      })
      .strict()
      .describe('E2–E4 mechanistic probes'),
    positiveControl: z
      .object({
        enabled: z.boolean().describe('E5: rule-texture positive control'),
        data: z
          .object({
            numClasses: posInt.describe('classes'),
            vocab: z.number().int().min(2).describe('codes'),
            height: posInt.describe('grid rows'),
            width: posInt.describe('grid columns'),
            epsilon: z.number().min(0).max(1).describe('probability a code breaks its class rule'),
            trainCount: posInt.describe('training grids'),
            testCount: posInt.describe('held-out grids'),
          })
          .strict()
          .describe('rule-texture dataset'),
        model: z
          .object({
            nLayer: posInt.describe('layers'),
            nHead: posInt.describe('heads'),
            dim: posInt.describe('width'),
            mlpHidden: posInt.describe('SwiGLU hidden width'),
            tableRows: posInt.describe('Engram rows per head'),
            dHead: posInt.describe('Engram row width'),
            heads: posInt.describe('Engram hash heads'),
          })
          .strict()
          .describe('small GPT with an order-2 {L,U} Engram (and its baseline twin)'),
        train: TrainSettings.describe('training of both positive-control models'),
      })
      .strict()
      .describe('E5 positive control'),
  })
  .strict()
  .superRefine((c, ctx) => {
    if (!c.ar.rhos.includes(c.probes.rho))
      ctx.addIssue({
        code: 'custom',
        path: ['probes', 'rho'],
        message: `${c.probes.rho} is not one of ar.rhos (${c.ar.rhos.join(', ')})`,
      });
    if (c.ar.rhos.some((r) => r >= 1))
      ctx.addIssue({
        code: 'custom',
        path: ['ar', 'rhos'],
        message: 'ρ < 1 (the baseline ρ = 1 is implicit)',
      });
    if (c.data.dataset === 'folder' && !c.data.dir)
      ctx.addIssue({ code: 'custom', path: ['data', 'dir'], message: "required when dataset is 'folder'" });
  });

export type RunConfig = z.output<typeof RunConfigSchema>;

/** Validates; throws one Error listing every problem as `path: message`. */
export function parseRunConfig(input: unknown): RunConfig {
  const r = RunConfigSchema.safeParse(input);
  if (!r.success) {
    const lines = r.error.issues.map((i) => `${i.path.length ? i.path.join('.') : '(root)'}: ${i.message}`);
    throw new Error(`invalid run config:\n  ${lines.join('\n  ')}`);
  }
  return r.data;
}

const MNIST_TOKENIZER = {
  channels: 1,
  channelMult: [1, 2, 2],
  numRes: 1,
  downsample: 4,
  normGroups: 4,
  codeDim: 8,
};

const ENGRAM = {
  stencils: [
    ['L', 'U'],
    ['L', 'U', 'UL'],
  ],
  heads: 2,
  dHead: 8,
  classKeyed: false,
  conv: false,
};

/** Tiny: every stage E1–E5 end to end in ≤ 5 min on 2 CPU cores. Not for conclusions. */
function quickstart(): Record<string, unknown> {
  const arTrain = {
    steps: 150,
    batchSize: 32,
    lr: 3e-3,
    minLr: 3e-4,
    warmupSteps: 15,
    weightDecay: 0.05,
    tableLrMultiplier: 5,
    evalSize: 500,
    checkpointEvery: 50,
  };
  return {
    preset: 'quickstart',
    seed: 0,
    backend: 'auto',
    workers: 0,
    data: { dataset: 'mnist', trainCount: 4000, testCount: 1000 },
    featureNet: { steps: 100, batchSize: 64, keepFeatures: 1000, referenceCount: 2000 },
    tokenizer: {
      arch: { ...MNIST_TOKENIZER, baseChannels: 8, codebookSize: 32 },
      train: { steps: 60, batchSize: 32, lr: 4e-3, restartAfter: 15, checkpointEvery: 20, seed: 0 },
    },
    ar: {
      totalParams: 40_000,
      rhos: [0.3, 0.7],
      engram: ENGRAM,
      solver: { aspect: 24, mlpRatio: 8 / 3, headDim: 64, maxLayers: 4 },
      train: arTrain,
    },
    sampling: { n: 200, cfgScale: 1, temperature: 1, topK: 0, topP: 1, batchSize: 100, gridPerClass: 4 },
    metrics: { bootstrap: 20 },
    probes: {
      rho: 0.3,
      evalCount: 100,
      poolCount: 500,
      bootstrap: 200,
      permutations: 999,
      clamps: [0, 0.01, 0.05, 0.1, 0.2, 0.5, 1],
      clampSamples: 0,
      frozenTable: true,
    },
    positiveControl: {
      enabled: true,
      data: { numClasses: 4, vocab: 16, height: 8, width: 8, epsilon: 0.1, trainCount: 2000, testCount: 200 },
      model: { nLayer: 2, nHead: 2, dim: 32, mlpHidden: 64, tableRows: 1000, dHead: 8, heads: 2 },
      train: { ...arTrain, evalSize: 200 },
    },
  };
}

/**
 * CPU-scale study: Fashion-MNIST when installed (else MNIST), the full ρ sweep at 150k parameters;
 * sized for ≤ 2 h on 2 cores (README: measured progress).
 */
function small(): Record<string, unknown> {
  const q = quickstart() as Record<string, Record<string, unknown>>;
  const fashion = existsSync(FASHION_MNIST_DEFAULT_DIR);
  const arTrain = {
    steps: 800,
    batchSize: 32,
    lr: 2e-3,
    minLr: 2e-4,
    warmupSteps: 60,
    weightDecay: 0.05,
    tableLrMultiplier: 5,
    evalSize: 1000,
    checkpointEvery: 100,
  };
  return {
    ...q,
    preset: 'small',
    data: fashion ? { dataset: 'fashion-mnist', testCount: 2000 } : { dataset: 'mnist', testCount: 2000 },
    featureNet: { steps: 400, batchSize: 64, keepFeatures: 5000, referenceCount: 10_000 },
    tokenizer: {
      arch: { ...MNIST_TOKENIZER, baseChannels: 16, normGroups: 8, codebookSize: 128 },
      train: { steps: 300, batchSize: 32, lr: 3e-3, restartAfter: 40, checkpointEvery: 50, seed: 0 },
    },
    ar: {
      totalParams: 150_000,
      rhos: [0.17, 0.3, 0.5, 0.7, 0.9],
      engram: ENGRAM,
      solver: { aspect: 32, mlpRatio: 8 / 3, headDim: 64, maxLayers: 6 },
      train: arTrain,
    },
    sampling: { n: 1000, cfgScale: 1.5, temperature: 1, topK: 0, topP: 1, batchSize: 250, gridPerClass: 8 },
    metrics: { bootstrap: 50 },
    probes: {
      rho: 0.5,
      evalCount: 500,
      poolCount: 2000,
      bootstrap: 1000,
      permutations: 4999,
      clamps: [0, 0.01, 0.05, 0.1, 0.2, 0.5, 1],
      clampSamples: 500,
      frozenTable: true,
    },
    positiveControl: {
      enabled: true,
      data: {
        numClasses: 10,
        vocab: 16,
        height: 8,
        width: 8,
        epsilon: 0.1,
        trainCount: 5000,
        testCount: 500,
      },
      model: { nLayer: 2, nHead: 2, dim: 32, mlpHidden: 64, tableRows: 2000, dHead: 8, heads: 2 },
      train: { ...arTrain, steps: 600, lr: 3e-3, evalSize: 500 },
    },
  };
}

/** The paper's scale: ImageNet folder at 256², 16×16 codes, 16 384 codes, GPU. Validated, not run on CPU. */
function paper(): Record<string, unknown> {
  const s = small() as Record<string, Record<string, unknown>>;
  return {
    ...s,
    preset: 'paper',
    backend: 'tfjs-node-gpu',
    workers: 1,
    data: {
      dataset: 'folder',
      dir: 'data/imagenet/train',
      testDir: 'data/imagenet/val',
      size: 256,
      channels: 3,
    },
    featureNet: {
      // pytorch-fid's Inception-v3 pool3, converted as in the metrics README (no logits: no IS)
      extractor: 'models/inception-fid.onnx',
      extractorSpec: {
        kind: 'inception',
        input: 'images',
        layout: 'NCHW',
        height: 299,
        width: 299,
        channels: 3,
        range: [0, 1],
        featureOutput: 'features',
        batchSize: 32,
      },
      steps: 1,
      batchSize: 64,
      keepFeatures: 10_000,
      referenceCount: 50_000,
    },
    tokenizer: {
      arch: {
        channels: 3,
        baseChannels: 128,
        channelMult: [1, 1, 2, 2, 4],
        numRes: 2,
        downsample: 16,
        normGroups: 32,
        codebookSize: 16_384,
        codeDim: 8,
      },
      train: { steps: 400_000, batchSize: 128, lr: 1e-4, restartAfter: 500, checkpointEvery: 5000, seed: 0 },
    },
    ar: {
      totalParams: 111_000_000,
      rhos: [0.17, 0.3, 0.5, 0.7, 0.9],
      engram: { ...ENGRAM, heads: 4, dHead: 64 },
      solver: { aspect: 64, mlpRatio: 8 / 3, headDim: 64, maxLayers: 24 },
      train: {
        steps: 300_000,
        batchSize: 256,
        lr: 1e-4,
        minLr: 1e-5,
        warmupSteps: 5000,
        weightDecay: 0.05,
        tableLrMultiplier: 5,
        evalSize: 10_000,
        checkpointEvery: 5000,
      },
    },
    sampling: { n: 50_000, cfgScale: 2, temperature: 1, topK: 0, topP: 1, batchSize: 256, gridPerClass: 4 },
    probes: { ...(s.probes as object), evalCount: 2000, poolCount: 20_000, clampSamples: 10_000 },
  };
}

export const PRESETS = { quickstart, small, paper } as const;
export type PresetName = keyof typeof PRESETS;

/** Parses a --set value: JSON when it parses (numbers, booleans, arrays, objects), else the raw string. */
export function parseSetValue(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    return raw;
  }
}

/** Applies `a.b.c=value` overrides to a plain config object (before validation); returns a copy. */
export function applyOverrides(
  base: Record<string, unknown>,
  sets: readonly string[],
): Record<string, unknown> {
  const out = structuredClone(base);
  for (const s of sets) {
    const eq = s.indexOf('=');
    if (eq <= 0) throw new Error(`--set ${s}: expected key=value`);
    const path = s.slice(0, eq).split('.');
    if (path.some((p) => p === '')) throw new Error(`--set ${s}: empty path segment`);
    let node: Record<string, unknown> = out;
    for (const key of path.slice(0, -1)) {
      const next = node[key];
      if (next === undefined) node[key] = {};
      else if (next === null || typeof next !== 'object' || Array.isArray(next))
        throw new Error(`--set ${s}: '${key}' is not an object`);
      node = node[key] as Record<string, unknown>;
    }
    node[path.at(-1)!] = parseSetValue(s.slice(eq + 1));
  }
  return out;
}

/** A preset with overrides, validated. */
export function resolveConfig(preset: string, sets: readonly string[] = []): RunConfig {
  const make = PRESETS[preset as PresetName];
  if (!make) throw new Error(`unknown preset '${preset}' (choose from ${Object.keys(PRESETS).join(', ')})`);
  return parseRunConfig(applyOverrides(make(), sets));
}
