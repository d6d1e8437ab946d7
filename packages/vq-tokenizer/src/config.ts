// Tokenizer configuration: one zod schema for the architecture and the training run, plus the two
// presets. The architecture part is stored in every checkpoint and ONNX manifest, so a model can be
// rebuilt from its files alone.
import { z } from 'zod';

const posInt = z.number().int().positive();

export const ArchConfigSchema = z
  .object({
    /** Image channels (1 gray, 3 RGB; any count works). */
    channels: posInt,
    /** Channels of the first encoder level; level i has `baseChannels * channelMult[i]`. */
    baseChannels: posInt,
    /** One entry per resolution level; there are log2(downsample) + 1 levels. */
    channelMult: z.array(posInt).min(1),
    /** ResBlocks per level (encoder and decoder alike). */
    numRes: z.number().int().min(0),
    /** Spatial downsample factor f, a power of two: 4 turns 28×28 into 7×7, 16 turns 256² into 16². */
    downsample: posInt,
    /** GroupNorm groups; every channel count of the network must be divisible by it. */
    normGroups: posInt,
    /** Codebook size K (the AR model's vocabulary). */
    codebookSize: posInt,
    /** Code dimension d. Small d (8) is what keeps cosine codebooks well used (LlamaGen). */
    codeDim: posInt,
  })
  .superRefine((a, ctx) => {
    const levels = Math.log2(a.downsample);
    if (!Number.isInteger(levels)) {
      ctx.addIssue({
        code: 'custom',
        path: ['downsample'],
        message: `must be a power of two, got ${a.downsample}`,
      });
      return;
    }
    if (a.channelMult.length !== levels + 1) {
      ctx.addIssue({
        code: 'custom',
        path: ['channelMult'],
        message: `needs log2(downsample) + 1 = ${levels + 1} entries, got ${a.channelMult.length}`,
      });
    }
    a.channelMult.forEach((m, i) => {
      if ((a.baseChannels * m) % a.normGroups !== 0) {
        ctx.addIssue({
          code: 'custom',
          path: ['channelMult', i],
          message: `baseChannels × channelMult[${i}] = ${a.baseChannels * m} is not divisible by normGroups = ${a.normGroups}`,
        });
      }
    });
  });
export type ArchConfig = z.infer<typeof ArchConfigSchema>;

export const TrainConfigSchema = z.object({
  /** Commitment loss weight β (codebook loss has weight 1). */
  beta: z.number().min(0).default(0.25),
  /** A code unused for this many consecutive steps is re-seeded from an encoder output of the batch. */
  restartAfter: posInt.default(50),
  /** Weight of the optional L1 reconstruction term (L2 always has weight 1). */
  l1Weight: z.number().min(0).default(0),
  lr: z.number().positive().default(2e-3),
  warmupSteps: z.number().int().min(0).default(20),
  weightDecay: z.number().min(0).default(1e-4),
  gradClip: z.number().positive().default(1),
  batchSize: posInt.default(32),
  steps: posInt.default(200),
  /** Checkpoint every this many steps (when a checkpoint directory is given). */
  checkpointEvery: posInt.default(100),
  seed: z.union([z.number().int(), z.string()]).default(0),
});
export type TrainConfig = z.infer<typeof TrainConfigSchema>;

export const TokenizerConfigSchema = z.object({
  arch: ArchConfigSchema,
  train: TrainConfigSchema,
});
export type TokenizerConfig = z.infer<typeof TokenizerConfigSchema>;
export type TokenizerConfigInput = z.input<typeof TokenizerConfigSchema>;

/** Parses a config, throwing an error that names the offending field path. */
export function parseTokenizerConfig(input: unknown): TokenizerConfig {
  const r = TokenizerConfigSchema.safeParse(input);
  if (!r.success) {
    const msg = r.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new Error(`invalid tokenizer config: ${msg}`);
  }
  return r.data;
}

export const PRESETS = {
  /** Tiny: trains in well under a minute on the wasm backend; for pipelines and tests, not quality. */
  quickstart: {
    arch: {
      channels: 1,
      baseChannels: 8,
      channelMult: [1, 2, 2],
      numRes: 1,
      downsample: 4,
      normGroups: 4,
      codebookSize: 64,
      codeDim: 8,
    },
    train: { steps: 120, batchSize: 32, lr: 3e-3, restartAfter: 20, checkpointEvery: 40, seed: 0 },
  },
  /** The CPU-scale tokenizer of the study: MNIST / Fashion-MNIST 28×28 → 7×7 codes, K = 128. */
  small: {
    arch: {
      channels: 1,
      baseChannels: 16,
      channelMult: [1, 2, 2],
      numRes: 1,
      downsample: 4,
      normGroups: 8,
      codebookSize: 128,
      codeDim: 8,
    },
    train: { steps: 1200, batchSize: 32, lr: 2e-3, restartAfter: 50, checkpointEvery: 100, seed: 0 },
  },
} as const satisfies Record<string, TokenizerConfigInput>;
export type PresetName = keyof typeof PRESETS;

/** A preset with `channels` adapted to the dataset and any training overrides applied. */
export function presetConfig(
  name: PresetName,
  overrides: { channels?: number; train?: Partial<TrainConfig> } = {},
): TokenizerConfig {
  const p = PRESETS[name];
  return parseTokenizerConfig({
    arch: {
      ...p.arch,
      channelMult: [...p.arch.channelMult],
      channels: overrides.channels ?? p.arch.channels,
    },
    train: { ...p.train, ...overrides.train },
  });
}
