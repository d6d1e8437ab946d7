// Per-position divergences between a model's unperturbed next-code distributions and a probed
// run's, summarised per grid (the independent unit for bootstrap and permutation tests: positions
// of one grid share their context, so they are not independent draws).
import { divergenceRows } from './stats.js';

export interface GridDivergence {
  /** Mean over the grid's positions of KL(p_true ‖ p_probe), nats. [N] */
  kl: Float64Array;
  /** Mean over the grid's positions of JS(p_true, p_probe), nats. [N] */
  js: Float64Array;
  /** Mean over grids of the KL at each raster position. [H·W] */
  klByPosition: Float64Array;
  /** Positions with KL = +Infinity (probe put zero mass where the model had some). */
  infinite: number;
  /** With a mask: mean KL over the masked positions (e.g. donor keys differ) and the rest. */
  split: { fraction: number; klMasked: number; klUnmasked: number } | null;
}

/** logProbs of both runs: [N, P, V] (P = H·W positions). */
export function gridDivergence(
  truth: Float32Array,
  probe: Float32Array,
  grids: number,
  positions: number,
  vocab: number,
  mask?: Uint8Array, // [N, P]
): GridDivergence {
  const { kl, js } = divergenceRows(truth, probe, vocab);
  const klGrid = new Float64Array(grids);
  const jsGrid = new Float64Array(grids);
  const byPos = new Float64Array(positions);
  let infinite = 0;
  for (let i = 0; i < grids; i++) {
    let a = 0;
    let b = 0;
    for (let p = 0; p < positions; p++) {
      const v = kl[i * positions + p]!;
      if (v === Number.POSITIVE_INFINITY) infinite++;
      a += v;
      b += js[i * positions + p]!;
      byPos[p]! += v / grids;
    }
    klGrid[i] = a / positions;
    jsGrid[i] = b / positions;
  }
  let split = null;
  if (mask) {
    let inSum = 0;
    let inN = 0;
    let outSum = 0;
    for (let k = 0; k < kl.length; k++) {
      if (mask[k]) {
        inSum += kl[k]!;
        inN++;
      } else outSum += kl[k]!;
    }
    const outN = kl.length - inN;
    split = {
      fraction: inN / kl.length,
      klMasked: inN ? inSum / inN : Number.NaN,
      klUnmasked: outN ? outSum / outN : Number.NaN,
    };
  }
  return { kl: klGrid, js: jsGrid, klByPosition: byPos, infinite, split };
}
