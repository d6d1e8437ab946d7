// Reconstruction quality of a tokenizer on a split: PSNR, code usage, perplexity and — given a
// classifier — its accuracy on the reconstructions next to its accuracy on the originals.
import type { ImageDataset } from '@engram-ar/datasets';
import { imagesNchw } from './images.js';
import type { VQModel } from './model.js';
import { codeStats } from './usage.js';

/** Predicted class per image for images [n,C,H,W] in [-1,1]. */
export type Classifier = (images: Float32Array, n: number) => Promise<Int32Array>;

export interface EvalResult {
  dataset: string;
  images: number;
  /** Mean over images of 10·log10(1 / MSE) with pixels scaled to [0, 1]. */
  psnr: number;
  /** Mean squared error in [0, 1] pixel units over the whole split. */
  mse: number;
  /** Fraction of the codebook used on this split. */
  usage: number;
  /** exp(entropy) of the split's code histogram. */
  perplexity: number;
  vocab: number;
  accuracyOriginal: number | null;
  accuracyReconstructed: number | null;
}

/** Per-image PSNR is capped at this value (a perfect reconstruction has infinite PSNR). */
export const PSNR_CAP = 100;

export function psnrStats(a: Float32Array, b: Float32Array, n: number): { psnr: number; mse: number } {
  const per = a.length / n;
  let sumPsnr = 0;
  let total = 0;
  for (let i = 0; i < n; i++) {
    let se = 0;
    for (let j = i * per; j < (i + 1) * per; j++) {
      const d = (a[j]! - b[j]!) / 2; // [-1,1] → [0,1] units
      se += d * d;
    }
    total += se;
    const mse = se / per;
    sumPsnr += mse === 0 ? PSNR_CAP : Math.min(PSNR_CAP, 10 * Math.log10(1 / mse));
  }
  return { psnr: sumPsnr / n, mse: total / a.length };
}

function accuracy(pred: Int32Array, labels: Int32Array): number {
  let ok = 0;
  for (let i = 0; i < labels.length; i++) if (pred[i] === labels[i]) ok++;
  return ok / labels.length;
}

export async function evaluateTokenizer(
  model: VQModel,
  ds: ImageDataset,
  opts: { classifier?: Classifier; batchSize?: number } = {},
): Promise<EvalResult> {
  const n = ds.labels.length;
  const x = imagesNchw(ds);
  const { h, w } = model.gridSize(ds.height, ds.width);
  const codes = model.encode(x, n, ds.height, ds.width, opts.batchSize);
  const rec = model.decode(codes, n, h, w, opts.batchSize);
  const { psnr, mse } = psnrStats(x, rec, n);
  const stats = codeStats(codes, model.arch.codebookSize);
  let accuracyOriginal: number | null = null;
  let accuracyReconstructed: number | null = null;
  if (opts.classifier) {
    accuracyOriginal = accuracy(await opts.classifier(x, n), ds.labels);
    accuracyReconstructed = accuracy(await opts.classifier(rec, n), ds.labels);
  }
  return {
    dataset: ds.name,
    images: n,
    psnr,
    mse,
    usage: stats.usage,
    perplexity: stats.perplexity,
    vocab: model.arch.codebookSize,
    accuracyOriginal,
    accuracyReconstructed,
  };
}
