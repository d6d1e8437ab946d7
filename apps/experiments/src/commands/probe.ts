// `engram-ar probe …`: the study's mechanistic probes on exported models (ONNX Runtime only).
//   gate-clamp    E2: held-out bits/code with every Engram gate clamped to g, vs the learned gate
//   donor         E3: hash inputs from matched/adversarial/random/cross-class donors, table controls
//   frozen-table  E4: learned-table vs frozen-N(0,1)-table model pair on the same held-out grids
// Held-out grids come from a code-grid directory (<split>.safetensors with I32 `codes` [N,H,W] and
// `labels` [N], as `engram-ar tokenizer encode` writes). Each command writes one JSON record.
import { join } from 'node:path';
import { FeatureExtractor } from '@engram-ar/metrics';
import {
  DEFAULT_CLAMPS,
  DONOR_KINDS,
  type DonorKind,
  donorProbe,
  frozenTableProbe,
  gateClampProbe,
  imageSampleEvaluator,
  type SampleEvaluator,
  TABLE_CONTROLS,
  type TableControl,
  writeRecord,
} from '@engram-ar/probes';
import { loadModel, releaseModel } from '@engram-ar/sampler';
import { readSafetensors } from '@engram-ar/tensor/safetensors';
import { type Command, InvalidArgumentError } from 'commander';
import { integer, positiveInt } from '../options.js';

interface Common {
  model: string;
  codes: string;
  split: string;
  n: number;
  seed: number;
  bootstrap: number;
  permutations: number;
  out?: string;
}

async function readGrids(
  dir: string,
  split: string,
  n: number,
): Promise<{ codes: Int32Array; labels: Int32Array }> {
  const path = join(dir, `${split}.safetensors`);
  const { tensors } = await readSafetensors(path);
  const codes = tensors.codes;
  const labels = tensors.labels;
  if (codes?.dtype !== 'I32' || labels?.dtype !== 'I32')
    throw new Error(`${path}: needs I32 tensors 'codes' [N,H,W] and 'labels' [N]`);
  const N = Math.min(n, labels.shape[0]!);
  const per = codes.data.length / labels.shape[0]!;
  return {
    codes: (codes.data as Int32Array).subarray(0, N * per),
    labels: (labels.data as Int32Array).subarray(0, N),
  };
}

function numberList(value: string): number[] {
  const xs = value.split(',').map(Number);
  if (xs.some((x) => !Number.isFinite(x) || x < 0))
    throw new InvalidArgumentError(`expected comma-separated numbers ≥ 0, got '${value}'`);
  return xs;
}

function choiceList<T extends string>(allowed: readonly T[]): (value: string) => T[] {
  return (value) => {
    const xs = value.split(',');
    const bad = xs.filter((x) => !allowed.includes(x as T));
    if (bad.length)
      throw new InvalidArgumentError(`unknown ${bad.join(', ')} (choose from ${allowed.join(', ')})`);
    return xs as T[];
  };
}

/** A one-line progress bar on a TTY (redrawn in place), plain lines otherwise. */
function progressBar(label: string): (p: { stage: string; done: number; total: number }) => void {
  const t0 = performance.now();
  const tty = process.stderr.isTTY;
  return (p) => {
    const w = 24;
    const fill = Math.round((p.done / p.total) * w);
    const secs = ((performance.now() - t0) / 1000).toFixed(1);
    const line = `${label} [${'#'.repeat(fill)}${'.'.repeat(w - fill)}] ${p.done}/${p.total} ${p.stage} ${secs}s`;
    if (tty) process.stderr.write(`\r${line.padEnd(100)}${p.done === p.total ? '\n' : ''}`);
    else process.stderr.write(`${line}\n`);
  };
}

const fmt = (x: number | null | undefined, digits = 4) =>
  x === null || x === undefined ? 'n/a' : x.toPrecision(digits);

interface SampleFlags {
  stepGraph?: boolean;
  samples?: number;
  decoder?: string;
  extractor?: string;
  ref?: string;
  cfg: number;
  temperature: number;
  topK?: number;
}

/** Sample-quality options (all four of --samples/--decoder/--extractor/--ref, or none). */
function withSamples(cmd: Command): Command {
  return cmd
    .option(
      '--samples <n>',
      'also generate n samples per setting and score them (needs the three below)',
      positiveInt,
    )
    .option('--decoder <file>', "the tokenizer's decoder.onnx (codes → images)")
    .option('--extractor <file>', 'feature-net or Inception ONNX (with its .json spec sidecar)')
    .option('--ref <file>', 'reference statistics of real images (engram-ar metrics ref)')
    .option('--cfg <s>', 'classifier-free guidance scale of the samples', Number, 1)
    .option('--temperature <t>', 'sampling temperature', Number, 1)
    .option('--top-k <k>', 'top-k sampling', positiveInt)
    .option(
      '--step-graph',
      "generate with the step graph instead of the model's decode.onnx (older exports)",
    );
}

async function sampleOptions(
  o: SampleFlags & { seed: number },
): Promise<
  { n: number; evaluate: SampleEvaluator; cfgScale: number; temperature: number; topK?: number } | undefined
> {
  if (o.samples === undefined) return undefined;
  const missing = (['decoder', 'extractor', 'ref'] as const).filter((k) => !o[k]);
  if (missing.length)
    throw new InvalidArgumentError(`--samples needs ${missing.map((k) => `--${k}`).join(', ')}`);
  const extractor = await FeatureExtractor.open(o.extractor!);
  return {
    n: o.samples,
    evaluate: imageSampleEvaluator({ decoder: o.decoder!, extractor, ref: o.ref!, seed: o.seed }),
    cfgScale: o.cfg,
    temperature: o.temperature,
    topK: o.topK,
  };
}

const sampleSummary = (m: Record<string, { value: number | null }> | undefined) =>
  m
    ? `  samples: ${Object.entries(m)
        .map(([k, v]) => `${k} ${fmt(v.value)}`)
        .join(', ')}`
    : '';

function withCommon(cmd: Command): Command {
  return cmd
    .requiredOption('--model <dir>', 'exported model directory (model.json + model.onnx)')
    .requiredOption('--codes <dir>', 'code-grid directory (<split>.safetensors with codes, labels)')
    .option('--split <name>', 'held-out split', 'test')
    .option('--n <n>', 'held-out grids (the first n of the split)', positiveInt, 200)
    .option('--seed <seed>', 'root seed (donors, bootstrap, permutations, samples)', integer, 0)
    .option('--bootstrap <k>', 'bootstrap replicates', positiveInt, 2000)
    .option('--permutations <k>', 'permutation-test permutations', positiveInt, 9999)
    .option('--out <file>', 'write the JSON record here (default: print it)');
}

async function emit(record: unknown, out: string | undefined, summary: string[]): Promise<void> {
  for (const line of summary) console.error(line);
  if (out) {
    await writeRecord(out, record);
    console.error(`record written to ${out}`);
  } else console.log(JSON.stringify(record, null, 2));
}

export function registerProbeCommands(program: Command): void {
  const probe = program.command('probe').description('mechanistic probes of the Engram memory (E2–E4)');

  withSamples(
    withCommon(probe.command('gate-clamp').description('E2: held-out bits/code with the gate clamped to g')),
  )
    .option('--clamps <list>', 'gate values', numberList, [...DEFAULT_CLAMPS])
    .action(async (o: Common & SampleFlags & { clamps: number[] }) => {
      const { codes, labels } = await readGrids(o.codes, o.split, o.n);
      const model = await loadModel(o.model, { decodeGraph: !o.stepGraph });
      const rec = await gateClampProbe({
        model,
        grids: codes,
        labels,
        clamps: o.clamps,
        samples: await sampleOptions(o),
        seed: o.seed,
        bootstrapReplicates: o.bootstrap,
        permutations: o.permutations,
        onProgress: progressBar('gate-clamp'),
      }).finally(() => releaseModel(model));
      await emit(
        rec,
        o.out,
        rec.settings.map(
          (s) =>
            `g=${s.name.padEnd(8)} ${fmt(s.bitsPerCode.mean)} bits/code [${fmt(s.bitsPerCode.low)}, ${fmt(s.bitsPerCode.high)}]` +
            (s.deltaVsLearned
              ? `  Δ vs learned ${fmt(s.deltaVsLearned.mean)} (p = ${fmt(s.testVsLearned!.pValue, 3)})`
              : '') +
            sampleSummary(s.samples?.metrics),
        ),
      );
    });

  withCommon(
    probe.command('donor').description('E3: donor hash inputs and table controls, KL/JS vs the model'),
  )
    .option('--pool-split <name>', 'split the donors come from (default: the held-out grids themselves)')
    .option('--pool-n <n>', 'donor candidates (the first n of the pool split)', positiveInt, 2000)
    .option('--kinds <list>', `donor kinds (${DONOR_KINDS.join(',')})`, choiceList(DONOR_KINDS), [
      ...DONOR_KINDS,
    ])
    .option('--controls <list>', `table controls (${TABLE_CONTROLS.join(',')})`, choiceList(TABLE_CONTROLS), [
      ...TABLE_CONTROLS,
    ])
    .option('--gate-clamp <g>', 'clamp every gate to g in all conditions (default: learned)', Number)
    .action(
      async (
        o: Common & {
          poolSplit?: string;
          poolN: number;
          kinds: DonorKind[];
          controls: TableControl[];
          gateClamp?: number;
        },
      ) => {
        const { codes, labels } = await readGrids(o.codes, o.split, o.n);
        const pool = o.poolSplit ? await readGrids(o.codes, o.poolSplit, o.poolN) : undefined;
        const rec = await donorProbe({
          model: o.model,
          grids: codes,
          labels,
          pool,
          kinds: o.kinds,
          controls: o.controls,
          gateClamp: o.gateClamp,
          seed: o.seed,
          bootstrapReplicates: o.bootstrap,
          permutations: o.permutations,
          onProgress: progressBar('donor'),
        });
        await emit(rec, o.out, [
          ...rec.conditions.map(
            (c) =>
              `${c.name.padEnd(12)} KL ${fmt(c.kl.mean)} [${fmt(c.kl.low)}, ${fmt(c.kl.high)}]  JS ${fmt(c.js.mean)}` +
              (c.keySplit
                ? `  (keys differ at ${(100 * c.keySplit.changedPositions).toFixed(1)} % of positions: KL ${fmt(c.keySplit.klChanged)} there, ${fmt(c.keySplit.klSame)} elsewhere)`
                : ''),
          ),
          ...rec.comparisons.map(
            (c) => `p(${c.a} vs ${c.b}) = ${fmt(c.pValue, 3)}, d_z = ${fmt(c.cohensD, 3)}`,
          ),
          ...rec.ratios.map(
            (r) =>
              `${r.numerator}/${r.denominator} KL ratio ${fmt(r.ratio.mean)} [${fmt(r.ratio.low)}, ${fmt(r.ratio.high)}]`,
          ),
        ]);
      },
    );

  withSamples(
    withCommon(
      probe.command('frozen-table').description('E4: learned (--model) vs frozen-table (--frozen) model'),
    ),
  )
    .requiredOption('--frozen <dir>', 'the frozen-N(0,1)-table twin, trained with the same seed schedule')
    .action(async (o: Common & SampleFlags & { frozen: string }) => {
      const { codes, labels } = await readGrids(o.codes, o.split, o.n);
      const rec = await frozenTableProbe({
        seeds: [o.seed],
        models: [{ seed: o.seed, learned: o.model, frozen: o.frozen }],
        grids: codes,
        labels,
        samples: await sampleOptions(o),
        bootstrapReplicates: o.bootstrap,
        permutations: o.permutations,
        onProgress: progressBar('frozen-table'),
      });
      const r = rec.runs[0]!;
      await emit(rec, o.out, [
        `learned ${fmt(r.learned.bitsPerCode.mean)} bits/code, frozen ${fmt(r.frozen.bitsPerCode.mean)}`,
        `Δ (frozen − learned) ${fmt(r.deltaBitsPerCode.mean)} [${fmt(r.deltaBitsPerCode.low)}, ${fmt(r.deltaBitsPerCode.high)}], p = ${fmt(r.testBitsPerCode.pValue, 3)}`,
        ...Object.entries(r.deltaSamples).map(([k, v]) => `Δ ${k} (frozen − learned) ${fmt(v)}`),
      ]);
    });
}
