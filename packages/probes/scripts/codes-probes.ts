// E2 + E3 on any code-grid directory (e.g. MNIST codes from `engram-ar tokenizer encode`):
// train a small Engram GPT on <codes>/train.safetensors (ar-backbone trainer, wasm), export it, then
// run the gate-clamp probe and the donor probe (donors from the train split) on the first --eval
// grids of <codes>/test.safetensors. Like e5-rule-textures.ts, tfjs is imported by this script only.
//
// --frozen also trains the frozen-N(0,1)-table twin (same seed schedule) and runs E4 on the pair.
//
//   npx tsx scripts/codes-probes.ts --codes DIR --steps 800 --out results/mnist [--frozen] [--reuse] [--seed 0]
import { existsSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { exportOnnx, Trainer } from '@engram-ar/ar-backbone';
import { initBackend } from '@engram-ar/tensor';
import { readSafetensors } from '@engram-ar/tensor/safetensors';
import { donorProbe } from '../src/donor.js';
import { frozenTableProbe } from '../src/frozen-table.js';
import { gateClampProbe } from '../src/gate-clamp.js';
import { writeRecord } from '../src/record.js';

function arg(name: string, fallback?: string): string {
  const i = process.argv.indexOf(`--${name}`);
  if (i >= 0 && process.argv[i + 1]) return process.argv[i + 1]!;
  if (fallback === undefined) throw new Error(`--${name} is required`);
  return fallback;
}

const codesDir = arg('codes');
const steps = Number(arg('steps', '800'));
const out = arg('out', 'results/codes');
const seed = Number(arg('seed', '0'));
const evalCount = Number(arg('eval', '200'));
const poolCount = Number(arg('pool', '4000'));
const reuse = process.argv.includes('--reuse');
const frozen = process.argv.includes('--frozen');
const log = (msg: string) => console.log(`[${new Date().toISOString().slice(11, 19)}] ${msg}`);

async function split(name: string) {
  const meta = JSON.parse(await readFile(join(codesDir, 'meta.json'), 'utf8'));
  const { tensors } = await readSafetensors(join(codesDir, `${name}.safetensors`));
  return {
    codes: tensors.codes!.data as Int32Array,
    labels: tensors.labels!.data as Int32Array,
    numClasses: meta.numClasses as number,
    vocab: meta.vocab as number,
    height: meta.height as number,
    width: meta.width as number,
    dataset: meta.dataset as string,
  };
}

async function main(): Promise<void> {
  const train = await split('train');
  const test = await split('test');
  const { vocab, height, width, numClasses } = train;
  const modelCfg = {
    vocab,
    height,
    width,
    numClasses,
    nLayer: 2,
    nHead: 2,
    dim: 32,
    mlpHidden: 64,
    seed,
    engram: { layers: [0], vocab, stencils: [['L', 'U']], heads: 2, tableRows: 4000, dHead: 8, seed },
  };
  const trainOpts = { steps, batchSize: 32, lr: 3e-3, warmupSteps: 30, evalSize: 500, seed };
  await mkdir(out, { recursive: true });
  const fit = async (variant: 'learned' | 'frozen') => {
    const dir = join(out, `model-${variant}`);
    if (reuse && existsSync(join(dir, 'model.json'))) return { dir, info: null };
    const backend = await initBackend({ backend: 'wasm', log: () => {} });
    log(
      `${variant}: backend ${backend.name}; ${train.dataset} ${train.labels.length} grids ${height}×${width}, vocab ${vocab}`,
    );
    const t0 = performance.now();
    const t = new Trainer(modelCfg, train, test, { ...trainOpts, frozenTable: variant === 'frozen' });
    const r = await t.run((p) => {
      if (p.step % 50 === 0 || p.step === p.steps)
        log(
          `${variant} step ${p.step}/${p.steps} loss ${p.bitsPerCode.toFixed(3)} bits/code, eta ${p.etaSec.toFixed(0)} s`,
        );
    });
    await exportOnnx({ model: t.model, table: t.table }, dir, { meta: { variant, steps: String(steps) } });
    t.dispose();
    log(`${variant}: held-out ${r.finalBitsPerCode.toFixed(4)} bits/code after ${r.step} steps`);
    const info = {
      variant,
      config: modelCfg,
      options: trainOpts,
      finalBitsPerCode: r.finalBitsPerCode,
      trainSeconds: (performance.now() - t0) / 1000,
    };
    return { dir, info };
  };
  const recPath = join(out, 'probes.json');
  const learned = await fit('learned');
  // A --reuse run keeps the training facts of the run that produced the model.
  const training =
    learned.info ?? (existsSync(recPath) ? JSON.parse(await readFile(recPath, 'utf8')).training : null);
  const dir = learned.dir;
  const P = height * width;
  const n = Math.min(evalCount, test.labels.length);
  const grids = test.codes.subarray(0, n * P);
  const labels = test.labels.subarray(0, n);
  const m = Math.min(poolCount, train.labels.length);
  const pool = { codes: train.codes.subarray(0, m * P), labels: train.labels.subarray(0, m) };
  const progress = (p: { stage: string; done: number; total: number }) =>
    log(`${p.stage} (${p.done}/${p.total})`);
  const gate = await gateClampProbe({ model: dir, grids, labels, seed, onProgress: progress });
  const donor = await donorProbe({ model: dir, grids, labels, pool, seed, onProgress: progress });
  await writeRecord(join(out, 'probes.json'), {
    codes: codesDir,
    dataset: train.dataset,
    training,
    gate,
    donor,
  });
  for (const s of gate.settings) log(`g=${s.name}: ${s.bitsPerCode.mean?.toFixed(4)} bits/code`);
  for (const c of donor.conditions)
    log(
      `KL ${c.name}: ${c.kl.mean?.toExponential(3)} [${c.kl.low?.toExponential(3)}, ${c.kl.high?.toExponential(3)}]`,
    );
  for (const c of donor.comparisons) log(`p(${c.a} vs ${c.b}) = ${c.pValue} (d = ${c.cohensD?.toFixed(3)})`);
  for (const r of donor.ratios) log(`${r.numerator}/${r.denominator} = ${r.ratio.mean?.toFixed(3)}`);
  if (frozen) {
    const f = await fit('frozen');
    const e4 = await frozenTableProbe({
      seeds: [seed],
      models: [{ seed, learned: dir, frozen: f.dir }],
      grids,
      labels,
    });
    await writeRecord(join(out, 'e4-frozen-table.json'), { training: f.info, ...e4 });
    const r = e4.runs[0]!;
    log(`E4 learned ${r.learned.bitsPerCode.mean} frozen ${r.frozen.bitsPerCode.mean} bits/code`);
    log(
      `E4 Δbits/code (frozen − learned) ${JSON.stringify(r.deltaBitsPerCode)} p = ${r.testBitsPerCode.pValue}`,
    );
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
