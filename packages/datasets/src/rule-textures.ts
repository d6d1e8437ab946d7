// Rule textures: the synthetic positive control of DESIGN.md E5. Each class k owns a random rule table
// `rules[k][L][U] → code` over (left, up) neighbour codes, out-of-grid neighbours reading the pad id
// (= vocab). Grids are filled in raster order; each cell copies the rule of its (L, U) with probability
// 1 - ε and is uniform over the vocabulary otherwise, so the expected rule-agreement rate is
// 1 - ε·(1 - 1/vocab), and an order-2 {L, U} Engram stencil can in principle store the whole rule.
//
// At ε = 0 every grid of a class is the same deterministic texture (the chain starts at rules[k][pad][pad]);
// ε > 0 is what makes samples of a class differ.
//
// For the image pipeline each code is also drawn as a fixed p×p patch (pixel levels 0/85/170/255, all
// patches distinct), giving `rendered` images of (H·p)×(W·p)×C from which the codes are recoverable exactly.
import { Rng } from '@engram-ar/tensor/rng';
import { z } from 'zod';
import type { ImageDataset } from './dataset.js';

export const ruleTextureConfigSchema = z
  .object({
    seed: z.union([z.number().int(), z.string()]).default(0),
    numClasses: z.number().int().min(1).default(10),
    vocab: z.number().int().min(2).default(16),
    height: z.number().int().min(1).default(8),
    width: z.number().int().min(1).default(8),
    epsilon: z.number().min(0).max(1).default(0.1),
    trainCount: z.number().int().nonnegative().default(2000),
    testCount: z.number().int().nonnegative().default(500),
    patchSize: z.number().int().min(1).default(4),
    channels: z.union([z.literal(1), z.literal(3)]).default(1),
  })
  .strict();

export type RuleTextureConfig = z.input<typeof ruleTextureConfigSchema>;
export type ResolvedRuleTextureConfig = z.output<typeof ruleTextureConfigSchema>;

export interface CodeGridDataset {
  name: string;
  codes: Int32Array; // [N, H, W], each in [0, vocab)
  labels: Int32Array; // [N]
  numClasses: number;
  classNames: string[];
  vocab: number; // codes are < vocab; vocab itself is the pad id of out-of-grid neighbours
  height: number; // grid rows
  width: number; // grid columns
  epsilon: number;
  rules: Int32Array; // [numClasses, vocab + 1, vocab + 1]: rules[k][L][U] = code
  rendered: ImageDataset; // [N, H·patch, W·patch, C]
}

export interface RuleTextures {
  config: ResolvedRuleTextureConfig;
  train: CodeGridDataset;
  test: CodeGridDataset;
  patterns: Uint8Array; // [vocab, patch, patch, C]: the drawing of each code
}

const LEVELS = [0, 85, 170, 255];

export function parseRuleTextureConfig(cfg: unknown): ResolvedRuleTextureConfig {
  const r = ruleTextureConfigSchema.safeParse(cfg ?? {});
  if (!r.success) {
    const issue = r.error.issues[0]!;
    throw new Error(`rule-textures: config.${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  return r.data;
}

/** Index of rules[k][l][u] in the flat table. */
export function ruleIndex(vocab: number, k: number, l: number, u: number): number {
  return (k * (vocab + 1) + l) * (vocab + 1) + u;
}

function makePatterns(rng: Rng, vocab: number, p: number, c: number): Uint8Array {
  const size = p * p * c;
  if (size * Math.log2(LEVELS.length) < Math.log2(vocab) + 1) {
    throw new Error(
      `rule-textures: config.patchSize ${p} with ${c} channel(s) is too small to draw ${vocab} distinct codes; raise patchSize`,
    );
  }
  const patterns = new Uint8Array(vocab * size);
  const seen = new Set<string>();
  for (let v = 0; v < vocab; ) {
    const pat = Uint8Array.from({ length: size }, () => LEVELS[rng.int(LEVELS.length)]!);
    const key = pat.join(',');
    if (seen.has(key)) continue;
    seen.add(key);
    patterns.set(pat, v * size);
    v++;
  }
  return patterns;
}

/** Draws code grids [N, H, W] as images [N, H·p, W·p, C] from `patterns` [vocab, p, p, C]. */
export function renderCodes(
  codes: Int32Array,
  n: number,
  height: number,
  width: number,
  patterns: Uint8Array,
  patchSize: number,
  channels: number,
): Uint8Array {
  const p = patchSize;
  const W = width * p;
  const out = new Uint8Array(n * height * p * W * channels);
  for (let i = 0; i < n; i++) {
    for (let r = 0; r < height; r++) {
      for (let c = 0; c < width; c++) {
        const code = codes[(i * height + r) * width + c]!;
        for (let y = 0; y < p; y++) {
          const src = (code * p + y) * p * channels;
          const dst = (((i * height + r) * p + y) * W + c * p) * channels;
          out.set(patterns.subarray(src, src + p * channels), dst);
        }
      }
    }
  }
  return out;
}

function generate(
  rng: Rng,
  n: number,
  cfg: ResolvedRuleTextureConfig,
  rules: Int32Array,
  patterns: Uint8Array,
  split: string,
): CodeGridDataset {
  const { numClasses: K, vocab: V, height: H, width: W, epsilon } = cfg;
  // Exactly balanced labels (counts differ by at most one), in seeded order.
  const labels = new Int32Array(n);
  const perm = rng.split('labels').permutation(n);
  for (let i = 0; i < n; i++) labels[perm[i]!] = i % K;
  const codes = new Int32Array(n * H * W);
  const cells = rng.split('cells');
  for (let i = 0; i < n; i++) {
    const k = labels[i]!;
    const base = i * H * W;
    for (let r = 0; r < H; r++) {
      for (let c = 0; c < W; c++) {
        const l = c > 0 ? codes[base + r * W + c - 1]! : V;
        const u = r > 0 ? codes[base + (r - 1) * W + c]! : V;
        // Draw the coin even when ε is 0 or 1, so the stream layout does not depend on ε.
        const noisy = cells.uniform() < epsilon;
        codes[base + r * W + c] = noisy ? cells.int(V) : rules[ruleIndex(V, k, l, u)]!;
      }
    }
  }
  const classNames = Array.from({ length: K }, (_, k) => `rule-${k}`);
  const p = cfg.patchSize;
  return {
    name: `rule-textures/${split}`,
    codes,
    labels,
    numClasses: K,
    classNames,
    vocab: V,
    height: H,
    width: W,
    epsilon,
    rules,
    rendered: {
      name: `rule-textures/${split}`,
      images: renderCodes(codes, n, H, W, patterns, p, cfg.channels),
      labels,
      numClasses: K,
      classNames,
      height: H * p,
      width: W * p,
      channels: cfg.channels,
    },
  };
}

/**
 * Seeded rule-texture train/test sets sharing one rule table and one code→patch drawing. Streams:
 * `Rng(seed).split('rules' | 'patterns' | 'train' | 'test')`, so changing trainCount leaves the rules,
 * patterns and test set unchanged.
 */
export function makeRuleTextures(cfg: RuleTextureConfig = {}): RuleTextures {
  const config = parseRuleTextureConfig(cfg);
  const { numClasses: K, vocab: V } = config;
  const rng = new Rng(config.seed);
  const rules = new Int32Array(K * (V + 1) * (V + 1));
  const ruleRng = rng.split('rules');
  for (let i = 0; i < rules.length; i++) rules[i] = ruleRng.int(V);
  const patterns = makePatterns(rng.split('patterns'), V, config.patchSize, config.channels);
  return {
    config,
    train: generate(rng.split('train'), config.trainCount, config, rules, patterns, 'train'),
    test: generate(rng.split('test'), config.testCount, config, rules, patterns, 'test'),
    patterns,
  };
}

/** Cells whose code equals the rule of their (L, U) neighbours, out of all cells. */
export function ruleAgreement(ds: CodeGridDataset): { agree: number; total: number } {
  const { vocab: V, height: H, width: W } = ds;
  let agree = 0;
  for (let i = 0; i < ds.labels.length; i++) {
    const base = i * H * W;
    for (let r = 0; r < H; r++) {
      for (let c = 0; c < W; c++) {
        const l = c > 0 ? ds.codes[base + r * W + c - 1]! : V;
        const u = r > 0 ? ds.codes[base + (r - 1) * W + c]! : V;
        if (ds.codes[base + r * W + c] === ds.rules[ruleIndex(V, ds.labels[i]!, l, u)]) agree++;
      }
    }
  }
  return { agree, total: ds.codes.length };
}
