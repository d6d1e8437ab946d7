// `engram-ar export` (checkpoint → model.onnx + model.json) and `engram-ar sample` (ONNX Runtime
// generation → code grids, optionally decoded to a PNG grid through the tokenizer's decoder.onnx).
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { exportOnnx } from '@engram-ar/ar-backbone';
import { writeGridPng } from '@engram-ar/datasets';
import { decodeCodes, type GenerateProgress, generate, imagesToUint8, loadModel } from '@engram-ar/sampler';
import { atomicWriteFile } from '@engram-ar/tensor/safetensors';
import { writeCodeGrids } from '@engram-ar/vq-tokenizer';
import { type Command, InvalidArgumentError, Option } from 'commander';
import { integer, positiveInt } from '../options.js';

function nonNegative(value: string): number {
  const n = Number(value);
  if (!(Number.isFinite(n) && n >= 0))
    throw new InvalidArgumentError(`expected a number ≥ 0, got '${value}'`);
  return n;
}

function unitInterval(value: string): number {
  const n = Number(value);
  if (!(n > 0 && n <= 1)) throw new InvalidArgumentError(`expected a number in (0, 1], got '${value}'`);
  return n;
}

/** 'all' (classes round-robin), one id, or a comma list. */
function classList(value: string): 'all' | number[] {
  if (value === 'all') return 'all';
  const ids = value.split(',').map((s) => Number(s));
  if (ids.some((x) => !Number.isInteger(x) || x < 0))
    throw new InvalidArgumentError(`expected 'all' or comma-separated class ids, got '${value}'`);
  return ids;
}

/** 'learned', one constant for every Engram layer, or a comma list per layer ('learned' allowed). */
function gateClamp(value: string): number | (number | null)[] | null {
  if (value === 'learned') return null;
  const parts = value.split(',').map((s) => (s === 'learned' ? null : Number(s)));
  if (parts.some((x) => x !== null && !(Number.isFinite(x) && x >= 0)))
    throw new InvalidArgumentError(`expected 'learned', a number ≥ 0, or a comma list, got '${value}'`);
  return parts.length === 1 ? parts[0]! : parts;
}

function duration(ms: number): string {
  if (!Number.isFinite(ms)) return '?';
  const s = Math.round(ms / 1000);
  return s >= 60 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s` : `${s}s`;
}

/** One-line progress bar: images, codes/s, ETA. */
export function progressLine(p: GenerateProgress, width = 24): string {
  const filled = Math.round((p.totalCodes ? p.codes / p.totalCodes : 1) * width);
  return (
    `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] images ${p.done}/${p.total}  ` +
    `${p.codesPerSec.toFixed(0)} codes/s  ETA ${duration(p.etaMs)}`
  );
}

interface SampleOptions {
  model: string;
  out: string;
  n: number;
  classes: 'all' | number[];
  cfg: number;
  temperature: number;
  topK: number;
  topP: number;
  seed: number;
  batchSize: number;
  gateClamp: number | (number | null)[] | null;
  tokenizer?: string;
  cols?: number;
  threads?: number;
}

export function registerSampleCommands(program: Command): void {
  program
    .command('export')
    .description('export a GPT checkpoint to DIR/model.onnx + DIR/model.json (the sampler step graph)')
    .requiredOption('--checkpoint <file>', 'training checkpoint (foo.safetensors with foo.json sidecar)')
    .requiredOption('--out <dir>', 'output directory')
    .addOption(
      new Option('--attention <kind>', 'attention lowering').choices(['plain', 'contrib']).default('plain'),
    )
    .action(async (opts: { checkpoint: string; out: string; attention: 'plain' | 'contrib' }) => {
      const m = await exportOnnx(opts.checkpoint, opts.out, { attention: opts.attention });
      console.log(
        `${join(opts.out, m.onnx)}: ${m.nLayer} layers, dim ${m.dim}, grid ${m.grid.height}x${m.grid.width}, ` +
          `vocab ${m.vocab}, ${m.engram ? `Engram at layers ${m.engram.layers} (${m.engram.tableRows} rows)` : 'baseline'}` +
          `${m.externalData ? `, table in ${m.externalData}` : ''}`,
      );
    });

  program
    .command('sample')
    .description('generate code grids with ONNX Runtime (KV cache, CFG) and optionally decode them to PNG')
    .requiredOption('--model <dir>', 'exported model directory (model.json + model.onnx)')
    .requiredOption('--out <dir>', 'output directory: samples.safetensors (+ meta.json, samples.png)')
    .option('--n <n>', 'number of samples', positiveInt, 64)
    .option('--classes <list>', "'all' (round-robin), or comma-separated class ids", classList, 'all')
    .option('--cfg <s>', 'classifier-free guidance scale (1 = off)', nonNegative, 1)
    .option('--temperature <t>', 'softmax temperature (0 = greedy)', nonNegative, 1)
    .option('--top-k <k>', 'keep the k most likely codes (0 = all)', integer, 0)
    .option('--top-p <p>', 'nucleus mass', unitInterval, 1)
    .option('--seed <seed>', 'sampling seed', integer, 0)
    .option('--batch-size <b>', 'grids per ORT batch', positiveInt, 64)
    .option('--gate-clamp <g>', "Engram gate: 'learned', a constant, or per-layer list", gateClamp, null)
    .option('--tokenizer <dir>', 'tokenizer export dir (manifest.json + decoder.onnx) to write samples.png')
    .option('--cols <c>', 'PNG grid columns (default ⌈√n⌉)', positiveInt)
    .option('--threads <t>', 'ORT intra-op threads', positiveInt)
    .action(async (opts: SampleOptions) => {
      const model = await loadModel(opts.model, opts.threads ? { intraOpNumThreads: opts.threads } : {});
      const m = model.manifest;
      const classes =
        opts.classes === 'all'
          ? Int32Array.from({ length: opts.n }, (_, i) => i % m.numClasses)
          : Int32Array.from(
              { length: opts.n },
              (_, i) => (opts.classes as number[])[i % (opts.classes as number[]).length]!,
            );
      const tty = process.stderr.isTTY;
      let last = 0;
      const r = await generate({
        model,
        classes,
        n: opts.n,
        cfgScale: opts.cfg,
        temperature: opts.temperature,
        topK: opts.topK,
        topP: opts.topP,
        seed: opts.seed,
        batchSize: opts.batchSize,
        gateClamp: opts.gateClamp,
        onProgress: (p) => {
          const now = performance.now();
          if (now - last < (tty ? 200 : 5000) && p.done < p.total) return;
          last = now;
          process.stderr.write(tty ? `\r${progressLine(p)}` : `${progressLine(p)}\n`);
        },
      });
      if (tty) process.stderr.write('\n');
      await model.session.release();
      const { height, width } = m.grid;
      await writeCodeGrids(
        opts.out,
        { samples: { codes: r.codes, labels: r.classes } },
        { vocab: m.vocab, numClasses: m.numClasses, height, width, dataset: m.meta.dataset ?? 'samples' },
      );
      const seconds = r.stats.totalMs / 1000;
      const summary: Record<string, unknown> = {
        samples: join(opts.out, 'samples.safetensors'),
        n: opts.n,
        codesPerSec: Number(((opts.n * height * width) / seconds).toFixed(1)),
        seconds: Number(seconds.toFixed(2)),
        shareOutsideOrt: Number((1 - r.stats.ortMs / r.stats.totalMs).toFixed(3)),
      };
      if (opts.tokenizer) {
        const tm = JSON.parse(await readFile(join(opts.tokenizer, 'manifest.json'), 'utf8')) as {
          decoder?: { file: string } | null;
        };
        if (!tm.decoder)
          throw new Error(`${opts.tokenizer}/manifest.json: the tokenizer export has no decoder`);
        const d = await decodeCodes(join(opts.tokenizer, tm.decoder.file), r.codes, [opts.n, height, width]);
        const png = join(opts.out, 'samples.png');
        const cols = opts.cols ?? Math.ceil(Math.sqrt(opts.n));
        await writeGridPng(
          imagesToUint8(d),
          { height: d.height, width: d.width, channels: d.channels },
          cols,
          png,
        );
        summary.png = png;
      }
      await atomicWriteFile(
        join(opts.out, 'sample.json'),
        `${JSON.stringify({ ...summary, options: opts }, null, 2)}\n`,
      );
      console.log(JSON.stringify(summary));
    });
}
