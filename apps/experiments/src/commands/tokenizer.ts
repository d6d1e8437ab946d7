// `engram-ar tokenizer …`: train the VQ tokenizer, evaluate it, export it to ONNX and turn a dataset
// into code grids (the AR trainer's input).
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { type DatasetSpec, type ImageDataset, loadDataset, writeGridPng } from '@engram-ar/datasets';
import { createSession, ort } from '@engram-ar/onnx';
import { type BackendName, initBackend } from '@engram-ar/tensor';
import { atomicWriteFile } from '@engram-ar/tensor/safetensors';
import {
  CHECKPOINT_FILE,
  type Classifier,
  evaluateTokenizer,
  exportOnnx,
  imagesNchw,
  loadTokenizer,
  nchwToUint8,
  PRESETS,
  type PresetName,
  presetConfig,
  type TrainProgress,
  trainTokenizer,
  writeCodeGrids,
} from '@engram-ar/vq-tokenizer';
import { type Command, Option } from 'commander';
import { integer, positiveInt } from '../options.js';

const DATASETS = ['mnist', 'fashion-mnist', 'folder'] as const;
const BACKENDS = ['wasm', 'cpu', 'tfjs-node', 'tfjs-node-gpu'] as const;

interface DataOptions {
  dataset: (typeof DATASETS)[number];
  dataDir?: string;
  dataSeed: number;
  backend?: BackendName;
}

function addDataOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option('--dataset <name>', 'dataset').choices(DATASETS).default('mnist'))
    .option('--data-dir <dir>', 'data directory (fashion-mnist, folder)')
    .option('--data-seed <n>', 'seed of the dataset split', integer, 0)
    .addOption(new Option('--backend <name>', 'tfjs backend (default: fastest available)').choices(BACKENDS));
}

async function loadSplits(o: DataOptions) {
  const spec = { name: o.dataset, seed: o.dataSeed, ...(o.dataDir ? { dir: o.dataDir } : {}) } as DatasetSpec;
  return loadDataset(spec);
}

async function backend(o: { backend?: BackendName }): Promise<string> {
  const r = await initBackend({ ...(o.backend ? { backend: o.backend } : {}), log: () => {} });
  return r.name;
}

function modelPath(dir: string): string {
  return dir.endsWith('.safetensors') ? dir : join(dir, CHECKPOINT_FILE);
}

function fmtTime(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  const m = Math.floor(s / 60);
  return m > 0 ? `${m}m${String(s % 60).padStart(2, '0')}s` : `${s}s`;
}

/** A one-line progress bar on a TTY (redrawn in place); plain lines every ~5 % or 30 s otherwise. */
function progressReporter(stream: NodeJS.WriteStream): (p: TrainProgress) => void {
  let lastPlain = 0;
  let lastDraw = 0;
  return (p) => {
    const text =
      `step ${p.step}/${p.totalSteps} loss ${p.loss.toFixed(4)} rec ${p.recLoss.toFixed(4)} ` +
      `usage ${(100 * p.usage).toFixed(1)}% ppl ${p.perplexity.toFixed(1)} ETA ${fmtTime(p.etaMs)}`;
    const done = p.step === p.totalSteps;
    if (stream.isTTY) {
      const now = performance.now();
      if (!done && now - lastDraw < 100) return;
      lastDraw = now;
      const width = 24;
      const filled = Math.round((width * p.step) / p.totalSteps);
      stream.write(`\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${text}\x1b[K${done ? '\n' : ''}`);
    } else {
      const every = Math.max(1, Math.round(p.totalSteps / 20));
      if (done || p.step % every === 0 || p.elapsedMs - lastPlain > 30_000) {
        lastPlain = p.elapsedMs;
        stream.write(`${text}\n`);
      }
    }
  };
}

/**
 * An ONNX classifier (feature-net export) as a `Classifier`: argmax of its logits. Input name, layout,
 * pixel range and logits output come from the extractor sidecar `<model>.json` when present; without
 * it: the first input, NCHW, [-1, 1], output `logits` (or the first output).
 */
async function onnxClassifier(path: string, ds: ImageDataset): Promise<Classifier> {
  const session = await createSession(path);
  let side: { input?: string; layout?: string; range?: [number, number]; logitsOutput?: string } = {};
  try {
    side = JSON.parse(await readFile(path.replace(/\.onnx$/, '.json'), 'utf8'));
  } catch {
    // no sidecar: defaults below
  }
  const inputName = side.input ?? session.inputNames[0]!;
  const output =
    side.logitsOutput ?? (session.outputNames.includes('logits') ? 'logits' : session.outputNames[0]!);
  const range = side.range ?? [-1, 1];
  const { height: h, width: w, channels: c } = ds;
  const nhwc = side.layout === 'NHWC';
  return async (images, n) => {
    const batch = 256;
    const pred = new Int32Array(n);
    const per = c * h * w;
    for (let s = 0; s < n; s += batch) {
      const b = Math.min(batch, n - s);
      const x = new Float32Array(b * per);
      for (let i = 0; i < b * per; i++) {
        const v = images[s * per + i]!;
        x[i] = range[0] + ((v + 1) / 2) * (range[1] - range[0]);
      }
      let feed = x;
      let dims = [b, c, h, w];
      if (nhwc) {
        feed = new Float32Array(x.length);
        for (let bi = 0; bi < b; bi++)
          for (let k = 0; k < c; k++)
            for (let p = 0; p < h * w; p++) feed[(bi * h * w + p) * c + k] = x[(bi * c + k) * h * w + p]!;
        dims = [b, h, w, c];
      }
      const out = await session.run({ [inputName]: new ort.Tensor('float32', feed, dims) }, [output]);
      const logits = out[output]!.data as Float32Array;
      const k = logits.length / b;
      for (let i = 0; i < b; i++) {
        let best = 0;
        for (let j = 1; j < k; j++) if (logits[i * k + j]! > logits[i * k + best]!) best = j;
        pred[s + i] = best;
      }
    }
    return pred;
  };
}

export function registerTokenizerCommands(program: Command): void {
  const tok = program.command('tokenizer').description('VQ image tokenizer: train, eval, export, encode');

  addDataOptions(
    tok
      .command('train')
      .description('train the VQ-VAE tokenizer; checkpoints (and resume) in --out')
      .requiredOption('--out <dir>', 'output directory (tokenizer.safetensors + tokenizer.json)')
      .addOption(
        new Option('--preset <name>', 'model/training preset')
          .choices(Object.keys(PRESETS))
          .default('quickstart'),
      )
      .option('--steps <n>', 'override the number of training steps', positiveInt)
      .option('--batch <n>', 'override the batch size', positiveInt)
      .option('--seed <n>', 'override the training seed', integer)
      .option('--train-count <n>', 'use only the first n training images', positiveInt)
      .option('--resume', 'continue from the checkpoint in --out'),
  ).action(
    async (
      o: DataOptions & {
        out: string;
        preset: PresetName;
        steps?: number;
        batch?: number;
        seed?: number;
        trainCount?: number;
        resume?: boolean;
      },
    ) => {
      const be = await backend(o);
      const { train } = await loadSplits(o);
      const ds = o.trainCount
        ? {
            ...train,
            images: train.images.subarray(0, o.trainCount * train.height * train.width * train.channels),
            labels: train.labels.subarray(0, o.trainCount),
          }
        : train;
      const config = presetConfig(o.preset, {
        channels: ds.channels,
        train: {
          ...(o.steps ? { steps: o.steps } : {}),
          ...(o.batch ? { batchSize: o.batch } : {}),
          ...(o.seed !== undefined ? { seed: o.seed } : {}),
        },
      });
      console.error(
        `tokenizer train: ${ds.name} (${ds.labels.length} images ${ds.height}x${ds.width}x${ds.channels}), preset ${o.preset}, ` +
          `${config.train.steps} steps × batch ${config.train.batchSize}, backend ${be}`,
      );
      const r = await trainTokenizer(ds, config, {
        checkpointDir: o.out,
        resume: !!o.resume,
        onProgress: progressReporter(process.stderr),
      });
      const last = r.last;
      const summary = {
        dataset: ds.name,
        preset: o.preset,
        backend: be,
        steps: r.step,
        ...(last
          ? {
              loss: last.loss,
              recLoss: last.recLoss,
              usage: last.usage,
              perplexity: last.perplexity,
              seconds: last.elapsedMs / 1000,
            }
          : {}),
      };
      await atomicWriteFile(join(o.out, 'train-summary.json'), `${JSON.stringify(summary, null, 2)}\n`);
      console.log(JSON.stringify(summary));
    },
  );

  addDataOptions(
    tok
      .command('eval')
      .description(
        'test split: PSNR, code usage, perplexity, classifier accuracy on reconstructions vs originals',
      )
      .requiredOption('--model <dir>', 'tokenizer directory (or .safetensors checkpoint)')
      .option('--classifier <file>', 'ONNX classifier (feature-net) for the accuracy comparison')
      .option('--n <n>', 'evaluate only the first n test images', positiveInt)
      .option('--png <file>', 'also write a PNG: rows of 16 originals, each followed by its reconstructions'),
  ).action(async (o: DataOptions & { model: string; classifier?: string; n?: number; png?: string }) => {
    await backend(o);
    const { model, dataset } = await loadTokenizer(modelPath(o.model));
    const { test } = await loadSplits(o);
    const n = Math.min(o.n ?? test.labels.length, test.labels.length);
    const per = test.height * test.width * test.channels;
    const ds = { ...test, images: test.images.subarray(0, n * per), labels: test.labels.subarray(0, n) };
    const classifier = o.classifier ? await onnxClassifier(o.classifier, ds) : undefined;
    const r = await evaluateTokenizer(model, ds, classifier ? { classifier } : {});
    if (o.png) {
      const cols = 16;
      // Up to two full rows of 16; fewer images than one row are shown as a single short row.
      const shown = n >= cols ? Math.min(2, Math.floor(n / cols)) * cols : n;
      const x = imagesNchw(ds, 0, shown);
      const { h, w } = model.gridSize(ds.height, ds.width);
      const rec = model.decode(model.encode(x, shown, ds.height, ds.width), shown, h, w);
      const { channels: c, height: hh, width: ww } = ds;
      const per = c * hh * ww;
      const rows: Float32Array[] = [];
      for (let s0 = 0; s0 < shown; s0 += cols) {
        const m = Math.min(cols, shown - s0);
        rows.push(x.subarray(s0 * per, (s0 + m) * per), rec.subarray(s0 * per, (s0 + m) * per));
      }
      const all = new Float32Array(rows.reduce((t, r0) => t + r0.length, 0));
      let off = 0;
      for (const r0 of rows) {
        all.set(r0, off);
        off += r0.length;
      }
      const count = all.length / per;
      await writeGridPng(
        nchwToUint8(all, count, c, hh, ww),
        { height: hh, width: ww, channels: c },
        Math.min(cols, shown),
        o.png,
        {
          scale: 2,
        },
      );
    }
    const out = {
      ...r,
      trainedOn: dataset,
      split: 'test',
      classifier: o.classifier ?? null,
      png: o.png ?? null,
    };
    const dir = o.model.endsWith('.safetensors') ? dirname(o.model) : o.model;
    await atomicWriteFile(join(dir, 'eval.json'), `${JSON.stringify(out, null, 2)}\n`);
    console.log(JSON.stringify(out));
  });

  tok
    .command('export')
    .description('write encoder.onnx, decoder.onnx and manifest.json')
    .requiredOption('--model <dir>', 'tokenizer directory (or .safetensors checkpoint)')
    .option('--out <dir>', 'output directory (default: the model directory)')
    .option('--height <n>', 'image height (default: the training images)', positiveInt)
    .option('--width <n>', 'image width (default: the training images)', positiveInt)
    .action(async (o: { model: string; out?: string; height?: number; width?: number }) => {
      await backend({});
      const { model, step, dataset, image } = await loadTokenizer(modelPath(o.model));
      const height = o.height ?? image?.height;
      const width = o.width ?? image?.width;
      if (!height || !width)
        throw new Error('tokenizer export: the checkpoint has no image size; pass --height and --width');
      const dir = o.out ?? (o.model.endsWith('.safetensors') ? dirname(o.model) : o.model);
      const r = await exportOnnx(
        { arch: model.arch, values: model.values() },
        { dir, height, width, trainedSteps: step, ...(dataset ? { dataset } : {}) },
      );
      console.log(
        JSON.stringify({ encoder: r.encoderPath, decoder: r.decoderPath, manifest: r.manifestPath }),
      );
    });

  addDataOptions(
    tok
      .command('encode')
      .description('encode both splits to code grids: train/test.safetensors (codes, labels) + meta.json')
      .requiredOption('--model <dir>', 'tokenizer directory (or .safetensors checkpoint)')
      .requiredOption('--out <dir>', 'output directory for the code grids'),
  ).action(async (o: DataOptions & { model: string; out: string }) => {
    await backend(o);
    const { model } = await loadTokenizer(modelPath(o.model));
    const splits = await loadSplits(o);
    const { h, w } = model.gridSize(splits.train.height, splits.train.width);
    const out: Record<string, { codes: Int32Array; labels: Int32Array }> = {};
    for (const [name, ds] of Object.entries(splits) as [string, ImageDataset][]) {
      const n = ds.labels.length;
      const t0 = performance.now();
      out[name] = { codes: model.encode(imagesNchw(ds), n, ds.height, ds.width), labels: ds.labels };
      console.error(
        `tokenizer encode: ${name} ${n} images in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
      );
    }
    await writeCodeGrids(o.out, out, {
      vocab: model.arch.codebookSize,
      numClasses: splits.train.numClasses,
      height: h,
      width: w,
      dataset: splits.train.name,
      classNames: splits.train.classNames,
    });
    console.log(
      JSON.stringify({
        out: o.out,
        vocab: model.arch.codebookSize,
        grid: [h, w],
        train: splits.train.labels.length,
        test: splits.test.labels.length,
      }),
    );
  });
}
