export {
  applyOverrides,
  PRESETS,
  type PresetName,
  parseRunConfig,
  parseSetValue,
  type RunConfig,
  RunConfigSchema,
  resolveConfig,
} from './config.js';
export { type PoolProgress, WorkerPool } from './pool.js';
export { createProgram } from './program.js';
export { formatRow, type ProgressUpdate, ProgressView } from './progress.js';
export { buildSections, loadRun, type ReportInput, renderSvg, STAGES, writeReport } from './report.js';
export {
  dataSpec,
  planVariants,
  type RunOptions,
  runStudy,
  type StudyResult,
  type VariantPlan,
} from './run.js';
export { type Done, inputsHash, readDone, runUnit, stableStringify } from './stage.js';
