// @engram-ar/ar-backbone: class-conditional GPT over VQ code grids with Engram injection, its parameter/FLOP
// accounting and ρ solver, the trainer, a float64 reference forward and the ONNX export.
export {
  countFlops,
  countParams,
  denseParams,
  type FlopCount,
  type ParamCount,
  type SolveRhoOptions,
  type SolveRhoResult,
  solveRho,
} from './accounting.js';
export {
  type GPTConfig,
  type GPTConfigInput,
  GPTConfigSchema,
  headDim,
  parseGPTConfig,
  seqLen,
} from './config.js';
export { engramInWidth, engramTableParams, engramWeightSpecs } from './engram-layer.js';
export { type ExportOptions, type ExportSource, exportOnnx, stepGraphOptions } from './export.js';
export {
  crossEntropy,
  type ForwardInput,
  type ForwardOutput,
  GPT,
  type HostTensor,
  type HostWeights,
  initHostWeights,
  matmul,
  nllSum,
  rmsNorm,
  ropeTables,
  type WeightSpec,
  weightSpecs,
} from './model.js';
export { type ReferenceInput, referenceForward } from './reference.js';
export {
  type CodeGridSet,
  Trainer,
  type TrainOptions,
  type TrainOptionsInput,
  TrainOptionsSchema,
  type TrainProgress,
  type TrainResult,
} from './trainer.js';
