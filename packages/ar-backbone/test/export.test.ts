// ONNX export parity: ORT step graph vs the tfjs forward (full sequence and KV-cache decode), greedy
// ORT sampler vs a tfjs full-recompute greedy sampler, and export from a checkpoint file.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildHashSpec, rowsForGrids } from '@engram-ar/engram';
import { type FeedValue, maybeDumpModel, ort } from '@engram-ar/onnx';
import { generate, type LoadedModel, loadModel, score } from '@engram-ar/sampler';
import { tf } from '@engram-ar/tensor';
import { Rng } from '@engram-ar/tensor/rng';
import { saveCheckpoint } from '@engram-ar/tensor/safetensors';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type GPTConfig, parseGPTConfig } from '../src/config.js';
import { exportOnnx } from '../src/export.js';
import { GPT, type HostWeights, initHostWeights } from '../src/model.js';
import { Trainer } from '../src/trainer.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const baseCfg = {
  vocab: 11,
  height: 3,
  width: 4,
  numClasses: 3,
  nLayer: 2,
  nHead: 2,
  dim: 16,
  mlpHidden: 24,
};

/** Random weights everywhere (the real init zeroes the head, which would make every logit 0). */
function randomHost(cfg: GPTConfig, seed: number): HostWeights {
  const host = initHostWeights(cfg);
  const rng = new Rng(seed);
  for (const w of Object.values(host)) rng.fillNormal(w.data, w.shape.length === 1 ? 1 : 0, 0.3);
  return host;
}

function randomTable(cfg: GPTConfig, seed: number): Float32Array | null {
  if (!cfg.engram) return null;
  const spec = buildHashSpec(cfg.engram);
  return new Rng(seed).fillNormal(new Float32Array(spec.totalRows * cfg.engram.dHead));
}

/** tfjs full forward of whole grids: logits [B, N, V] (and gates [B, N, Le]). */
function tfjsForward(
  m: GPT,
  table: Float32Array | null,
  codes: Int32Array,
  classes: Int32Array,
  clamp?: number[],
): { logits: Float32Array; gates: Float32Array | null } {
  const c = m.config;
  const B = classes.length;
  const N = c.height * c.width;
  let e: Float32Array | null = null;
  if (c.engram && table) {
    // Rows [B, N, Le, S·K] gathered to [B·N, Le·S·K·dHead], the layout forward() takes.
    const rows = rowsForGrids(buildHashSpec(c.engram), codes, [B, c.height, c.width], classes);
    const dh = c.engram.dHead;
    e = new Float32Array(rows.length * dh);
    rows.forEach((r, i) => {
      e!.set(table.subarray(r * dh, (r + 1) * dh), i * dh);
    });
  }
  const [logits, gates] = tf.tidy(() => {
    const engram = e ? tf.tensor2d(e, [B * N, e.length / (B * N)]) : undefined;
    const out = m.forward({ codes, classes, engram, gateClamp: clamp });
    return out.gates ? [out.logits, out.gates] : [out.logits];
  });
  const res = {
    logits: logits!.dataSync() as Float32Array,
    gates: gates ? (gates.dataSync() as Float32Array) : null,
  };
  logits!.dispose();
  gates?.dispose();
  return res;
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

const cases: [string, Record<string, unknown>][] = [
  ['baseline', baseCfg],
  ['engram', { ...baseCfg, engram: { layers: [0, 1], heads: 2, tableRows: 13, dHead: 4, vocab: 11 } }],
  [
    'engram + conv',
    {
      ...baseCfg,
      engram: {
        layers: [1],
        stencils: [['L'], ['U', 'UL']],
        heads: 2,
        tableRows: 17,
        dHead: 3,
        vocab: 11,
        classKeyed: true,
        conv: { enabled: true, kernel: 3, dilation: 2 },
      },
    },
  ],
];

describe.each(cases)('exportOnnx (%s)', (_name, raw) => {
  const cfg = parseGPTConfig(raw);
  const N = cfg.height * cfg.width;
  const V = cfg.vocab;
  let dir: string;
  let gpt: GPT;
  let table: Float32Array | null;
  let loaded: Record<'plain' | 'contrib', LoadedModel>;
  const rng = new Rng(5);
  const B = 3;
  const codes = new Int32Array(B * N).map(() => rng.int(V));
  const classes = Int32Array.from([0, 2, cfg.numClasses]);

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'export-'));
    gpt = new GPT(cfg, randomHost(cfg, 1));
    table = randomTable(cfg, 2);
    await exportOnnx({ model: gpt, table }, join(dir, 'plain'));
    await exportOnnx({ model: gpt, table }, join(dir, 'contrib'), { attention: 'contrib' });
    loaded = { plain: await loadModel(join(dir, 'plain')), contrib: await loadModel(join(dir, 'contrib')) };
    // With ONNX_CHECK_DIR set the exports are kept for `pnpm onnx:check` (onnx.checker full_check).
    for (const a of ['plain', 'contrib'])
      await maybeDumpModel(`ar-export-${_name.replace(/\W+/g, '-')}-${a}`, join(dir, a, 'model.onnx'));
  });
  afterAll(async () => {
    await loaded.plain.session.release();
    await loaded.contrib.session.release();
    gpt.dispose();
    await rm(dir, { recursive: true, force: true });
  });

  for (const attention of ['plain', 'contrib'] as const) {
    it(`${attention}: ORT teacher-forced logits match the tfjs forward (≤ 1e-4)`, async () => {
      const ref = tfjsForward(gpt, table, codes, classes);
      const s = await score({ model: loaded[attention], codes, classes });
      // score returns log-softmax; compare log-softmax of the tfjs logits.
      const refLp = new Float32Array(ref.logits.length);
      for (let r = 0; r < B * N; r++) {
        const row = ref.logits.subarray(r * V, (r + 1) * V);
        const mx = Math.max(...row);
        const lse = mx + Math.log(row.reduce((a, x) => a + Math.exp(x - mx), 0));
        for (let v = 0; v < V; v++) refLp[r * V + v] = row[v]! - lse;
      }
      expect(maxAbsDiff(s.logProbs, refLp)).toBeLessThan(1e-4);
      if (ref.gates) expect(maxAbsDiff(s.gates!, ref.gates)).toBeLessThan(1e-5);
    });

    it(`${attention}: KV-cache decode logits equal the full recompute`, async () => {
      const m = loaded[attention];
      const ref = tfjsForward(gpt, table, codes, classes).logits;
      const { manifest: mf, session } = m;
      let feeds: Record<string, ort.Tensor | FeedValue> = {};
      for (let i = 0; i < mf.nLayer; i++) {
        for (const kv of ['key', 'value'])
          feeds[`past_key_values.${i}.${kv}`] = new ort.Tensor('float32', new Float32Array(0), [
            B,
            mf.nHead,
            0,
            mf.headDim,
          ]);
      }
      const spec = m.hash;
      const rows = spec ? rowsForGrids(spec, codes, [B, cfg.height, cfg.width], classes) : null;
      for (let p = 0; p < N; p++) {
        const ids = BigInt64Array.from({ length: B }, (_, b) =>
          BigInt(p === 0 ? mf.classTokenOffset + classes[b]! : codes[b * N + p - 1]!),
        );
        const step: Record<string, ort.Tensor | FeedValue> = {
          ...feeds,
          input_ids: new ort.Tensor('int64', ids, [B, 1]),
          position_ids: new ort.Tensor('int64', new BigInt64Array(B).fill(BigInt(p)), [B, 1]),
        };
        if (spec && rows && mf.engram) {
          const R = spec.rowsPerPosition;
          const r64 = new BigInt64Array(B * R);
          for (let b = 0; b < B; b++)
            for (let j = 0; j < R; j++) r64[b * R + j] = BigInt(rows[(b * N + p) * R + j]!);
          step.engram_rows = new ort.Tensor('int64', r64, [
            B,
            1,
            mf.engram.layers.length,
            mf.engram.rowsPerLayer,
          ]);
          step.gate_clamp = new ort.Tensor('float32', new Float32Array(mf.engram.layers.length).fill(-1), [
            mf.engram.layers.length,
          ]);
          if (mf.engram.conv) {
            const L = (mf.engram.conv.kernel - 1) * mf.engram.conv.dilation;
            mf.engram.layers.forEach((_, l) => {
              step[`conv_state.${l}`] ??= new ort.Tensor('float32', new Float32Array(B * L * mf.dim), [
                B,
                L,
                mf.dim,
              ]);
            });
          }
        }
        const out = await session.run(step);
        const lg = out.logits!.data as Float32Array;
        for (let b = 0; b < B; b++) {
          const want = ref.subarray((b * N + p) * V, (b * N + p + 1) * V);
          expect(maxAbsDiff(lg.subarray(b * V, (b + 1) * V), want)).toBeLessThan(1e-4);
        }
        feeds = {};
        for (const name of mf.io.inputs) {
          if (name.startsWith('past_key_values.'))
            feeds[name] = out[name.replace('past_key_values.', 'present.')]!;
          if (name.startsWith('conv_state.')) feeds[name] = out[`present_${name}`]!;
        }
      }
    });
  }

  // Only Engram models have a gate to clamp.
  if (cfg.engram)
    it('gate clamp: ORT log-probs and gates match the tfjs forward with the same clamp', async () => {
      const clamp = cfg.engram!.layers.map((_, i) => (i === 0 ? 0.1 : -1));
      const ref = tfjsForward(gpt, table, codes, classes, clamp);
      const s = await score({ model: loaded.plain, codes, classes, gateClamp: clamp });
      const logits = ref.logits;
      let worst = 0;
      for (let r = 0; r < B * N; r++) {
        const row = logits.subarray(r * V, (r + 1) * V);
        const mx = Math.max(...row);
        const lse = mx + Math.log(row.reduce((a, x) => a + Math.exp(x - mx), 0));
        for (let v = 0; v < V; v++)
          worst = Math.max(worst, Math.abs(s.logProbs[r * V + v]! - (row[v]! - lse)));
      }
      expect(worst).toBeLessThan(1e-4);
      expect(maxAbsDiff(s.gates!, ref.gates!)).toBeLessThan(1e-5);
      const Le = cfg.engram!.layers.length;
      for (let r = 0; r < B * N; r++) expect(s.gates![r * Le]).toBeCloseTo(0.1, 6);
    });

  it('greedy ORT sampler equals a tfjs full-recompute greedy sampler, token for token (with CFG)', async () => {
    const cls = Int32Array.from([1, 0]);
    const cfgScale = 1.7;
    const r = await generate({ model: loaded.plain, classes: cls, n: 2, cfgScale, temperature: 0, seed: 0 });
    const grids = new Int32Array(2 * N);
    const nul = new Int32Array(2).fill(cfg.numClasses);
    for (let p = 0; p < N; p++) {
      // Codes ≥ p are still 0; position p's logits depend only on codes < p.
      const cond = tfjsForward(gpt, table, grids, cls).logits;
      const unc = tfjsForward(gpt, table, grids, nul).logits;
      for (let b = 0; b < 2; b++) {
        let best = 0;
        let bestV = Number.NEGATIVE_INFINITY;
        for (let v = 0; v < V; v++) {
          const o = (b * N + p) * V + v;
          const x = unc[o]! + cfgScale * (cond[o]! - unc[o]!);
          if (x > bestV) {
            bestV = x;
            best = v;
          }
        }
        grids[b * N + p] = best;
      }
    }
    expect(Array.from(r.codes)).toEqual(Array.from(grids));
  });

  it('exports the same graph from a checkpoint file', async () => {
    const ck = join(dir, 'ck.safetensors');
    const tensors: Record<string, { dtype: 'F32'; shape: number[]; data: Float32Array }> = {};
    for (const [name, w] of Object.entries(gpt.toHost())) tensors[name] = { dtype: 'F32', ...w };
    if (table)
      tensors['engram.table'] = {
        dtype: 'F32',
        shape: [table.length / cfg.engram!.dHead, cfg.engram!.dHead],
        data: table,
      };
    await saveCheckpoint(ck, tensors, { config: cfg, step: 7 });
    const mf = await exportOnnx(ck, join(dir, 'from-ck'));
    expect(mf.meta.step).toBe('7');
    const a = await score({ model: join(dir, 'from-ck'), codes, classes });
    const b = await score({ model: loaded.plain, codes, classes });
    expect(Array.from(a.logProbs)).toEqual(Array.from(b.logProbs));
  });
});

describe('exportOnnx of a Trainer checkpoint', () => {
  it('exports weights and the trained table; ORT scores equal the trainer model (≤ 1e-4)', async () => {
    const cfg = parseGPTConfig({
      ...baseCfg,
      engram: {
        layers: [1],
        heads: 2,
        tableRows: 13,
        dHead: 4,
        vocab: 11,
        conv: { enabled: true, kernel: 2 },
      },
    });
    const N = cfg.height * cfg.width;
    const rng = new Rng(9);
    const set = {
      codes: new Int32Array(8 * N).map(() => rng.int(cfg.vocab)),
      labels: new Int32Array(8).map(() => rng.int(cfg.numClasses)),
      numClasses: cfg.numClasses,
      vocab: cfg.vocab,
      height: cfg.height,
      width: cfg.width,
    };
    const dir = await mkdtemp(join(tmpdir(), 'export-trainer-'));
    const ck = join(dir, 'ck.safetensors');
    const trainer = new Trainer(cfg, set, null, {
      steps: 3,
      batchSize: 4,
      warmupSteps: 1,
      lr: 0.05,
      checkpointPath: ck,
    });
    await trainer.run();
    const mf = await exportOnnx(ck, join(dir, 'm'));
    expect(mf.meta.step).toBe('3');
    const classes = set.labels.subarray(0, 3);
    const codes = set.codes.subarray(0, 3 * N);
    const ref = tfjsForward(trainer.model, trainer.table!.data, codes, classes).logits;
    const s = await score({ model: join(dir, 'm'), codes, classes });
    let worst = 0;
    for (let r = 0; r < 3 * N; r++) {
      const row = ref.subarray(r * cfg.vocab, (r + 1) * cfg.vocab);
      const mx = Math.max(...row);
      const lse = mx + Math.log(row.reduce((a, x) => a + Math.exp(x - mx), 0));
      for (let v = 0; v < cfg.vocab; v++)
        worst = Math.max(worst, Math.abs(s.logProbs[r * cfg.vocab + v]! - (row[v]! - lse)));
    }
    expect(worst).toBeLessThan(1e-4);
    trainer.dispose();
    await rm(dir, { recursive: true, force: true });
  });
});
