// `engram-ar metrics …`: reference statistics of a real dataset, and FID / IS / precision / recall
// of a folder of generated samples against them.
//
// Without --extractor, `metrics ref` trains the small feature-net classifier on the real train split
// (tfjs), exports it to ONNX beside the reference file and labels every FID "classifier-FID". With
// --extractor inception.onnx (converted by the user from pytorch-fid's weights, see the metrics
// README) the same commands give standard FID. Scoring itself runs on ONNX Runtime only.
import { dirname, resolve } from 'node:path';
import { type DatasetSpec, loadDataset, loadFolder } from '@engram-ar/datasets';
import { evaluateAccuracy, exportFeatureNetOnnx, trainFeatureNet } from '@engram-ar/feature-net';
import {
  computeMetrics,
  computeReference,
  type ExtractorSpecInput,
  FeatureExtractor,
  type ImageBatch,
  loadReference,
  saveReference,
} from '@engram-ar/metrics';
import { atomicWriteFile, initBackend, readSafetensors } from '@engram-ar/tensor';
import { type Command, InvalidArgumentError, Option } from 'commander';
import { integer, jsonObject, positiveInt } from '../options.js';

const NAMES = ['mnist', 'fashion-mnist', 'folder', 'rule-textures'] as const;

interface RefOptions {
  dataset: (typeof NAMES)[number];
  dir?: string;
  out: string;
  split: 'train' | 'test';
  extractor?: string;
  extractorSpec?: Record<string, unknown>;
  steps: number;
  seed: number;
  keep: number;
}

interface FidOptions {
  samples: string;
  ref: string;
  extractor?: string;
  extractorSpec?: Record<string, unknown>;
  bootstrap: number;
  seed: number;
  out?: string;
}

function stripSafetensors(path: string): string {
  return path.replace(/\.safetensors$/, '');
}

function nonNegativeInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0)
    throw new InvalidArgumentError(`expected an integer ≥ 0, got '${value}'`);
  return n;
}

/** `images` U8 [N, H, W, C] and optional `labels` I32 [N] from a .safetensors file. */
async function readSampleTensors(path: string): Promise<ImageBatch> {
  const { tensors } = await readSafetensors(path);
  const img = tensors.images;
  if (img?.dtype !== 'U8' || img.shape.length !== 4) {
    throw new Error(`${path}: expected a U8 tensor 'images' [N, H, W, C]`);
  }
  const [n, height, width, channels] = img.shape as [number, number, number, number];
  const lab = tensors.labels;
  if (lab && (lab.dtype !== 'I32' || lab.shape[0] !== n))
    throw new Error(`${path}: 'labels' must be I32 [${n}]`);
  return {
    images: img.data as Uint8Array,
    height,
    width,
    channels,
    ...(lab ? { labels: lab.data as Int32Array } : {}),
  };
}

/** DIR/<class>/*.png at the reference's size; class ids matched by name against the reference. */
async function readSampleFolder(
  dir: string,
  meta: Record<string, string>,
  spec: { height: number; width: number; channels: 1 | 3 },
): Promise<ImageBatch> {
  const height = Number(meta.height ?? spec.height);
  const width = Number(meta.width ?? spec.width);
  const channels = Number(meta.channels ?? spec.channels) as 1 | 3;
  const { train } = await loadFolder({ dir, size: [height, width], channels, testCount: 0 });
  const refClasses: string[] | undefined = meta.classNames ? JSON.parse(meta.classNames) : undefined;
  const map = train.classNames.map((n) => refClasses?.indexOf(n) ?? -1);
  const labels = map.every((i) => i >= 0) ? train.labels.map((l) => map[l]!) : undefined;
  return { ...train, ...(labels ? { labels } : {}) };
}

export function registerMetricsCommands(program: Command): void {
  const metrics = program
    .command('metrics')
    .description('sample quality: reference statistics, (classifier-)FID, IS, precision/recall');

  metrics
    .command('ref')
    .description(
      'feature statistics of a real dataset split, saved as .safetensors (trains a feature-net unless --extractor)',
    )
    .requiredOption('--out <file>', 'reference statistics file (.safetensors)')
    .addOption(new Option('--dataset <name>', 'real dataset').choices(NAMES).default('mnist'))
    .option('--dir <dir>', 'data directory (fashion-mnist, folder)')
    .addOption(
      new Option('--split <split>', 'split whose statistics are taken')
        .choices(['train', 'test'])
        .default('train'),
    )
    .option('--extractor <onnx>', 'ONNX feature extractor (e.g. Inception-v3 → standard FID)')
    .option('--extractor-spec <json>', 'extractor spec fields (input, layout, height, …) as JSON', jsonObject)
    .option('--steps <n>', 'feature-net training steps', positiveInt, 600)
    .option('--seed <seed>', 'seed of the dataset split and the feature-net', integer, 0)
    .option('--keep <n>', 'real features kept in the file for precision/recall', positiveInt, 10_000)
    .action(async (opts: RefOptions) => {
      const spec = {
        name: opts.dataset,
        seed: opts.seed,
        ...(opts.dir ? { dir: opts.dir } : {}),
      } as DatasetSpec;
      const { train, test } = await loadDataset(spec);
      let extractorPath = opts.extractor ? resolve(opts.extractor) : undefined;
      const meta: Record<string, string> = {
        dataset: opts.dataset,
        split: opts.split,
        height: String(train.height),
        width: String(train.width),
        channels: String(train.channels),
        classNames: JSON.stringify(train.classNames),
      };
      if (!extractorPath) {
        const backend = await initBackend();
        console.error(
          `training feature-net on ${train.labels.length} ${opts.dataset} images (${backend.name})`,
        );
        const model = await trainFeatureNet(
          train,
          { steps: opts.steps, seed: opts.seed },
          { onProgress: (p) => console.error(`  step ${p.step}/${p.steps} loss ${p.loss.toFixed(4)}`) },
        );
        const acc = await evaluateAccuracy(model, test);
        extractorPath = resolve(`${stripSafetensors(opts.out)}.feature-net.onnx`);
        await exportFeatureNetOnnx(model, extractorPath);
        meta.featureNetTestAccuracy = acc.toFixed(4);
        console.error(`feature-net test accuracy ${(acc * 100).toFixed(2)} % → ${extractorPath}`);
      }
      const extractor = await FeatureExtractor.open(
        extractorPath,
        (opts.extractorSpec ?? {}) as ExtractorSpecInput,
      );
      const real = opts.split === 'train' ? train : test;
      const ref = await computeReference(real, extractor, {
        keepFeatures: opts.keep,
        meta: { ...meta, extractor: extractorPath },
      });
      await saveReference(opts.out, ref);
      console.log(
        JSON.stringify({
          out: opts.out,
          label: ref.meta.label,
          count: ref.stats.count,
          dim: ref.stats.dim,
          ...meta,
        }),
      );
    });

  metrics
    .command('fid')
    .description(
      'FID (+95 % CI), IS, precision/recall and class consistency of DIR/<class>/*.png against a reference',
    )
    .requiredOption(
      '--samples <dir>',
      'generated images, one sub-folder per class (class names as in the reference)',
    )
    .requiredOption('--ref <file>', 'reference statistics from `metrics ref`')
    .option('--extractor <onnx>', 'feature extractor (default: the one recorded in the reference)')
    .option('--extractor-spec <json>', 'extractor spec fields as JSON', jsonObject)
    .option('--bootstrap <n>', 'bootstrap replicates for the CIs (0 = none)', nonNegativeInt, 50)
    .option('--seed <seed>', 'bootstrap seed', integer, 0)
    .option('--out <file>', 'also write the report JSON here')
    .action(async (opts: FidOptions) => {
      const ref = await loadReference(opts.ref);
      const extractorPath = opts.extractor ?? ref.meta.extractor;
      if (!extractorPath) throw new Error(`--extractor is required: ${opts.ref} records no extractor`);
      const extractor = await FeatureExtractor.open(
        resolve(dirname(opts.ref), extractorPath),
        (opts.extractorSpec ?? {}) as ExtractorSpecInput,
      );
      const samples = opts.samples.endsWith('.safetensors')
        ? await readSampleTensors(opts.samples)
        : await readSampleFolder(opts.samples, ref.meta, extractor.spec);
      const report = await computeMetrics({
        samples,
        ref,
        extractor,
        bootstrap: opts.bootstrap,
        seed: opts.seed,
      });
      const json = JSON.stringify({ samples: opts.samples, ref: opts.ref, ...report });
      if (opts.out) await atomicWriteFile(opts.out, `${json}\n`);
      console.log(json);
    });
}
