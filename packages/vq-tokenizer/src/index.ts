export {
  checkpointExists,
  type LoadedTokenizer,
  loadTokenizer,
  type SaveTokenizerInput,
  saveTokenizer,
} from './checkpoint.js';
export { type CodeSplit, type CodesMeta, CodesMetaSchema, readCodeGrids, writeCodeGrids } from './codes.js';
export {
  type ArchConfig,
  ArchConfigSchema,
  PRESETS,
  type PresetName,
  parseTokenizerConfig,
  presetConfig,
  type TokenizerConfig,
  type TokenizerConfigInput,
  TokenizerConfigSchema,
  type TrainConfig,
  TrainConfigSchema,
} from './config.js';
export { conv2d, convPads } from './conv.js';
export { type Classifier, type EvalResult, evaluateTokenizer, PSNR_CAP, psnrStats } from './evaluate.js';
export {
  buildDecoderGraph,
  buildEncoderGraph,
  type ExportOptions,
  type ExportResult,
  exportOnnx,
  MANIFEST_FORMAT,
  parseManifest,
  type TokenizerManifest,
  TokenizerManifestSchema,
  type TokenizerWeights,
} from './export.js';
export { batchNhwc, imagesNchw, nchwToUint8 } from './images.js';
export { decoderPlan, encoderPlan, groupNorm, initParams, type Layer, paramSpecs, VQModel } from './model.js';
export {
  batchIndices,
  CHECKPOINT_FILE,
  type TrainOptions,
  type TrainProgress,
  type TrainResult,
  trainTokenizer,
} from './train.js';
export { CodeUsage, type CodeUsageState, codeStats } from './usage.js';
