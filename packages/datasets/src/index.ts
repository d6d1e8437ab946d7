export { type DatasetInfo, type DatasetName, listDatasets } from './catalog.js';
export {
  checkDataset,
  classCounts,
  concatDatasets,
  type DatasetSplits,
  datasetSize,
  type ImageDataset,
  type SplitOptions,
  shuffleDataset,
  splitDataset,
  stratifiedQuota,
  subset,
  takeRows,
} from './dataset.js';
export {
  FASHION_MNIST_CLASSES,
  FASHION_MNIST_DEFAULT_DIR,
  FASHION_MNIST_FILES,
  FASHION_MNIST_INSTALL_HINT,
  type FashionMnistOptions,
  type FashionMnistStatus,
  fashionMnistStatus,
  findIdxFile,
  IDX_IMAGES_MAGIC,
  IDX_LABELS_MAGIC,
  type IdxArray,
  loadFashionMnist,
  parseIdx,
  readIdxFile,
} from './fashion-mnist.js';
export { decodeImageFile, FOLDER_IMAGE_EXTENSIONS, type FolderOptions, loadFolder } from './folder.js';
export { type DatasetSpec, loadDataset } from './load.js';
export {
  loadMnist,
  loadMnistAll,
  MNIST_DEFAULT_TEST_COUNT,
  MNIST_SIZE,
  MNIST_TOTAL,
  type MnistOptions,
  mnistDigitsDir,
} from './mnist.js';
export {
  encodePng,
  type GridOptions,
  type ImageBatch,
  type ImageGeometry,
  type RawImage,
  tileImages,
  writeGridPng,
} from './png.js';
export {
  type CodeGridDataset,
  makeRuleTextures,
  parseRuleTextureConfig,
  type ResolvedRuleTextureConfig,
  type RuleTextureConfig,
  type RuleTextures,
  renderCodes,
  ruleAgreement,
  ruleIndex,
  ruleTextureConfigSchema,
} from './rule-textures.js';
