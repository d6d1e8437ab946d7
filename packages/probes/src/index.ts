// @engram-ar/probes: the study's mechanistic probes (E2–E5) on exported models, with their
// statistics. ONNX Runtime only (no TensorFlow.js).

export {
  type ControlModelKind,
  type ControlModelOptions,
  randomGrids,
  writeControlModel,
} from './control-models.js';
export { type GridDivergence, gridDivergence } from './divergence.js';
export {
  DONOR_KINDS,
  type DonorKind,
  type DonorPool,
  type DonorProbeOptions,
  type DonorProbeProgress,
  donorProbe,
  rowsOverrideFrom,
  type SelectDonorsOptions,
  selectDonors,
  TABLE_CONTROLS,
} from './donor.js';
export {
  type FrozenTableOptions,
  type FrozenTableProgress,
  type FrozenTableSamples,
  frozenTableProbe,
  type TableVariant,
} from './frozen-table.js';
export {
  DEFAULT_CLAMPS,
  GATE_QUANTILES,
  type GateClampOptions,
  type GateClampProgress,
  type GateClampSamples,
  gateClampProbe,
  gateDistribution,
} from './gate-clamp.js';
export { type CodeGrids, type PositiveControlOptions, positiveControl } from './positive-control.js';
export {
  ComparisonSchema,
  ConditionSchema,
  type DonorProbeRecord,
  DonorProbeRecordSchema,
  type FrozenTableRecord,
  FrozenTableRecordSchema,
  type GateClampRecord,
  GateClampRecordSchema,
  jsonSafe,
  MeanCISchema,
  ModelInfoSchema,
  makeRecord,
  modelInfo,
  type PositiveControlRecord,
  PositiveControlRecordSchema,
  type SampleMetrics,
  SampleMetricsSchema,
  writeRecord,
} from './record.js';
export {
  type ImageSampleEvaluatorOptions,
  imageSampleEvaluator,
  reportToSampleMetrics,
  type SampleEvaluator,
} from './sample-metrics.js';
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
export { controlTable, readTable, type TableControl, withTable } from './table-override.js';
