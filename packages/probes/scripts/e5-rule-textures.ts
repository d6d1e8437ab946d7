// E5 end to end on CPU: rule textures (datasets) → train a small Engram GPT (ar-backbone trainer,
// wasm backend) → export ONNX → gate-clamp + donor probes (this package) → one JSON record.
// With --frozen it also trains the frozen-N(0,1)-table twin with the same seed and runs E4 on the pair.
// The script (not the package) imports tfjs through ar-backbone; probes' src never does.
//
// --reuse probes the models already exported under --out instead of training again. The code grids
// are written to <out>/codes/{train,test}.safetensors, the input format of `engram-ar probe`.
//
//   npx tsx scripts/e5-rule-textures.ts --steps 600 --out results/e5 [--frozen] [--reuse] [--seed 0] [--layer 0]
import { existsSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { exportOnnx, Trainer } from '@engram-ar/ar-backbone';
import { makeRuleTextures } from '@engram-ar/datasets';
import { initBackend } from '@engram-ar/tensor';
import { writeSafetensors } from '@engram-ar/tensor/safetensors';
import { frozenTableProbe } from '../src/frozen-table.js';
import { positiveControl } from '../src/positive-control.js';
import { writeRecord } from '../src/record.js';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
}

const steps = Number(arg('steps', '600'));
const out = arg('out', 'results/e5');
const seed = Number(arg('seed', '0'));
const evalCount = Number(arg('eval', '200'));
/** Backbone layer that gets the Engram block (0 = before any attention; 1 = after one block). */
const engramLayer = Number(arg('layer', '0'));
const frozen = process.argv.includes('--frozen');
const reuse = process.argv.includes('--reuse');
const log = (msg: string) => console.log(`[${new Date().toISOString().slice(11, 19)}] ${msg}`);

const dataCfg = {
  seed: 'e5',
  numClasses: 4,
  vocab: 16,
  height: 8,
  width: 8,
  epsilon: 0.1,
  trainCount: 4000,
  testCount: 500,
};
const modelCfg = {
  vocab: 16,
  height: 8,
  width: 8,
  numClasses: 4,
  nLayer: 2,
  nHead: 2,
  dim: 32,
  mlpHidden: 64,
  seed,
  engram: {
    layers: [engramLayer],
    vocab: 16,
    stencils: [['L', 'U']],
    heads: 2,
    tableRows: 1000,
    dHead: 8,
    seed,
  },
};
const trainOpts = { steps, batchSize: 32, lr: 3e-3, warmupSteps: 30, evalSize: 500, seed };

async function main(): Promise<void> {
  const backend = await initBackend({ backend: 'wasm', log: () => {} });
  log(`backend ${backend.name}; ${steps} steps; out ${out}`);
  const { config, train, test } = makeRuleTextures(dataCfg);
  await mkdir(join(out, 'codes'), { recursive: true });
  for (const [name, s] of [
    ['train', train],
    ['test', test],
  ] as const)
    await writeSafetensors(join(out, 'codes', `${name}.safetensors`), {
      codes: { dtype: 'I32', shape: [s.labels.length, s.height, s.width], data: s.codes },
      labels: { dtype: 'I32', shape: [s.labels.length], data: s.labels },
    });
  const existing = (variant: string) => {
    const dir = join(out, `model-${variant}`);
    return reuse && existsSync(join(dir, 'model.json')) ? dir : null;
  };

  const fit = async (variant: 'learned' | 'frozen') => {
    const t0 = performance.now();
    const t = new Trainer(modelCfg, train, test, { ...trainOpts, frozenTable: variant === 'frozen' });
    const r = await t.run((p) => {
      if (p.step % 50 === 0 || p.step === p.steps)
        log(
          `${variant} step ${p.step}/${p.steps} loss ${p.bitsPerCode.toFixed(3)} bits/code, eta ${p.etaSec.toFixed(0)} s`,
        );
    });
    const dir = join(out, `model-${variant}`);
    await exportOnnx({ model: t.model, table: t.table }, dir, { meta: { variant, steps: String(steps) } });
    t.dispose();
    const info = {
      variant,
      config: modelCfg,
      options: trainOpts,
      finalBitsPerCode: r.finalBitsPerCode,
      stoppedOnNaN: r.stoppedOnNaN,
      trainSeconds: (performance.now() - t0) / 1000,
    };
    log(`${variant}: held-out ${r.finalBitsPerCode.toFixed(4)} bits/code after ${r.step} steps`);
    return { dir, info };
  };

  const rec = await positiveControl({
    train,
    test,
    datasetInfo: { name: 'rule-textures', ...config },
    model: existing('learned') ?? undefined,
    fit: () => fit('learned'),
    evalCount,
    seed,
    onProgress: (p) => log(`${p.stage} (${p.done}/${p.total})`),
  });
  const recPath = join(out, 'e5-positive-control.json');
  // A --reuse run keeps the training facts of the run that produced the model.
  if (!rec.training && existsSync(recPath))
    rec.training = JSON.parse(await readFile(recPath, 'utf8')).training;
  await writeRecord(recPath, rec);
  const d = rec.donor;
  for (const c of d.conditions)
    log(
      `KL ${c.name}: ${c.kl.mean?.toExponential(3)} [${c.kl.low?.toExponential(3)}, ${c.kl.high?.toExponential(3)}]`,
    );
  for (const c of d.comparisons) log(`p(${c.a} vs ${c.b}) = ${c.pValue} (d = ${c.cohensD?.toFixed(3)})`);
  for (const s of rec.gateClamp.settings) log(`g=${s.name}: ${s.bitsPerCode.mean?.toFixed(4)} bits/code`);
  log(`verdict ${JSON.stringify(rec.verdict)}`);

  if (frozen) {
    const frozenDir = existing('frozen') ?? (await fit('frozen')).dir;
    const e4 = await frozenTableProbe({
      seeds: [seed],
      models: [{ seed, learned: join(out, 'model-learned'), frozen: frozenDir }],
      grids: test.codes.subarray(0, evalCount * 64),
      labels: test.labels.subarray(0, evalCount),
    });
    await writeRecord(join(out, 'e4-frozen-table.json'), e4);
    log(`E4 Δbits/code (frozen − learned) ${JSON.stringify(e4.runs[0]!.deltaBitsPerCode)}`);
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
