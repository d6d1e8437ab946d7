// @engram-ar/engram main entry: pure TS (no tfjs) so the sampler and probes can use it.
// The tfjs fusion layer is the subpath '@engram-ar/engram/fusion'.
export {
  type EngramConfig,
  type EngramConfigInput,
  EngramConfigSchema,
  engramWidth,
  isStencil2D,
  MAX_TOTAL_ROWS,
  NEIGHBOURS,
  type Neighbour,
  parseEngramConfig,
  Stencil1DSchema,
  Stencil2DSchema,
} from './config.js';
export {
  FUSION_RMS_EPS,
  type FusionShape,
  type FusionWeights,
  fusionReference,
  GATE_SQRT_FLOOR,
} from './fusion-reference.js';
export {
  buildHashSpec,
  checkHashSpec,
  type HashSpec,
  type HashSpecJSON,
  hashSpecToJSON,
  nextPrime,
  rowsForGrids,
  rowsForNext,
  rowsForNextBatch,
  rowsForNextToken,
  rowsForSequences,
} from './hash.js';
export { ADAM_TENSORS, SparseAdam, type SparseAdamOptions, type SparseAdamState } from './sparse-adam.js';
export { ConvState, EngramGenState, fusionReferenceStep } from './state.js';
export { EngramTable, TABLE_TENSOR, type TableInit } from './table.js';
