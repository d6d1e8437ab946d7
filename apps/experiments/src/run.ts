// `engram-ar run`: the whole study as resumable stages in runs/<name>/ (see README "Stage layout").
//
//   data ─► feature-net ─┐
//     └──► tokenizer ─► codes ─► train (baseline, ρ sweep, frozen twin) ─► sample ─► metrics ─► e2, e3, e4 ─► report
//   e5-positive-control (rule textures: train Engram + baseline, probes) runs beside the image branch.
//
// tfjs work (feature net, tokenizer, code grids, every AR variant) goes to the worker pool; sampling,
// metrics and probes run here on ONNX Runtime. Each stage/variant is a unit with an inputs hash
// (stage.ts): finished units are skipped, unfinished ones resume from their checkpoints.
import { mkdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { type GPTConfig, type ParamCount, solveRho, type TrainOptionsInput } from '@engram-ar/ar-backbone';
import {
  type DatasetSpec,
  type ImageDataset,
  loadDataset,
  makeRuleTextures,
  type RuleTextureConfig,
  writeGridPng,
} from '@engram-ar/datasets';
import {
  computeMetrics,
  computeReference,
  type ExtractorSpecInput,
  FeatureExtractor,
  loadReference,
  type MetricsReport,
  saveReference,
} from '@engram-ar/metrics';
import { createSession, ort } from '@engram-ar/onnx';
import {
  donorProbe,
  frozenTableProbe,
  gateClampProbe,
  imageSampleEvaluator,
  positiveControl,
  type SampleEvaluator,
  writeRecord,
} from '@engram-ar/probes';
import { decodeCodes, generate, imagesToUint8, loadModel } from '@engram-ar/sampler';
import { atomicWriteFile, readSafetensors, writeSafetensors } from '@engram-ar/tensor/safetensors';
import { imagesNchw, parseManifest as parseTokenizerManifest, writeCodeGrids } from '@engram-ar/vq-tokenizer';
import type { RunConfig } from './config.js';
import { WorkerPool } from './pool.js';
import { ProgressView } from './progress.js';
import { writeReport } from './report.js';
import { type Done, inputsHash, runUnit } from './stage.js';
import type { ArTask, GridSource, Task } from './tasks.js';

export interface RunOptions {
  /** Run folder (runs/<name>). */
  out: string;
  config: RunConfig;
  view?: ProgressView;
}

export interface VariantPlan {
  /** 'baseline', 'rho0.3', 'frozen-rho0.3'. */
  name: string;
  rho: number;
  frozen: boolean;
  config: GPTConfig;
  params: ParamCount;
  flopsPerCode: number;
}

export interface Grid {
  vocab: number;
  height: number;
  width: number;
  numClasses: number;
}

export function dataSpec(c: RunConfig): DatasetSpec {
  const d = c.data;
  const counts = {
    ...(d.testCount !== undefined ? { testCount: d.testCount } : {}),
    ...(d.trainCount ? { trainCount: d.trainCount } : {}),
  };
  if (d.dataset === 'mnist') return { name: 'mnist', seed: c.seed, ...counts };
  if (d.dataset === 'fashion-mnist')
    return { name: 'fashion-mnist', seed: c.seed, ...(d.dir ? { dir: d.dir } : {}), ...counts };
  return {
    name: 'folder',
    dir: d.dir!,
    seed: c.seed,
    ...(d.size ? { size: d.size } : {}),
    ...(d.channels ? { channels: d.channels } : {}),
    ...(d.testDir ? { testDir: d.testDir } : {}),
    ...(d.testCount !== undefined ? { testCount: d.testCount } : {}),
  };
}

/** Baseline, one variant per ρ (solved to the same total budget), and the frozen-table twin. */
export function planVariants(c: RunConfig, g: Grid): VariantPlan[] {
  const e = c.ar.engram;
  const solve = (rho: number) =>
    solveRho({
      totalParams: c.ar.totalParams,
      rho,
      ...g,
      engram: {
        stencils: e.stencils,
        heads: e.heads,
        dHead: e.dHead,
        classKeyed: e.classKeyed,
        conv: { enabled: e.conv },
        seed: c.seed,
        ...(e.layers ? { layers: e.layers } : {}),
      },
      aspect: c.ar.solver.aspect,
      mlpRatio: c.ar.solver.mlpRatio,
      headDim: c.ar.solver.headDim,
      maxLayers: c.ar.solver.maxLayers,
      seed: c.seed,
    });
  const out: VariantPlan[] = [];
  for (const rho of [1, ...c.ar.rhos]) {
    const r = solve(rho);
    const name = rho === 1 ? 'baseline' : `rho${rho}`;
    out.push({ name, rho, frozen: false, config: r.config, params: r.params, flopsPerCode: r.flops.perCode });
    if (rho === c.probes.rho && c.probes.frozenTable)
      out.push({
        name: `frozen-${name}`,
        rho,
        frozen: true,
        config: r.config,
        params: r.params,
        flopsPerCode: r.flops.perCode,
      });
  }
  return out;
}

function arTrainOptions(t: RunConfig['ar']['train'], seed: number, frozen: boolean): TrainOptionsInput {
  return { ...t, seed, frozenTable: frozen };
}

/** The rule-texture dataset of E5 (seeded from the run seed). */
export function ruleTextureConfig(c: RunConfig): RuleTextureConfig {
  return { ...c.positiveControl.data, seed: `${c.seed}/e5` };
}

/** E5 models: an order-2 {L,U} Engram GPT and its baseline (same backbone, no memory). */
export function positiveControlConfigs(c: RunConfig): { engram: GPTConfig; baseline: GPTConfig } {
  const d = c.positiveControl.data;
  const m = c.positiveControl.model;
  const base = {
    vocab: d.vocab,
    height: d.height,
    width: d.width,
    numClasses: d.numClasses,
    nLayer: m.nLayer,
    nHead: m.nHead,
    dim: m.dim,
    mlpHidden: m.mlpHidden,
    seed: c.seed,
  };
  const engram = {
    layers: [0],
    vocab: d.vocab,
    stencils: [['L', 'U']],
    heads: m.heads,
    tableRows: m.tableRows,
    dHead: m.dHead,
    seed: c.seed,
  };
  return {
    engram: { ...base, engram } as unknown as GPTConfig,
    baseline: { ...base, engram: null } as unknown as GPTConfig,
  };
}

/** Samples per class shown in the report grids: the first `per` of each class, class-major order. */
function gridOrder(labels: Int32Array, numClasses: number, per: number): number[] {
  const rows: number[] = [];
  for (let k = 0; k < numClasses; k++) {
    let taken = 0;
    for (let i = 0; i < labels.length && taken < per; i++)
      if (labels[i] === k) {
        rows.push(i);
        taken++;
      }
  }
  return rows;
}

function pickImages(images: Uint8Array, per: number, rows: number[]): Uint8Array {
  const out = new Uint8Array(rows.length * per);
  rows.forEach((r, i) => {
    out.set(images.subarray(r * per, (r + 1) * per), i * per);
  });
  return out;
}

function head(ds: ImageDataset, n: number): ImageDataset {
  const k = Math.min(n, ds.labels.length);
  const per = ds.height * ds.width * ds.channels;
  return { ...ds, images: ds.images.subarray(0, k * per), labels: ds.labels.subarray(0, k) };
}

/**
 * Both splits → code grids through the exported encoder.onnx (ONNX Runtime, multi-threaded; faster
 * than the tfjs encoder on wasm and it keeps the pool free for training).
 */
async function encodeCodes(
  spec: DatasetSpec,
  tokDir: string,
  dir: string,
  progress: (step: number, total: number) => void,
): Promise<{ vocab: number; height: number; width: number }> {
  const m = parseTokenizerManifest(JSON.parse(await readFile(join(tokDir, 'manifest.json'), 'utf8')));
  if (!m.encoder) throw new Error(`${tokDir}/manifest.json: the tokenizer export has no encoder`);
  const session = await createSession(join(tokDir, m.encoder.file));
  const splits = await loadDataset(spec);
  const out: Record<string, { codes: Int32Array; labels: Int32Array }> = {};
  let gh = 0;
  let gw = 0;
  const total = splits.train.labels.length + splits.test.labels.length;
  let done = 0;
  for (const [name, ds] of Object.entries(splits) as [string, ImageDataset][]) {
    const n = ds.labels.length;
    const parts: Int32Array[] = [];
    for (let s = 0; s < n; s += 256) {
      const b = Math.min(256, n - s);
      const x = imagesNchw(ds, s, b);
      const r = await session.run({
        images: new ort.Tensor('float32', x, [b, ds.channels, ds.height, ds.width]),
      });
      const t = r.codes!;
      gh = t.dims[1]!;
      gw = t.dims[2]!;
      parts.push(Int32Array.from(t.data as BigInt64Array, Number));
      done += b;
      progress(done, total);
    }
    const codes = new Int32Array(n * gh * gw);
    let off = 0;
    for (const p of parts) {
      codes.set(p, off);
      off += p.length;
    }
    out[name] = { codes, labels: ds.labels };
  }
  await session.release();
  const vocab = m.arch.codebookSize;
  await writeCodeGrids(dir, out, {
    vocab,
    numClasses: splits.train.numClasses,
    height: gh,
    width: gw,
    dataset: splits.train.name,
    classNames: splits.train.classNames,
  });
  return { vocab, height: gh, width: gw };
}

async function decoderPath(tokDir: string): Promise<string> {
  const m = JSON.parse(await readFile(join(tokDir, 'manifest.json'), 'utf8')) as {
    decoder?: { file: string } | null;
  };
  if (!m.decoder) throw new Error(`${tokDir}/manifest.json: the tokenizer export has no decoder`);
  return join(tokDir, m.decoder.file);
}

export interface StudyResult {
  dir: string;
  stages: Record<string, Done<unknown>>;
}

export async function runStudy(o: RunOptions): Promise<StudyResult> {
  const c = o.config;
  const out = resolve(o.out);
  const view = o.view ?? new ProgressView();
  const pool = new WorkerPool(c.workers, c.backend);
  const stages: Record<string, Done<unknown>> = {};
  const t0 = performance.now();
  await mkdir(out, { recursive: true });
  await atomicWriteFile(join(out, 'config.json'), `${JSON.stringify(c, null, 2)}\n`);
  view.log(`run ${out} (preset ${c.preset}, ${pool.size} workers)`);

  const unit = async <M>(name: string, dir: string, hash: string, fn: (dir: string) => Promise<M>) => {
    const d = await runUnit(dir, name, hash, fn, {
      onSkip: () => view.log(`${name}: done earlier (inputs ${hash}), skipped`),
      onStart: () => view.log(`${name}: start`),
    });
    if (!d.skipped) view.log(`${name}: finished in ${d.timings.seconds.toFixed(1)} s`);
    return d;
  };
  const task = async (t: Task, stage: string, item?: string, priority = 0) => {
    const r = await pool.run(t, (p) => view.update({ stage, item, ...p }), priority);
    return { ...(r.result as object), backend: r.backend } as Record<string, unknown>;
  };

  const spec = dataSpec(c);
  const extractorSpec = (c.featureNet.extractorSpec ?? {}) as Partial<ExtractorSpecInput>;
  try {
    // ── data ──────────────────────────────────────────────────────────────────────────────────────
    const data = await unit(
      'data',
      join(out, 'data'),
      inputsHash({ data: c.data, seed: c.seed }),
      async (dir) => {
        const { train, test } = await loadDataset(spec);
        const per = c.sampling.gridPerClass;
        const rows = gridOrder(test.labels, test.numClasses, per);
        const geo = { height: test.height, width: test.width, channels: test.channels };
        const px = test.height * test.width * test.channels;
        await writeGridPng(pickImages(test.images, px, rows), geo, per, join(dir, 'real.png'), { scale: 2 });
        return {
          dataset: train.name,
          train: train.labels.length,
          test: test.labels.length,
          ...geo,
          numClasses: train.numClasses,
          classNames: train.classNames,
        };
      },
    );
    stages.data = data;
    const dm = data.metrics;

    // ── feature net (classifier-FID extractor) ∥ tokenizer → codes ─────────────────────────────────
    const featureStage = unit(
      'feature-net',
      join(out, 'feature-net'),
      inputsHash({ featureNet: c.featureNet, seed: c.seed }, [data.inputsHash]),
      async (dir) => {
        let extractorPath = c.featureNet.extractor
          ? resolve(c.featureNet.extractor)
          : join(dir, 'feature-net.onnx');
        let accuracy: number | null = null;
        if (!c.featureNet.extractor) {
          const r = (await task(
            {
              kind: 'feature-net',
              data: spec,
              steps: c.featureNet.steps,
              batchSize: c.featureNet.batchSize,
              seed: c.seed,
              out: extractorPath,
            },
            'feature-net',
          )) as { accuracy: number };
          accuracy = r.accuracy;
        }
        extractorPath = resolve(extractorPath);
        const { train } = await loadDataset(spec);
        const extractor = await FeatureExtractor.open(extractorPath, extractorSpec);
        const ref = await computeReference(head(train, c.featureNet.referenceCount), extractor, {
          keepFeatures: c.featureNet.keepFeatures,
          meta: { dataset: train.name, extractor: extractorPath },
        });
        await extractor.release();
        await saveReference(join(dir, 'reference.safetensors'), ref);
        return {
          extractor: extractorPath,
          label: extractor.label,
          testAccuracy: accuracy,
          referenceCount: ref.stats.count,
        };
      },
    );
    // awaited after the training stages; this only keeps an earlier failure from leaving it unhandled
    featureStage.catch(() => {});
    const tokStage = unit(
      'tokenizer',
      join(out, 'tokenizer'),
      inputsHash({ tokenizer: c.tokenizer }, [data.inputsHash]),
      async (dir) => task({ kind: 'tokenizer', data: spec, config: c.tokenizer, dir }, 'tokenizer'),
    );
    // E5 positive control: independent of the image branch, so it trains beside it, at a lower pool
    // priority (the image branch is the critical path).
    const e5 = c.positiveControl.enabled ? positiveControlStage() : Promise.resolve(null);
    // awaited below; this only keeps a failure of the image branch from leaving it unhandled
    e5.catch(() => {});
    const codesStage = tokStage.then((tok) => {
      stages.tokenizer = tok;
      return unit('codes', join(out, 'codes'), inputsHash({}, [tok.inputsHash]), (dir) =>
        encodeCodes(spec, join(out, 'tokenizer'), dir, (step, total) =>
          view.update({ stage: 'codes', step, total }),
        ),
      );
    });
    const codes = await codesStage;
    stages.codes = codes;
    const grid = codes.metrics as { vocab: number; height: number; width: number };
    const g: Grid = { ...grid, numClasses: dm.numClasses };

    // ── train: every variant in parallel workers (each exports its ONNX model at the end) ────────────
    const variants = planVariants(c, g);
    const codesSrc: GridSource = { kind: 'codes', dir: join(out, 'codes') };
    const variantHash = (v: VariantPlan) =>
      inputsHash({ config: v.config, train: arTrainOptions(c.ar.train, c.seed, v.frozen) }, [
        codes.inputsHash,
      ]);
    const train = await unit(
      'train',
      join(out, 'train'),
      inputsHash({}, variants.map(variantHash)),
      async (dir) => {
        const results = await Promise.all(
          variants.map((v) =>
            unit(`train/${v.name}`, join(dir, v.name), variantHash(v), async (vdir) => {
              const t: ArTask = {
                kind: 'ar',
                name: v.name,
                config: v.config,
                train: arTrainOptions(c.ar.train, c.seed, v.frozen),
                grids: codesSrc,
                dir: vdir,
              };
              return task(t, 'train', v.name);
            }),
          ),
        );
        return Object.fromEntries(
          variants.map((v, i) => [
            v.name,
            {
              ...(results[i]!.metrics as object),
              rho: v.rho,
              params: v.params,
              flopsPerCode: v.flopsPerCode,
              config: v.config,
            },
          ]),
        );
      },
    );
    stages.train = train;
    const modelDir = (name: string) => join(out, 'train', name, 'model');

    // ── sample: n per variant (ORT), decoded to images through the tokenizer's decoder.onnx ────────
    const decoder = await decoderPath(join(out, 'tokenizer'));
    const sampleHash = (v: VariantPlan) =>
      inputsHash({ sampling: c.sampling, seed: c.seed }, [train.inputsHash, v.name]);
    const sample = await unit(
      'sample',
      join(out, 'sample'),
      inputsHash({ sampling: c.sampling }, [train.inputsHash]),
      async (dir) => {
        const res: Record<string, unknown> = {};
        for (const v of variants) {
          const d = await unit(`sample/${v.name}`, join(dir, v.name), sampleHash(v), async (vdir) => {
            const model = await loadModel(modelDir(v.name));
            const n = c.sampling.n;
            const classes = Int32Array.from({ length: n }, (_, i) => i % g.numClasses);
            const r = await generate({
              model,
              classes,
              n,
              cfgScale: c.sampling.cfgScale,
              temperature: c.sampling.temperature,
              topK: c.sampling.topK,
              topP: c.sampling.topP,
              seed: `${c.seed}/sample/${v.name}`,
              batchSize: c.sampling.batchSize,
              onProgress: (p) => view.update({ stage: 'sample', item: v.name, step: p.done, total: p.total }),
            });
            await model.session.release();
            const img = await decodeCodes(decoder, r.codes, [n, g.height, g.width]);
            const u8 = imagesToUint8(img);
            await writeSafetensors(join(vdir, 'samples.safetensors'), {
              codes: { dtype: 'I32', shape: [n, g.height, g.width], data: r.codes },
              labels: { dtype: 'I32', shape: [n], data: r.classes },
              images: { dtype: 'U8', shape: [n, img.height, img.width, img.channels], data: u8 },
            });
            const per = c.sampling.gridPerClass;
            const rows = gridOrder(r.classes, g.numClasses, per);
            const geo = { height: img.height, width: img.width, channels: img.channels };
            await writeGridPng(
              pickImages(u8, img.height * img.width * img.channels, rows),
              geo,
              per,
              join(vdir, 'grid.png'),
              {
                scale: 2,
              },
            );
            return {
              n,
              seconds: r.stats.totalMs / 1000,
              codesPerSec: (n * g.height * g.width) / (r.stats.totalMs / 1000),
            };
          });
          res[v.name] = d.metrics;
        }
        return res;
      },
    );
    stages.sample = sample;

    // ── metrics: classifier-FID (or FID) with CI, IS, precision/recall, class consistency ──────────
    const feat = await featureStage;
    stages['feature-net'] = feat;
    const fm = feat.metrics;
    const refPath = join(out, 'feature-net', 'reference.safetensors');
    const metrics = await unit(
      'metrics',
      join(out, 'metrics'),
      inputsHash({ metrics: c.metrics }, [sample.inputsHash, feat.inputsHash]),
      async () => {
        const ref = await loadReference(refPath);
        const extractor = await FeatureExtractor.open(fm.extractor, extractorSpec);
        const rows: Record<string, MetricsReport> = {};
        let i = 0;
        for (const v of variants) {
          const { tensors } = await readSafetensors(join(out, 'sample', v.name, 'samples.safetensors'));
          const im = tensors.images!;
          rows[v.name] = await computeMetrics({
            samples: {
              images: im.data as Uint8Array,
              height: im.shape[1]!,
              width: im.shape[2]!,
              channels: im.shape[3]!,
              labels: tensors.labels!.data as Int32Array,
            },
            ref,
            extractor,
            bootstrap: c.metrics.bootstrap,
            seed: `${c.seed}/metrics`,
          });
          view.update({ stage: 'metrics', step: ++i, total: variants.length });
        }
        await extractor.release();
        return rows;
      },
    );
    stages.metrics = metrics;

    // ── probes on the ρ = probes.rho variant ───────────────────────────────────────────────────────
    const probeName = `rho${c.probes.rho}`;
    const test = await readSafetensors(join(out, 'codes', 'test.safetensors'));
    const trainGrids = await readSafetensors(join(out, 'codes', 'train.safetensors'));
    const P = g.height * g.width;
    const nEval = Math.min(c.probes.evalCount, test.tensors.labels!.shape[0]!);
    const evalGrids = (test.tensors.codes!.data as Int32Array).subarray(0, nEval * P);
    const evalLabels = (test.tensors.labels!.data as Int32Array).subarray(0, nEval);
    const nPool = Math.min(c.probes.poolCount, trainGrids.tensors.labels!.shape[0]!);
    const pool_ = {
      codes: (trainGrids.tensors.codes!.data as Int32Array).subarray(0, nPool * P),
      labels: (trainGrids.tensors.labels!.data as Int32Array).subarray(0, nPool),
    };
    const probeCommon = {
      seed: c.seed,
      bootstrapReplicates: c.probes.bootstrap,
      permutations: c.probes.permutations,
    };
    const probeSlice = { probes: c.probes, seed: c.seed };

    const evaluator = async (): Promise<{ evaluate: SampleEvaluator; close: () => Promise<void> }> => {
      const extractor = await FeatureExtractor.open(fm.extractor, extractorSpec);
      return {
        evaluate: imageSampleEvaluator({
          decoder,
          extractor,
          ref: await loadReference(refPath),
          bootstrap: c.metrics.bootstrap,
          seed: c.seed,
        }),
        close: () => extractor.release(),
      };
    };

    const e2 = await unit(
      'e2-gate-clamp',
      join(out, 'e2-gate-clamp'),
      inputsHash(probeSlice, [train.inputsHash, feat.inputsHash]),
      async (dir) => {
        const ev = c.probes.clampSamples > 0 ? await evaluator() : null;
        const rec = await gateClampProbe({
          model: modelDir(probeName),
          grids: evalGrids,
          labels: evalLabels,
          clamps: c.probes.clamps,
          ...probeCommon,
          ...(ev
            ? {
                samples: {
                  n: c.probes.clampSamples,
                  cfgScale: c.sampling.cfgScale,
                  temperature: c.sampling.temperature,
                  topK: c.sampling.topK,
                  topP: c.sampling.topP,
                  batchSize: c.sampling.batchSize,
                  evaluate: ev.evaluate,
                },
              }
            : {}),
          onProgress: (p) =>
            view.update({ stage: 'e2-gate-clamp', step: p.done, total: p.total, note: p.stage }),
        });
        await ev?.close();
        await writeRecord(join(dir, 'record.json'), rec);
        return {
          variant: probeName,
          settings: rec.settings.map((s) => ({
            name: s.name,
            clamp: s.clamp,
            bitsPerCode: s.bitsPerCode,
            deltaVsLearned: s.deltaVsLearned,
            pVsLearned: s.testVsLearned?.pValue ?? null,
            samples: s.samples?.metrics ?? null,
          })),
          gates: rec.gates.map((x) => ({ layer: x.layer, mean: x.mean, std: x.std, quantiles: x.quantiles })),
        };
      },
    );
    stages['e2-gate-clamp'] = e2;

    const e3 = await unit(
      'e3-donor',
      join(out, 'e3-donor'),
      inputsHash(probeSlice, [train.inputsHash]),
      async (dir) => {
        const rec = await donorProbe({
          model: modelDir(probeName),
          grids: evalGrids,
          labels: evalLabels,
          pool: pool_,
          ...probeCommon,
          onProgress: (p) => view.update({ stage: 'e3-donor', step: p.done, total: p.total, note: p.stage }),
        });
        await writeRecord(join(dir, 'record.json'), rec);
        return {
          variant: probeName,
          conditions: rec.conditions.map((x) => ({
            name: x.name,
            kind: x.kind,
            kl: x.kl,
            js: x.js,
            rowsChanged: x.rowsChanged,
            donorDistance: x.donorDistance,
          })),
          comparisons: rec.comparisons.map((x) => ({
            a: x.a,
            b: x.b,
            metric: x.metric,
            pValue: x.pValue,
            cohensD: x.cohensD,
          })),
          ratios: rec.ratios.map((x) => ({
            numerator: x.numerator,
            denominator: x.denominator,
            ratio: x.ratio,
          })),
        };
      },
    );
    stages['e3-donor'] = e3;

    if (c.probes.frozenTable) {
      const frozenName = `frozen-${probeName}`;
      stages['e4-frozen-table'] = await unit(
        'e4-frozen-table',
        join(out, 'e4-frozen-table'),
        inputsHash(probeSlice, [train.inputsHash, metrics.inputsHash]),
        async (dir) => {
          const rec = await frozenTableProbe({
            seeds: [c.seed],
            models: [{ seed: c.seed, learned: modelDir(probeName), frozen: modelDir(frozenName) }],
            grids: evalGrids,
            labels: evalLabels,
            bootstrapReplicates: c.probes.bootstrap,
            permutations: c.probes.permutations,
          });
          await writeRecord(join(dir, 'record.json'), rec);
          const m = metrics.metrics;
          const run = rec.runs[0]!;
          const l = m[probeName]!;
          const f = m[frozenName]!;
          return {
            learned: probeName,
            frozen: frozenName,
            learnedBitsPerCode: run.learned.bitsPerCode,
            frozenBitsPerCode: run.frozen.bitsPerCode,
            deltaBitsPerCode: run.deltaBitsPerCode,
            pBitsPerCode: run.testBitsPerCode.pValue,
            learnedFid: l.fid,
            frozenFid: f.fid,
            deltaFid: f.fid - l.fid,
            learnedIs: l.is ?? null,
            frozenIs: f.is ?? null,
            deltaIs: l.is !== undefined && f.is !== undefined ? f.is - l.is : null,
            fidCI: { learned: l.fidCI ?? null, frozen: f.fidCI ?? null },
          };
        },
      );
    }

    const e5Done = await e5;
    if (e5Done) stages['e5-positive-control'] = e5Done;

    // ── report ─────────────────────────────────────────────────────────────────────────────────────
    const upstream = Object.values(stages).map((d) => d.inputsHash);
    const report = await unit(
      'report',
      join(out, 'report'),
      inputsHash({ config: c }, upstream),
      async () => {
        const r = await writeReport({ dir: out, config: c, stages, variants });
        return r;
      },
    );
    stages.report = report;
    view.log(
      `report: ${join(out, 'report.html')} (${((performance.now() - t0) / 1000).toFixed(1)} s this invocation)`,
    );
    return { dir: out, stages };
  } finally {
    await pool.close();
  }

  async function positiveControlStage(): Promise<Done<unknown>> {
    const pc = c.positiveControl;
    const cfgs = positiveControlConfigs(c);
    const rt = ruleTextureConfig(c);
    const tOpts = arTrainOptions(pc.train, c.seed, false);
    return unit(
      'e5-positive-control',
      join(out, 'e5-positive-control'),
      inputsHash({ pc, seed: c.seed, probes: c.probes }),
      async (dir) => {
        const src: GridSource = { kind: 'rule-textures', config: rt };
        const fits = await Promise.all(
          (['engram', 'baseline'] as const).map((k) =>
            unit(`e5/${k}`, join(dir, k), inputsHash({ config: cfgs[k], train: tOpts, rt }), async (vdir) =>
              task(
                { kind: 'ar', name: `e5-${k}`, config: cfgs[k], train: tOpts, grids: src, dir: vdir },
                'e5',
                k,
              ),
            ),
          ),
        );
        const { train: trainSet, test: testSet, config: dsConfig } = makeRuleTextures(rt);
        const rec = await positiveControl({
          model: join(dir, 'engram', 'model'),
          train: trainSet,
          test: testSet,
          datasetInfo: { name: 'rule-textures', ...dsConfig },
          evalCount: c.probes.evalCount,
          poolCount: c.probes.poolCount,
          seed: c.seed,
          donor: { bootstrapReplicates: c.probes.bootstrap, permutations: c.probes.permutations },
          gateClamp: {
            clamps: c.probes.clamps,
            bootstrapReplicates: c.probes.bootstrap,
            permutations: c.probes.permutations,
          },
          onProgress: (p) =>
            view.update({ stage: 'e5', item: 'probes', step: p.done, total: p.total, note: p.stage }),
        });
        await writeRecord(join(dir, 'record.json'), rec);
        const [eng, base] = fits.map((f) => f.metrics as { finalBitsPerCode: number; trainSeconds: number });
        return {
          engramBitsPerCode: eng!.finalBitsPerCode,
          baselineBitsPerCode: base!.finalBitsPerCode,
          uniformBitsPerCode: Math.log2(pc.data.vocab),
          verdict: rec.verdict,
          gateClamp: rec.gateClamp.settings.map((s) => ({
            name: s.name,
            clamp: s.clamp,
            bitsPerCode: s.bitsPerCode,
          })),
          donor: rec.donor.conditions.map((x) => ({ name: x.name, kind: x.kind, kl: x.kl, js: x.js })),
          comparisons: rec.donor.comparisons.map((x) => ({
            a: x.a,
            b: x.b,
            metric: x.metric,
            pValue: x.pValue,
            cohensD: x.cohensD,
          })),
          ratios: rec.donor.ratios.map((x) => ({
            numerator: x.numerator,
            denominator: x.denominator,
            ratio: x.ratio,
          })),
        };
      },
    );
  }
}
