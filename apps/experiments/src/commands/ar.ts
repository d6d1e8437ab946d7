// `engram-ar ar …`: size an AR model for a (total params, ρ) budget and train it on code grids.
//   engram-ar ar solve --codes DIR --variant engram --rho 0.5 --total-params 4e6
//   engram-ar ar train --codes DIR --variant baseline|engram --rho 0.5 --total-params N --out DIR
// The codes DIR is `tokenizer encode` output: train/test.safetensors (codes I32 [N,H,W], labels I32 [N])
// + meta.json (vocab, numClasses, height, width). Training resumes from DIR/checkpoint.safetensors.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import {
  type CodeGridSet,
  countFlops,
  countParams,
  type SolveRhoResult,
  solveRho,
  Trainer,
  type TrainProgress,
} from '@engram-ar/ar-backbone';
import { type BackendName, initBackend } from '@engram-ar/tensor';
import { atomicWriteFile } from '@engram-ar/tensor/safetensors';
import { readCodeGrids } from '@engram-ar/vq-tokenizer';
import { type Command, InvalidArgumentError, Option } from 'commander';
import { integer, jsonObject, positiveInt } from '../options.js';

const BACKENDS: BackendName[] = ['tfjs-node-gpu', 'tfjs-node', 'wasm', 'cpu'];

function positiveNumber(value: string): number {
  const n = Number(value);
  if (!(Number.isFinite(n) && n > 0)) throw new InvalidArgumentError(`expected a number > 0, got '${value}'`);
  return n;
}

function rhoValue(value: string): number {
  const n = Number(value);
  if (!(n > 0 && n <= 1)) throw new InvalidArgumentError(`expected ρ in (0, 1], got '${value}'`);
  return n;
}

function layerList(value: string): number[] {
  const l = value.split(',').map(Number);
  if (l.some((x) => !Number.isInteger(x) || x < 0))
    throw new InvalidArgumentError(`expected comma-separated layer indices, got '${value}'`);
  return l;
}

interface ModelOptions {
  codes: string;
  variant: 'baseline' | 'engram';
  rho: number;
  totalParams: number;
  engramLayers?: number[];
  heads: number;
  dHead: number;
  engram?: Record<string, unknown>;
  seed: number;
}

interface TrainCliOptions extends ModelOptions {
  out: string;
  steps: number;
  batchSize: number;
  lr: number;
  warmup: number;
  evalEvery: number;
  evalSize: number;
  checkpointEvery: number;
  frozenTable?: boolean;
  backend?: BackendName;
}

function addModelOptions(cmd: Command): Command {
  return cmd
    .requiredOption('--codes <dir>', 'code grids (tokenizer encode output)')
    .addOption(new Option('--variant <v>', 'model variant').choices(['baseline', 'engram']).default('engram'))
    .option('--rho <ρ>', 'backbone share of the total params (engram variant)', rhoValue, 0.5)
    .option('--total-params <n>', 'total parameter budget (backbone + table rows)', positiveNumber, 4e6)
    .option('--engram-layers <list>', 'backbone layers with Engram (default: layer 1)', layerList)
    .option('--heads <k>', 'hash heads per stencil', positiveInt, 4)
    .option('--d-head <d>', 'width of a table row', positiveInt, 32)
    .option('--engram <json>', 'extra EngramConfig fields, e.g. \'{"conv":{"enabled":true}}\'', jsonObject)
    .option('--seed <seed>', 'seed of init, batches and hash', integer, 0);
}

async function loadSplits(dir: string): Promise<{ train: CodeGridSet; test: CodeGridSet }> {
  const read = async (split: string): Promise<CodeGridSet> => {
    const s = await readCodeGrids(dir, split);
    const { vocab, numClasses, height, width } = s.meta;
    return { codes: s.codes, labels: s.labels, vocab, numClasses, height, width };
  };
  return { train: await read('train'), test: await read('test') };
}

function solve(o: ModelOptions, data: CodeGridSet): SolveRhoResult {
  const rho = o.variant === 'baseline' ? 1 : o.rho;
  if (o.variant === 'engram' && rho === 1) throw new Error('--variant engram needs --rho < 1');
  const r = solveRho({
    totalParams: o.totalParams,
    rho,
    vocab: data.vocab,
    height: data.height,
    width: data.width,
    numClasses: data.numClasses,
    seed: o.seed,
    engram: {
      heads: o.heads,
      dHead: o.dHead,
      seed: o.seed,
      ...(o.engramLayers ? { layers: o.engramLayers } : {}),
      ...o.engram,
    },
  });
  return r;
}

function summary(r: SolveRhoResult): Record<string, unknown> {
  const c = r.config;
  return {
    nLayer: c.nLayer,
    nHead: c.nHead,
    dim: c.dim,
    mlpHidden: c.mlpHidden,
    engram: c.engram
      ? {
          layers: c.engram.layers,
          tableRows: c.engram.tableRows,
          heads: c.engram.heads,
          dHead: c.engram.dHead,
        }
      : null,
    params: r.params,
    flopsPerCode: r.flops.perCode,
  };
}

function duration(sec: number): string {
  if (!Number.isFinite(sec)) return '?';
  const s = Math.round(sec);
  return s >= 60 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s` : `${s}s`;
}

/** Progress bar on a TTY (redrawn in place), plain lines every ~5 % otherwise. */
function progressReporter(stream: NodeJS.WriteStream): (p: TrainProgress) => void {
  let lastDraw = 0;
  return (p) => {
    const text =
      `step ${p.step}/${p.steps} loss ${p.loss.toFixed(4)} ${p.bitsPerCode.toFixed(3)} bits/code` +
      `${p.evalBitsPerCode !== undefined ? ` (held-out ${p.evalBitsPerCode.toFixed(3)})` : ''} ` +
      `${p.tokensPerSec.toFixed(0)} codes/s ETA ${duration(p.etaSec)}`;
    const done = p.step === p.steps;
    if (stream.isTTY) {
      const now = performance.now();
      if (!done && now - lastDraw < 100) return;
      lastDraw = now;
      const filled = Math.round((24 * p.step) / p.steps);
      stream.write(`\r[${'#'.repeat(filled)}${'.'.repeat(24 - filled)}] ${text}\x1b[K${done ? '\n' : ''}`);
    } else if (
      done ||
      p.step % Math.max(1, Math.round(p.steps / 20)) === 0 ||
      p.evalBitsPerCode !== undefined
    ) {
      stream.write(`${text}\n`);
    }
  };
}

export function registerArCommands(program: Command): void {
  const ar = program
    .command('ar')
    .description('class-conditional AR model over code grids (baseline or Engram)');

  addModelOptions(ar.command('solve').description('print the config the ρ solver picks for a budget')).action(
    async (o: ModelOptions) => {
      const { train } = await loadSplits(o.codes);
      console.log(JSON.stringify(summary(solve(o, train)), null, 2));
    },
  );

  addModelOptions(
    ar.command('train').description('train on code grids; resumes from OUT/checkpoint.safetensors'),
  )
    .requiredOption('--out <dir>', 'run directory (checkpoint, config.json, train.json)')
    .option('--steps <n>', 'training steps', positiveInt, 2000)
    .option('--batch-size <n>', 'grids per step', positiveInt, 64)
    .option('--lr <lr>', 'peak learning rate (cosine to lr/10)', positiveNumber, 1e-3)
    .option('--warmup <n>', 'linear warmup steps', integer, 100)
    .option('--eval-every <n>', 'held-out bits/code every n steps (0 = end only)', integer, 0)
    .option('--eval-size <n>', 'held-out grids per evaluation', positiveInt, 1024)
    .option('--checkpoint-every <n>', 'checkpoint every n steps (0 = end only)', integer, 500)
    .option('--frozen-table', 'E4: table frozen to N(0,1)')
    .addOption(new Option('--backend <name>', 'tfjs backend (default: fastest available)').choices(BACKENDS))
    .action(async (o: TrainCliOptions) => {
      const be = await initBackend({ ...(o.backend ? { backend: o.backend } : {}), log: () => {} });
      const { train, test } = await loadSplits(o.codes);
      const solved = solve(o, train);
      await mkdir(o.out, { recursive: true });
      await atomicWriteFile(join(o.out, 'config.json'), `${JSON.stringify(solved.config, null, 2)}\n`);
      const trainer = await Trainer.create(solved.config, train, test, {
        steps: o.steps,
        batchSize: o.batchSize,
        lr: o.lr,
        minLr: o.lr / 10,
        warmupSteps: Math.min(o.warmup, o.steps),
        evalEvery: o.evalEvery,
        evalSize: o.evalSize,
        checkpointEvery: o.checkpointEvery,
        checkpointPath: join(o.out, 'checkpoint.safetensors'),
        frozenTable: !!o.frozenTable,
        seed: o.seed,
      });
      const p = countParams(trainer.config);
      console.error(
        `ar train: ${o.variant} ${p.total} params (backbone ${p.backbone}, memory ${p.memory}, ρ ${p.rho.toFixed(3)}), ` +
          `${trainer.config.nLayer}×${trainer.config.dim}, backend ${be.name}` +
          `${trainer.step > 0 ? `, resuming at step ${trainer.step}` : ''}`,
      );
      const t0 = performance.now();
      const r = await trainer.run(progressReporter(process.stderr));
      trainer.dispose();
      const result = {
        variant: o.variant,
        backend: be.name,
        params: p,
        flops: countFlops(trainer.config),
        ...r,
        seconds: (performance.now() - t0) / 1000,
      };
      await atomicWriteFile(join(o.out, 'train.json'), `${JSON.stringify(result, null, 2)}\n`);
      console.log(
        JSON.stringify({
          out: o.out,
          step: r.step,
          bitsPerCode: r.finalBitsPerCode,
          stoppedOnNaN: r.stoppedOnNaN,
        }),
      );
      if (r.stoppedOnNaN) process.exitCode = 2;
    });
}
