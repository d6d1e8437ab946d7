// ONNX export of the tokenizer: encoder.onnx (images → codes), decoder.onnx (codes → images) and a
// zod-validated manifest.json beside them. The graphs walk the same layer plans as the tfjs model.
//
// GroupNorm: ai.onnx only has GroupNormalization from opset 18 (and its opset-18 form was later
// deprecated for a wrong scale/bias shape), so at opset 17 it is decomposed as
//   Reshape [B,C,H,W] → [B,G,C/G·H·W] → InstanceNormalization (unit scale, zero bias) → Reshape back
//   → Mul γ [C,1,1] → Add β [C,1,1]
// which normalises each (sample, group) over its channels and pixels, exactly GroupNorm's statistics.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { float, GraphBuilder } from '@engram-ar/onnx';
import { atomicWriteFile } from '@engram-ar/tensor/safetensors';
import { z } from 'zod';
import { type ArchConfig, ArchConfigSchema } from './config.js';
import { convPads } from './conv.js';
import { decoderPlan, encoderPlan, GROUPNORM_EPS, L2NORM_EPS, type Layer } from './model.js';

export const MANIFEST_FORMAT = 'engram-ar-vq-tokenizer/1';

export const TokenizerManifestSchema = z.object({
  format: z.literal(MANIFEST_FORMAT),
  arch: ArchConfigSchema,
  image: z.object({
    channels: z.number().int().positive(),
    height: z.number().int().positive(),
    width: z.number().int().positive(),
  }),
  grid: z.object({ height: z.number().int().positive(), width: z.number().int().positive() }),
  /** Number of distinct codes (codebook size K); codes are in [0, vocab). */
  vocab: z.number().int().positive(),
  /** Pixel range of the encoder input and decoder output. */
  range: z.tuple([z.literal(-1), z.literal(1)]),
  opset: z.number().int(),
  encoder: z.object({ file: z.string(), input: z.literal('images'), output: z.literal('codes') }).nullable(),
  decoder: z.object({ file: z.string(), input: z.literal('codes'), output: z.literal('images') }).nullable(),
  groupNorm: z.string(),
  dataset: z.string().optional(),
  trainedSteps: z.number().int().min(0).optional(),
});
export type TokenizerManifest = z.infer<typeof TokenizerManifestSchema>;

export function parseManifest(json: unknown): TokenizerManifest {
  const r = TokenizerManifestSchema.safeParse(json);
  if (!r.success) {
    const msg = r.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new Error(`invalid tokenizer manifest: ${msg}`);
  }
  return r.data;
}

/** What the exporter needs: the architecture and every parameter's values (as `VQModel.values()`). */
export interface TokenizerWeights {
  arch: ArchConfig;
  values: Map<string, Float32Array>;
}

export interface ExportOptions {
  dir: string;
  height: number;
  width: number;
  encoder?: boolean; // default true
  decoder?: boolean; // default true
  dataset?: string;
  trainedSteps?: number;
}

export interface ExportResult {
  manifest: TokenizerManifest;
  manifestPath: string;
  encoderPath: string | null;
  decoderPath: string | null;
}

function get(values: Map<string, Float32Array>, name: string): Float32Array {
  const v = values.get(name);
  if (!v) throw new Error(`exportOnnx: missing parameter '${name}'`);
  return v;
}

/** [k,k,Ci,Co] (tfjs HWIO) → [Co,Ci,k,k] (ONNX OIHW). */
function toOihw(w: Float32Array, k: number, ci: number, co: number): Float32Array {
  const out = new Float32Array(w.length);
  for (let y = 0; y < k; y++)
    for (let x = 0; x < k; x++)
      for (let i = 0; i < ci; i++)
        for (let o = 0; o < co; o++)
          out[((o * ci + i) * k + y) * k + x] = w[((y * k + x) * ci + i) * co + o]!;
  return out;
}

/** Unit-L2 rows of codebook [K,d], in float32 steps mirroring the tfjs `l2Normalize`. */
export function normalizeRows(cb: Float32Array, k: number, d: number): Float32Array {
  const out = new Float32Array(cb.length);
  for (let r = 0; r < k; r++) {
    let s = 0;
    for (let j = 0; j < d; j++) s = Math.fround(s + Math.fround(cb[r * d + j]! * cb[r * d + j]!));
    const inv = Math.fround(1 / Math.sqrt(Math.max(s, L2NORM_EPS)));
    for (let j = 0; j < d; j++) out[r * d + j] = Math.fround(cb[r * d + j]! * inv);
  }
  return out;
}

class NetWriter {
  constructor(
    readonly g: GraphBuilder,
    readonly a: ArchConfig,
    readonly values: Map<string, Float32Array>,
  ) {}

  conv(x: string, name: string, cin: number, cout: number, k: number, stride: 1 | 2): string {
    const [t, b, l, r] = convPads(k, stride);
    const w = this.g.init(`${name}.weight`, toOihw(get(this.values, `${name}.weight`), k, cin, cout), [
      cout,
      cin,
      k,
      k,
    ]);
    const bias = this.g.init(`${name}.bias`, get(this.values, `${name}.bias`), [cout]);
    return this.g.op('Conv', [x, w, bias], {
      kernel_shape: [k, k],
      strides: [stride, stride],
      pads: [t, l, b, r],
    });
  }

  groupNorm(x: string, name: string, c: number): string {
    const groups = this.a.normGroups;
    const grouped = this.g.reshape(x, [0, groups, -1]);
    const ones = this.g.constant(new Float32Array(groups).fill(1), [groups], { hint: 'gn_ones' });
    const zeros = this.g.constant(new Float32Array(groups), [groups], { hint: 'gn_zeros' });
    const normed = this.g.op('InstanceNormalization', [grouped, ones, zeros], {
      epsilon: float(GROUPNORM_EPS),
    });
    const back = this.g.op('Reshape', [normed, this.g.shape(x)]);
    const gamma = this.g.init(`${name}.gamma`, get(this.values, `${name}.gamma`), [c, 1, 1]);
    const beta = this.g.init(`${name}.beta`, get(this.values, `${name}.beta`), [c, 1, 1]);
    return this.g.add(this.g.mul(back, gamma), beta);
  }

  silu(x: string): string {
    return this.g.mul(x, this.g.sigmoid(x));
  }

  run(plan: Layer[], x: string): string {
    for (const l of plan) {
      if (l.kind === 'conv') x = this.conv(x, l.name, l.cin, l.cout, l.k, l.stride);
      else if (l.kind === 'normAct') x = this.silu(this.groupNorm(x, l.name, l.c));
      else if (l.kind === 'up') {
        const scales = this.g.constant(Float32Array.of(1, 1, 2, 2), [4], { hint: 'up_scales' });
        // asymmetric + floor = pixel (i, j) copies input (⌊i/2⌋, ⌊j/2⌋), as tfjs resizeNearestNeighbor.
        x = this.g.op('Resize', [x, '', scales], {
          mode: 'nearest',
          coordinate_transformation_mode: 'asymmetric',
          nearest_mode: 'floor',
        });
      } else {
        let y = this.conv(
          this.silu(this.groupNorm(x, `${l.name}.norm1`, l.cin)),
          `${l.name}.conv1`,
          l.cin,
          l.cout,
          3,
          1,
        );
        y = this.conv(
          this.silu(this.groupNorm(y, `${l.name}.norm2`, l.cout)),
          `${l.name}.conv2`,
          l.cout,
          l.cout,
          3,
          1,
        );
        const skip = l.cin === l.cout ? x : this.conv(x, `${l.name}.skip`, l.cin, l.cout, 1, 1);
        x = this.g.add(skip, y);
      }
    }
    return x;
  }
}

/** Builds encoder.onnx: images [B,C,H,W] float32 in [-1,1] → codes [B,h,w] int64. */
export function buildEncoderGraph(w: TokenizerWeights, height: number, width: number): GraphBuilder {
  const a = w.arch;
  const h = height / a.downsample;
  const wd = width / a.downsample;
  const g = new GraphBuilder({
    name: 'vq_encoder',
    docString: 'VQ tokenizer encoder: images in [-1,1] → codes',
  });
  const net = new NetWriter(g, a, w.values);
  const x = g.input('images', 'float32', ['batch', a.channels, height, width]);
  const ze = g.transpose(net.run(encoderPlan(a), x), [0, 2, 3, 1]); // [B,h,w,d]
  const ss = g.op('ReduceSum', [g.mul(ze, ze), g.int64s([-1], 'axes')], { keepdims: 1 });
  const z = g.div(ze, g.sqrt(g.op('Max', [ss, g.scalar(L2NORM_EPS)])));
  const e = normalizeRows(get(w.values, 'quant.codebook'), a.codebookSize, a.codeDim);
  const eT = new Float32Array(e.length);
  for (let r = 0; r < a.codebookSize; r++)
    for (let j = 0; j < a.codeDim; j++) eT[j * a.codebookSize + r] = e[r * a.codeDim + j]!;
  const sim = g.matmul(z, g.init('quant.codebook_normalized_t', eT, [a.codeDim, a.codebookSize])); // [B,h,w,K]
  const codes = g.op('ArgMax', [sim], { axis: -1, keepdims: 0, select_last_index: 0 });
  g.output('codes', 'int64', ['batch', h, wd], codes);
  return g;
}

/** Builds decoder.onnx: codes [B,h,w] int64 → images [B,C,H,W] float32 clamped to [-1,1]. */
export function buildDecoderGraph(w: TokenizerWeights, height: number, width: number): GraphBuilder {
  const a = w.arch;
  const h = height / a.downsample;
  const wd = width / a.downsample;
  const g = new GraphBuilder({
    name: 'vq_decoder',
    docString: 'VQ tokenizer decoder: codes → images in [-1,1]',
  });
  const net = new NetWriter(g, a, w.values);
  const codes = g.input('codes', 'int64', ['batch', h, wd]);
  const e = normalizeRows(get(w.values, 'quant.codebook'), a.codebookSize, a.codeDim);
  const zq = g.gather(g.init('quant.codebook_normalized', e, [a.codebookSize, a.codeDim]), codes); // [B,h,w,d]
  const y = net.run(decoderPlan(a), g.transpose(zq, [0, 3, 1, 2]));
  const img = g.op('Clip', [y, g.scalar(-1), g.scalar(1)]);
  g.output('images', 'float32', ['batch', a.channels, height, width], img);
  return g;
}

/** Writes encoder.onnx, decoder.onnx and manifest.json into `opts.dir`. */
export async function exportOnnx(w: TokenizerWeights, opts: ExportOptions): Promise<ExportResult> {
  const a = w.arch;
  if (opts.height % a.downsample !== 0 || opts.width % a.downsample !== 0) {
    throw new Error(
      `exportOnnx: image ${opts.height}×${opts.width} is not divisible by downsample ${a.downsample}`,
    );
  }
  const doEnc = opts.encoder ?? true;
  const doDec = opts.decoder ?? true;
  let encoderPath: string | null = null;
  let decoderPath: string | null = null;
  let opset = 17;
  await mkdir(opts.dir, { recursive: true });
  if (doEnc) {
    const g = buildEncoderGraph(w, opts.height, opts.width);
    encoderPath = join(opts.dir, 'encoder.onnx');
    await g.save(encoderPath);
    opset = g.opset;
  }
  if (doDec) {
    const g = buildDecoderGraph(w, opts.height, opts.width);
    decoderPath = join(opts.dir, 'decoder.onnx');
    await g.save(decoderPath);
    opset = g.opset;
  }
  const manifest = parseManifest({
    format: MANIFEST_FORMAT,
    arch: a,
    image: { channels: a.channels, height: opts.height, width: opts.width },
    grid: { height: opts.height / a.downsample, width: opts.width / a.downsample },
    vocab: a.codebookSize,
    range: [-1, 1],
    opset,
    encoder: doEnc ? { file: 'encoder.onnx', input: 'images', output: 'codes' } : null,
    decoder: doDec ? { file: 'decoder.onnx', input: 'codes', output: 'images' } : null,
    groupNorm: 'decomposed: Reshape → InstanceNormalization → Reshape → Mul γ → Add β (opset 17)',
    ...(opts.dataset !== undefined ? { dataset: opts.dataset } : {}),
    ...(opts.trainedSteps !== undefined ? { trainedSteps: opts.trainedSteps } : {}),
  });
  const manifestPath = join(opts.dir, 'manifest.json');
  await atomicWriteFile(manifestPath, `${JSON.stringify(manifest, null, 2)}\n`);
  return { manifest, manifestPath, encoderPath, decoderPath };
}
