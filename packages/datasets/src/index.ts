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
