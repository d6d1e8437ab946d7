// `engram-ar datasets …`: list the sources and preview any of them as a PNG grid.
import {
  type DatasetSpec,
  FASHION_MNIST_DEFAULT_DIR,
  listDatasets,
  loadDataset,
  subset,
  writeGridPng,
} from '@engram-ar/datasets';
import { type Command, Option } from 'commander';
import { integer, jsonObject, positiveInt } from '../options.js';

const NAMES = ['mnist', 'fashion-mnist', 'folder', 'rule-textures'] as const;

interface PreviewOptions {
  out: string;
  split: 'train' | 'test';
  n: number;
  cols?: number;
  seed: number;
  scale: number;
  dir?: string;
  spec?: Record<string, unknown>;
}

export function registerDatasetsCommands(program: Command): void {
  const datasets = program.command('datasets').description('image datasets: list sources, preview samples');

  datasets
    .command('list')
    .description('list every dataset source, its sizes, and whether it is available here')
    .option('--fashion-dir <dir>', 'where to look for Fashion-MNIST', FASHION_MNIST_DEFAULT_DIR)
    .option('--json', 'print JSON instead of a table')
    .action((opts: { fashionDir: string; json?: boolean }) => {
      const rows = listDatasets({ fashionMnistDir: opts.fashionDir });
      if (opts.json) {
        console.log(JSON.stringify(rows, null, 2));
        return;
      }
      for (const r of rows) {
        console.log(`${r.name}  [${r.available ? 'available' : 'not available'}]`);
        console.log(`  source: ${r.source}`);
        console.log(`  sizes:  ${r.sizes}`);
        console.log(`  ${r.available ? 'from' : 'how'}:   ${r.note}`);
      }
    });

  datasets
    .command('preview')
    .description('write a PNG grid of n seeded random images of a split, and print their labels')
    .addArgument(program.createArgument('<name>', 'dataset').choices(NAMES))
    .requiredOption('--out <file>', 'PNG file to write')
    .addOption(new Option('--split <split>', 'which split').choices(['train', 'test']).default('train'))
    .option('--n <n>', 'number of images', positiveInt, 64)
    .option('--cols <cols>', 'grid columns (default ⌈√n⌉)', positiveInt)
    .option('--seed <seed>', 'seed of the sample (and of the dataset split)', integer, 0)
    .option('--scale <k>', 'nearest-neighbour upscale per image', positiveInt, 2)
    .option('--dir <dir>', 'data directory (fashion-mnist, folder)')
    .option('--spec <json>', 'extra loadDataset spec fields as JSON, e.g. \'{"epsilon":0.2}\'', jsonObject)
    .action(async (name: (typeof NAMES)[number], opts: PreviewOptions) => {
      const spec = {
        name,
        seed: opts.seed,
        ...(opts.dir ? { dir: opts.dir } : {}),
        ...opts.spec,
      } as DatasetSpec;
      const splits = await loadDataset(spec);
      const ds = splits[opts.split];
      const n = Math.min(opts.n, ds.labels.length);
      const shown = subset(ds, n, opts.seed);
      const cols = opts.cols ?? Math.ceil(Math.sqrt(n));
      const size = await writeGridPng(shown, cols, opts.out, { scale: opts.scale });
      console.log(
        `${opts.out}: ${n} of ${ds.labels.length} ${ds.name} images (${ds.height}x${ds.width}x${ds.channels}), ` +
          `grid ${size.width}x${size.height} px; labels by grid row:`,
      );
      for (let r = 0; r * cols < n; r++) {
        const row = Array.from(
          shown.labels.subarray(r * cols, Math.min(n, (r + 1) * cols)),
          (y) => ds.classNames[y],
        );
        console.log(`  ${row.join(' | ')}`);
      }
    });
}
