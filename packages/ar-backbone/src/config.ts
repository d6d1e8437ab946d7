// GPT configuration: a zod schema whose errors name the offending field path.

import { EngramConfigSchema } from '@engram-ar/engram';
import { z } from 'zod';

export const GPTConfigSchema = z
  .object({
    /** Codebook size; code ids are 0..vocab-1. */
    vocab: z.number().int().min(2),
    /** Code grid height (rows) and width (columns); a sequence covers height·width codes. */
    height: z.number().int().min(1),
    width: z.number().int().min(1),
    /** Number of real classes; the null class (for classifier-free guidance) has id numClasses. */
    numClasses: z.number().int().min(1),
    nLayer: z.number().int().min(1),
    nHead: z.number().int().min(1),
    dim: z.number().int().min(4),
    /** SwiGLU hidden width (w1, w3: dim→mlpHidden; w2: mlpHidden→dim). */
    mlpHidden: z.number().int().min(1),
    ropeBase: z.number().positive().default(10000),
    /** Probability that a training example's class is replaced by the null class. */
    classDropout: z.number().min(0).max(1).default(0.1),
    normEps: z.number().positive().default(1e-5),
    /** Engram memory; null = the pure AR baseline (ρ = 1). */
    engram: EngramConfigSchema.nullable().default(null),
    seed: z.number().int().default(0),
  })
  .superRefine((c, ctx) => {
    if (c.dim % c.nHead !== 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['dim'],
        message: `dim ${c.dim} must be divisible by nHead ${c.nHead}`,
      });
      return;
    }
    // 2D RoPE rotates half of each head's dims by row and half by column, in pairs: head dim % 4 == 0.
    if ((c.dim / c.nHead) % 4 !== 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['nHead'],
        message: `head dim ${c.dim / c.nHead} (dim/nHead) must be a multiple of 4 for 2D RoPE`,
      });
    }
    if (c.engram) {
      if (c.engram.vocab !== c.vocab) {
        ctx.addIssue({
          code: 'custom',
          path: ['engram', 'vocab'],
          message: `Engram vocab ${c.engram.vocab} must equal the model vocab ${c.vocab}`,
        });
      }
      c.engram.layers.forEach((l, i) => {
        if (l >= c.nLayer) {
          ctx.addIssue({
            code: 'custom',
            path: ['engram', 'layers', i],
            message: `Engram layer ${l} does not exist (nLayer ${c.nLayer})`,
          });
        }
      });
    }
  });

export type GPTConfig = z.output<typeof GPTConfigSchema>;
export type GPTConfigInput = z.input<typeof GPTConfigSchema>;

/** Parses and validates a config; throws one Error listing every problem as `path: message`. */
export function parseGPTConfig(input: unknown): GPTConfig {
  const r = GPTConfigSchema.safeParse(input);
  if (!r.success) {
    const lines = r.error.issues.map((i) => `${i.path.length ? i.path.join('.') : '(root)'}: ${i.message}`);
    throw new Error(`invalid GPTConfig:\n  ${lines.join('\n  ')}`);
  }
  return r.data;
}

/** Sequence length T: the class token followed by the first N-1 codes. */
export function seqLen(c: GPTConfig): number {
  return c.height * c.width;
}

export function headDim(c: GPTConfig): number {
  return c.dim / c.nHead;
}
