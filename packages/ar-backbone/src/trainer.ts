// Trainer over code grids: AdamW for the dense weights, SparseAdam for the host Engram table.
//
// One step: draw a batch (Rng 'train' stream), drop classes to the null class with p = classDropout,
// hash the batch's grids to row ids on the host, gather those rows into an input tensor e, run forward +
// backward in tfjs (gradients w.r.t. the dense variables AND e), clip by the global norm over both, step
// AdamW on the dense weights and SparseAdam on the touched rows only. Nothing in a step scales with the
// table's row count.
//
// Exact resume: a checkpoint holds weights, table, both optimisers' states, the Rng state and the step;
// every source of randomness is that Rng, so k steps + reload + (n-k) steps == n steps, bit for bit.
import { existsSync } from 'node:fs';
import { buildHashSpec, EngramTable, type HashSpec, rowsForGrids, SparseAdam } from '@engram-ar/engram';
import { AdamW, lrSchedule, tf } from '@engram-ar/tensor';
import { Rng, type RngState } from '@engram-ar/tensor/rng';
import { loadCheckpoint, type NamedTensor, saveCheckpoint } from '@engram-ar/tensor/safetensors';
import { z } from 'zod';
import { type GPTConfig, parseGPTConfig } from './config.js';
import { crossEntropy, GPT, type HostWeights, nllSum } from './model.js';

/** A split of code grids (the tokenizer's `encode` output or the rule-texture set). */
export interface CodeGridSet {
  codes: Int32Array; // [N, H, W]
  labels: Int32Array; // [N]
  numClasses: number;
  vocab: number;
  height: number;
  width: number;
}

export const TrainOptionsSchema = z.object({
  steps: z.number().int().min(1),
  batchSize: z.number().int().min(1).default(32),
  /** Peak learning rate (after warmup), then cosine to minLr at `steps`. */
  lr: z.number().positive().default(1e-3),
  minLr: z.number().min(0).default(1e-4),
  warmupSteps: z.number().int().min(0).default(50),
  weightDecay: z.number().min(0).default(0.05),
  beta1: z.number().min(0).max(1).default(0.9),
  beta2: z.number().min(0).max(1).default(0.95),
  gradClip: z.number().positive().default(1),
  /** Table learning rate = lr × tableLrMultiplier (DeepSeek's Engram used 5). */
  tableLrMultiplier: z.number().positive().default(5),
  /** Evaluate held-out bits/code every N steps (0 = only at the end). */
  evalEvery: z.number().int().min(0).default(0),
  /** Held-out examples used per evaluation (first ones of the test split). */
  evalSize: z.number().int().min(1).default(1024),
  /** Write a checkpoint every N steps (0 = only at the end), when checkpointPath is set. */
  checkpointEvery: z.number().int().min(0).default(0),
  /** foo.safetensors (+ foo.json sidecar); written atomically. */
  checkpointPath: z.string().endsWith('.safetensors').optional(),
  /** Return after this step (simulates a killed run; resume continues to `steps`). */
  stopAfter: z.number().int().min(1).optional(),
  /** E4: the table is N(0, 1) and never updated. */
  frozenTable: z.boolean().default(false),
  seed: z.number().int().default(0),
});
export type TrainOptions = z.output<typeof TrainOptionsSchema>;
export type TrainOptionsInput = z.input<typeof TrainOptionsSchema>;

export interface TrainProgress {
  step: number;
  steps: number;
  loss: number; // nats/code, training batch
  bitsPerCode: number; // training batch
  evalBitsPerCode?: number; // held-out, when evaluated at this step
  lr: number;
  tokensPerSec: number;
  etaSec: number;
}

export interface TrainResult {
  step: number;
  stoppedOnNaN: boolean;
  /** Held-out bits/code at the end (NaN if no test split). */
  finalBitsPerCode: number;
  evals: { step: number; bitsPerCode: number }[];
  lastCheckpoint: string | null;
}

function parseOptions(input: unknown): TrainOptions {
  const r = TrainOptionsSchema.safeParse(input);
  if (!r.success) {
    const lines = r.error.issues.map((i) => `${i.path.length ? i.path.join('.') : '(root)'}: ${i.message}`);
    throw new Error(`invalid TrainOptions:\n  ${lines.join('\n  ')}`);
  }
  return r.data;
}

function checkSet(c: GPTConfig, s: CodeGridSet, name: string): void {
  const N = s.labels.length;
  if (s.vocab !== c.vocab) throw new Error(`${name}.vocab ${s.vocab} != config.vocab ${c.vocab}`);
  if (s.numClasses !== c.numClasses)
    throw new Error(`${name}.numClasses ${s.numClasses} != config ${c.numClasses}`);
  if (s.height !== c.height || s.width !== c.width) {
    throw new Error(`${name}: grid ${s.height}×${s.width} != config ${c.height}×${c.width}`);
  }
  if (s.codes.length !== N * c.height * c.width) throw new Error(`${name}.codes: length != N·H·W`);
}

interface Sidecar {
  kind: 'engram-ar/gpt-train';
  config: GPTConfig;
  options: TrainOptions;
  step: number;
  rng: RngState;
  adamw: { step: number; names: string[] };
  evals: { step: number; bitsPerCode: number }[];
}

export class Trainer {
  readonly config: GPTConfig;
  readonly options: TrainOptions;
  readonly model: GPT;
  readonly spec: HashSpec | null;
  readonly table: EngramTable | null;
  readonly sparse: SparseAdam | null;
  readonly adamw: AdamW;
  step = 0;
  evals: { step: number; bitsPerCode: number }[] = [];
  private rng: Rng;
  private readonly schedule: (step: number) => number;
  private readonly train: CodeGridSet;
  private readonly test: CodeGridSet | null;
  /** Test hook / fault injection: called before each step with the model (e.g. to poison a weight). */
  beforeStep: ((step: number, model: GPT) => void) | null = null;

  constructor(
    config: GPTConfig | unknown,
    train: CodeGridSet,
    test: CodeGridSet | null,
    options: TrainOptionsInput,
  ) {
    let c = parseGPTConfig(config);
    this.options = parseOptions(options);
    if (this.options.frozenTable && c.engram) {
      c = parseGPTConfig({ ...c, engram: { ...c.engram, init: { kind: 'frozen', std: 1 } } });
    }
    this.config = c;
    checkSet(c, train, 'train');
    if (test) checkSet(c, test, 'test');
    this.train = train;
    this.test = test;
    this.model = new GPT(c);
    this.spec = c.engram ? buildHashSpec(c.engram) : null;
    this.table = this.spec ? new EngramTable(this.spec) : null;
    const o = this.options;
    this.sparse =
      this.table && !this.table.frozen
        ? new SparseAdam(this.table, {
            lr: o.lr,
            beta1: o.beta1,
            beta2: o.beta2,
            lrMultiplier: o.tableLrMultiplier,
          })
        : null;
    this.adamw = makeAdamW(this.model, o);
    const warmupSteps = Math.min(o.warmupSteps, o.steps);
    this.schedule = lrSchedule({
      peak: o.lr,
      warmupSteps,
      totalSteps: o.steps,
      min: Math.min(o.minLr, o.lr),
    });
    this.rng = new Rng(o.seed).split('train');
  }

  /** Builds a trainer and, if options.checkpointPath exists, resumes from it. */
  static async create(
    config: GPTConfig | unknown,
    train: CodeGridSet,
    test: CodeGridSet | null,
    options: TrainOptionsInput,
  ): Promise<Trainer> {
    const t = new Trainer(config, train, test, options);
    const p = t.options.checkpointPath;
    if (p && existsSync(p)) await t.load(p);
    return t;
  }

  private batch(): { codes: Int32Array; classes: Int32Array } {
    const c = this.config;
    const B = this.options.batchSize;
    const N = c.height * c.width;
    const codes = new Int32Array(B * N);
    const classes = new Int32Array(B);
    const n = this.train.labels.length;
    for (let b = 0; b < B; b++) {
      const i = this.rng.int(n);
      codes.set(this.train.codes.subarray(i * N, (i + 1) * N), b * N);
      classes[b] = this.rng.uniform() < c.classDropout ? c.numClasses : this.train.labels[i]!;
    }
    return { codes, classes };
  }

  /** Rows for a batch: ids [B·T·Le·S·K] and gathered e [B·T, Le·S·K·dHead]. */
  private rows(codes: Int32Array, classes: Int32Array): { ids: Int32Array; e: Float32Array } | null {
    if (!this.spec || !this.table) return null;
    const c = this.config;
    const B = classes.length;
    const ids = rowsForGrids(this.spec, codes, [B, c.height, c.width], classes);
    return { ids, e: this.table.gatherRows(ids) };
  }

  private eWidth(): number {
    const e = this.config.engram;
    return e ? e.layers.length * e.stencils.length * e.heads * e.dHead : 0;
  }

  /** One optimisation step; returns the batch loss (nats/code), NaN if the step was rejected. */
  trainStep(): number {
    const o = this.options;
    this.beforeStep?.(this.step, this.model);
    const { codes, classes } = this.batch();
    const rows = this.rows(codes, classes);
    const BT = codes.length;
    const lr = this.schedule(this.step);
    const eVar = rows
      ? tf.tidy(() =>
          tf.variable(tf.tensor2d(rows.e, [BT, this.eWidth()]), !!this.sparse, `engram_rows_${this.step}`),
        )
      : null;
    const vars = [...this.model.weights.values()];
    const varList = eVar && this.sparse ? [...vars, eVar] : vars;
    const { value, grads } = tf.variableGrads(
      () => crossEntropy(this.model.forward({ codes, classes, engram: eVar ?? undefined }).logits, codes),
      varList,
    );
    const loss = (value.dataSync() as Float32Array)[0]!;
    value.dispose();
    // Reject a non-finite step before anything reaches an optimiser (SparseAdam keeps pending gradients).
    const eGrad = eVar && this.sparse ? (grads[eVar.name]!.dataSync() as Float32Array) : null;
    const denseNames = Object.keys(grads).filter((k) => !eVar || k !== eVar.name);
    const sq = tf.tidy(() => tf.addN(denseNames.map((k) => tf.sum(tf.square(grads[k]!)))));
    const denseSq = (sq.dataSync() as Float32Array)[0]!;
    sq.dispose();
    if (!Number.isFinite(loss) || !Number.isFinite(denseSq) || (eGrad && !eGrad.every(Number.isFinite))) {
      for (const g of Object.values(grads)) g.dispose();
      eVar?.dispose();
      return Number.NaN;
    }
    // Global norm over the dense grads and the (deduplicated) table gradient.
    if (eGrad && rows && this.sparse) this.sparse.accumulate(rows.ids, eGrad, 1);
    const norm = Math.sqrt(denseSq + (this.sparse?.pendingNormSq() ?? 0));
    const scale = norm > o.gradClip ? o.gradClip / norm : 1;
    if (eGrad && rows && this.sparse && scale !== 1) this.sparse.accumulate(rows.ids, eGrad, scale - 1);
    this.sparse?.apply(lr);
    const dense: Record<string, tf.Tensor> = {};
    for (const k of denseNames) dense[k] = scale === 1 ? grads[k]! : tf.mul(grads[k]!, scale);
    this.adamw.applyGradients(dense, lr);
    for (const g of Object.values(grads)) g.dispose();
    if (scale !== 1) for (const g of Object.values(dense)) g.dispose();
    eVar?.dispose();
    this.step++;
    return loss;
  }

  /** Held-out NLL in bits/code over the first `maxExamples` grids (true labels, no dropout). */
  evaluate(set: CodeGridSet, maxExamples = this.options.evalSize): number {
    const c = this.config;
    const N = c.height * c.width;
    const n = Math.min(maxExamples, set.labels.length);
    const B = Math.max(1, Math.min(this.options.batchSize, 256));
    let total = 0;
    for (let s = 0; s < n; s += B) {
      const b = Math.min(B, n - s);
      const codes = set.codes.slice(s * N, (s + b) * N);
      const classes = set.labels.slice(s, s + b);
      const rows = this.rows(codes, classes);
      total += tf.tidy(() => {
        const e = rows ? tf.tensor2d(rows.e, [b * N, this.eWidth()]) : undefined;
        return nllSum(this.model.forward({ codes, classes, engram: e }).logits, codes);
      });
    }
    return total / (n * N) / Math.LN2;
  }

  /** Runs to options.steps (or stopAfter), evaluating, checkpointing and reporting progress. */
  async run(onProgress?: (p: TrainProgress) => void): Promise<TrainResult> {
    const o = this.options;
    const c = this.config;
    const end = Math.min(o.steps, o.stopAfter ?? o.steps);
    const tokensPerStep = o.batchSize * c.height * c.width;
    const t0 = performance.now();
    const startStep = this.step;
    let savedAt = -1;
    let lastCheckpoint: string | null =
      o.checkpointPath && existsSync(o.checkpointPath) ? o.checkpointPath : null;
    while (this.step < end) {
      const lr = this.schedule(this.step);
      const loss = this.trainStep();
      if (Number.isNaN(loss)) {
        return {
          step: this.step,
          stoppedOnNaN: true,
          finalBitsPerCode: Number.NaN,
          evals: this.evals,
          lastCheckpoint,
        };
      }
      let evalBits: number | undefined;
      if (this.test && o.evalEvery > 0 && this.step % o.evalEvery === 0) {
        evalBits = this.evaluate(this.test);
        this.evals.push({ step: this.step, bitsPerCode: evalBits });
      }
      if (o.checkpointPath && o.checkpointEvery > 0 && this.step % o.checkpointEvery === 0) {
        await this.save(o.checkpointPath);
        lastCheckpoint = o.checkpointPath;
        savedAt = this.step;
      }
      const secs = (performance.now() - t0) / 1000;
      const done = this.step - startStep;
      onProgress?.({
        step: this.step,
        steps: o.steps,
        loss,
        bitsPerCode: loss / Math.LN2,
        evalBitsPerCode: evalBits,
        lr,
        tokensPerSec: (done * tokensPerStep) / secs,
        etaSec: (secs / done) * (end - this.step),
      });
    }
    let finalBitsPerCode = Number.NaN;
    let evalAdded = false;
    if (this.test) {
      const last = this.evals.at(-1);
      evalAdded = !last || last.step !== this.step;
      finalBitsPerCode = evalAdded ? this.evaluate(this.test) : last!.bitsPerCode;
      if (evalAdded) this.evals.push({ step: this.step, bitsPerCode: finalBitsPerCode });
    }
    // The final state (with its evals) is always on disk at the end of a run.
    if (o.checkpointPath && (savedAt !== this.step || evalAdded)) {
      await this.save(o.checkpointPath);
      lastCheckpoint = o.checkpointPath;
    }
    return { step: this.step, stoppedOnNaN: false, finalBitsPerCode, evals: this.evals, lastCheckpoint };
  }

  /** All state needed for an exact resume, as checkpoint tensors + JSON sidecar. */
  async save(path: string): Promise<void> {
    const tensors: Record<string, NamedTensor> = {};
    for (const [name, w] of Object.entries(this.model.toHost())) tensors[name] = { dtype: 'F32', ...w };
    if (this.table) Object.assign(tensors, this.table.toTensors());
    if (this.sparse) Object.assign(tensors, this.sparse.toTensors());
    const st = AdamW.stateToTensors(this.adamw.state());
    Object.assign(tensors, st.tensors);
    const sidecar: Sidecar = {
      kind: 'engram-ar/gpt-train',
      config: this.config,
      options: this.options,
      step: this.step,
      rng: this.rng.state(),
      adamw: st.json,
      evals: this.evals,
    };
    await saveCheckpoint(path, tensors, sidecar);
  }

  async load(path: string): Promise<void> {
    const { tensors, sidecar } = await loadCheckpoint(path);
    const s = sidecar as Sidecar;
    if (s?.kind !== 'engram-ar/gpt-train') throw new Error(`${path}: not a GPT training checkpoint`);
    if (JSON.stringify(s.config) !== JSON.stringify(this.config)) {
      throw new Error(`${path}: checkpoint config differs from the trainer's config`);
    }
    this.model.load(hostWeightsFrom(tensors, this.model));
    if (this.table) this.table.loadTensors(tensors);
    if (this.sparse) this.sparse.loadTensors(tensors);
    this.adamw.loadState(AdamW.stateFromTensors(tensors, s.adamw));
    this.rng = Rng.fromState(s.rng);
    this.step = s.step;
    this.evals = s.evals;
  }

  dispose(): void {
    this.model.dispose();
    this.adamw.dispose();
  }
}

function hostWeightsFrom(tensors: Record<string, NamedTensor>, model: GPT): HostWeights {
  const out: HostWeights = {};
  for (const s of model.specs) {
    const t = tensors[s.name];
    if (t?.dtype !== 'F32') throw new Error(`checkpoint: weight ${s.name} missing or not F32`);
    out[s.name] = { shape: t.shape, data: t.data as Float32Array };
  }
  return out;
}

/** AdamW with two groups: decayed matrices/embeddings and undecayed norm gains (WeightSpec.decay). */
function makeAdamW(model: GPT, o: TrainOptions): AdamW {
  const decay = model.specs.filter((s) => s.decay).map((s) => model.weights.get(s.name)!);
  const noDecay = model.specs.filter((s) => !s.decay).map((s) => model.weights.get(s.name)!);
  return new AdamW(
    [
      { params: decay, weightDecay: o.weightDecay },
      { params: noDecay, weightDecay: 0 },
    ],
    { lr: o.lr, beta1: o.beta1, beta2: o.beta2, eps: 1e-8 },
  );
}
