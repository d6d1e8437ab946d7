// @engram-ar/probes: the study's mechanistic probes (E2–E5) on exported models, with their
// statistics. ONNX Runtime only (no TensorFlow.js).
export {
  type Alternative,
  type BootstrapOpts,
  bootstrapMean,
  bootstrapRatio,
  type Comparison,
  cohensD,
  compare,
  divergenceRows,
  jsLogProbs,
  klLogProbs,
  type MeanCI,
  mean,
  type PermutationOpts,
  type PermutationResult,
  pairedD,
  pairedRankBiserial,
  permutationTest,
  rankBiserial,
  variance,
} from './stats.js';
