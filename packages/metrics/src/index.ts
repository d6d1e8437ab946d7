export { bootstrapInterval, fidInterval, type Interval, isInterval, percentile } from './bootstrap.js';
export {
  type ComputeMetricsOptions,
  computeMetrics,
  computeReference,
  type ExtractorSpec,
  type ExtractorSpecInput,
  extractorSpecSchema,
  FeatureExtractor,
  type ImageBatch,
  type MetricsReport,
  prepareImages,
  resizeBilinear,
} from './features.js';
export { type FidOptions, type FidResult, frechetDistance, type Gaussian, gaussianOf } from './fid.js';
export {
  classConsistency,
  type InceptionScore,
  inceptionScore,
  inceptionScoreFromProbs,
  softmaxRows,
} from './is.js';
export {
  ConvergenceError,
  dotRows,
  type PivotedCholesky,
  pivotedCholesky,
  type SymEig,
  symEig,
} from './linalg.js';
export { type EngineName, getEngine, type MatmulEngine, onnxEngine, splitF32, tsEngine } from './matmul.js';
export { kthNeighbourRadii, type PrecisionRecall, precisionRecall } from './prd.js';
export {
  computeStats,
  FeatureStats,
  type Features,
  loadReference,
  type ReferenceStats,
  type StatsOptions,
  saveReference,
} from './stats.js';
