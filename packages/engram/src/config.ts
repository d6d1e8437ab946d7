// Engram configuration: a zod schema whose errors name the offending field path.
import { z } from 'zod';

/** Causal 2D neighbours of the cell p = (r, c) being predicted (raster order): all are known before p. */
export const NEIGHBOURS = ['L', 'U', 'UL', 'UR'] as const;
export type Neighbour = (typeof NEIGHBOURS)[number];

/** A 2D stencil: an ordered list of distinct causal neighbours, e.g. ['L', 'U']. */
export const Stencil2DSchema = z
  .array(z.enum(NEIGHBOURS))
  .min(1)
  .refine((s) => new Set(s).size === s.length, { message: 'neighbours must be distinct' });

/** A 1D stencil: distinct positive offsets into the past, e.g. [1, 2] = {t-1, t-2}. */
export const Stencil1DSchema = z
  .array(z.number().int().min(1))
  .min(1)
  .refine((s) => new Set(s).size === s.length, { message: 'offsets must be distinct' });

/** Largest global row id + 1 we allow: row ids travel as Int32Array (and int64 in ONNX). */
export const MAX_TOTAL_ROWS = 2 ** 31 - 1;

export const EngramConfigSchema = z
  .object({
    /** Backbone layer indices that get an Engram block (h ← h + y at the start of the layer). */
    layers: z
      .array(z.number().int().min(0))
      .min(1)
      .refine((l) => new Set(l).size === l.length, { message: 'layer indices must be distinct' }),
    /** Either all 2D stencils (code grids) or all 1D stencils (token sequences / raster order). */
    stencils: z.union([z.array(Stencil2DSchema).min(1), z.array(Stencil1DSchema).min(1)]).default([
      ['L', 'U'],
      ['L', 'U', 'UL'],
    ]),
    /** Hash heads K per (layer, stencil); each head has its own prime modulus. */
    heads: z.number().int().min(1).default(4),
    /** Configured rows per head; the actual size of head k is the prime P[l][s][k] ≥ tableRows. */
    tableRows: z.number().int().min(2),
    /** Width of one table row; the retrieved vector e has width S·K·dHead. */
    dHead: z.number().int().min(1),
    /** Codebook (vocabulary) size; ids 0..vocab-1, the pad id is vocab. */
    vocab: z.number().int().min(1),
    /** If true the class id joins every key (class-specific memory). */
    classKeyed: z.boolean().default(false),
    /** Table initialisation: learned rows start N(0, std²); 'frozen' rows are N(0, 1) and never updated. */
    init: z
      .object({
        kind: z.enum(['normal', 'frozen']).default('normal'),
        std: z.number().positive().default(1),
      })
      .default({ kind: 'normal', std: 1 }),
    /** Optional short causal depthwise conv over the raster sequence (zero-initialised). */
    conv: z
      .object({
        enabled: z.boolean().default(false),
        kernel: z.number().int().min(1).default(4),
        dilation: z.number().int().min(1).default(1),
      })
      .default({ enabled: false, kernel: 4, dilation: 1 }),
    /** Seeds the hash multipliers (and, via split labels, the table initialisation). */
    seed: z.union([z.number().int(), z.string()]).default(0),
  })
  .superRefine((c, ctx) => {
    // A generous upper bound of the total row count: primes ≥ tableRows are close to tableRows.
    const heads = c.layers.length * c.stencils.length * c.heads;
    if (heads * (c.tableRows + 2000) > MAX_TOTAL_ROWS) {
      ctx.addIssue({
        code: 'custom',
        path: ['tableRows'],
        message: `${heads} heads × ${c.tableRows} rows exceeds the int32 row-id range`,
      });
    }
  });

export type EngramConfig = z.output<typeof EngramConfigSchema>;
export type EngramConfigInput = z.input<typeof EngramConfigSchema>;

/** Parses and validates; throws one Error listing every problem as `path: message`. */
export function parseEngramConfig(input: unknown): EngramConfig {
  const r = EngramConfigSchema.safeParse(input);
  if (!r.success) {
    const lines = r.error.issues.map((i) => `${i.path.length ? i.path.join('.') : '(root)'}: ${i.message}`);
    throw new Error(`invalid EngramConfig:\n  ${lines.join('\n  ')}`);
  }
  return r.data;
}

/** True if the stencils are 2D neighbour lists (else 1D offset lists). */
export function isStencil2D(cfg: Pick<EngramConfig, 'stencils'>): boolean {
  return typeof cfg.stencils[0]![0] === 'string';
}

/** Width of the retrieved vector e per (position, layer): S·K·dHead. */
export function engramWidth(cfg: Pick<EngramConfig, 'stencils' | 'heads' | 'dHead'>): number {
  return cfg.stencils.length * cfg.heads * cfg.dHead;
}
