// Engram on a code grid: hash → host table → fusion (tfjs) → gradient → sparse Adam; then sampling-time rows.
// Run: cd packages/engram && npx tsx examples/grid.ts

import {
  buildHashSpec,
  EngramGenState,
  EngramTable,
  engramWidth,
  rowsForGrids,
  SparseAdam,
} from '@engram-ar/engram';
import { EngramFusion } from '@engram-ar/engram/fusion';
import { initBackend, tf } from '@engram-ar/tensor';

await initBackend({ backend: 'cpu', log: () => {} });
const cfg = { layers: [2], tableRows: 1000, dHead: 8, vocab: 16 }; // defaults: stencils {L,U},{L,U,UL}, K = 4
const spec = buildHashSpec(cfg);
const table = new EngramTable(spec); // N(0, 1) rows, seeded from cfg.seed
const opt = new SparseAdam(table, { lr: 1e-3, lrMultiplier: 5 });
const fusion = EngramFusion.fromConfig(spec.config, 2, 32); // model width d = 32

const [B, H, W] = [2, 4, 4];
const codes = Int32Array.from({ length: B * H * W }, (_, i) => (i * 5) % 16);
const ids = rowsForGrids(spec, codes, [B, H, W]); // [B, H·W, Le, S·K]
// e enters tfjs as an input; wrapping it in a variable lets variableGrads return d loss / d e as well.
const e = tf.variable(tf.tensor2d(table.gatherRows(ids), [B * H * W, engramWidth(spec.config)]));
const h = tf.randomNormal([B * H * W, 32]) as tf.Tensor2D;
const { value, grads } = tf.variableGrads(() => {
  const { y } = fusion.apply(h, e as tf.Variable<tf.Rank.R2>, { batch: B, seqLen: H * W });
  return tf.mean(tf.square(y));
}, [...Object.values(fusion.variables()), e]);
const eGrad = grads[e.name]!;
const touched = opt.step(ids, eGrad.dataSync() as Float32Array);
console.log(
  `loss ${value.dataSync()[0]!.toFixed(5)}, ${Object.keys(grads).length - 1} fusion weight grads, ${touched} table rows updated of ${table.rows}`,
);

// Sampling: rows of the next position from the codes generated so far.
const state = new EngramGenState(spec, { batch: 1, height: H, width: W });
for (let p = 0; p < 3; p++) state.push(new Int32Array([p]));
console.log('rows for position 3:', Array.from(state.nextRows()).join(' '));
