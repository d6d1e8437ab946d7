// @engram-ar/sampler: run exported engram-ar models with ONNX Runtime only (no TensorFlow.js).

export { type DecodedImages, decodeCodes, imagesToUint8 } from './decode.js';
export {
  type GateClamp,
  type GenerateOptions,
  type GenerateProgress,
  type GenerateResult,
  generate,
  type RowsContext,
  type RowsOverride,
  type RunStats,
  resolveGateClamp,
  type ScoreOptions,
  type ScoreResult,
  score,
} from './generate.js';
export { type LoadedModel, loadModel, manifestHash, releaseModel, resolveModel } from './load.js';
export {
  decodeIoNames,
  type EngramManifest,
  EngramManifestSchema,
  HashSpecJsonSchema,
  MANIFEST_FORMAT,
  type ModelManifest,
  type ModelManifestInput,
  ModelManifestSchema,
  parseManifest,
  readManifest,
  rowsPerLayer,
  stepIoNames,
} from './manifest.js';
export {
  applyCfg,
  argmax,
  candidateDistribution,
  logSoftmax,
  resolveSampling,
  type SamplingOptions,
  sampleLogits,
  topIndices,
  type UniformSource,
} from './sampling.js';
export {
  buildStepGraph,
  EXTERNAL_DATA_THRESHOLD,
  type HostTensor,
  type RopeTables,
  type StepGraphOptions,
  type StepWeights,
  writeStepModel,
} from './step-graph.js';
