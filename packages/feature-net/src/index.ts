export {
  buildFeatureNetOnnx,
  EXTRACTOR_FORMAT,
  type ExtractorSidecar,
  exportFeatureNetOnnx,
  sidecarPath,
} from './export.js';
export {
  convOutSize,
  createFeatureNet,
  disposeFeatureNet,
  type FeatureNetConfig,
  type FeatureNetConfigInput,
  type FeatureNetModel,
  featureNetConfigSchema,
  forward,
  type ImageGeometry,
  imagesToTensor,
  PARAM_NAMES,
  type ParamName,
  parseFeatureNetConfig,
} from './model.js';
export {
  evaluateAccuracy,
  predict,
  type TrainOptions,
  type TrainProgress,
  trainFeatureNet,
} from './train.js';
