// Tokenizer checkpoints: `tokenizer.safetensors` (parameters as F32 under their model names, plus
// optimiser arrays under `optim/…`) and the `tokenizer.json` sidecar (config, step, code-usage
// counters, the optimiser state's non-array part). Loadable from Python with numpy alone.
import { access, mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { loadCheckpoint, type NamedTensor, saveCheckpoint } from '@engram-ar/tensor/safetensors';
import { z } from 'zod';
import { ArchConfigSchema, type TokenizerConfig, TrainConfigSchema } from './config.js';
import { paramSpecs, VQModel } from './model.js';
import type { CodeUsageState } from './usage.js';

export const CHECKPOINT_FORMAT = 'engram-ar-vq-checkpoint/1';

const SidecarSchema = z.object({
  format: z.literal(CHECKPOINT_FORMAT),
  config: z.object({ arch: ArchConfigSchema, train: TrainConfigSchema }),
  step: z.number().int().min(0),
  dataset: z.string().nullable(),
  /** Training image size (the default size of an ONNX export). */
  image: z
    .object({ height: z.number().int().positive(), width: z.number().int().positive() })
    .nullable()
    .default(null),
  usage: z.object({ unused: z.array(z.number().int()), since: z.array(z.number().int()) }).nullable(),
  /** Optimiser state with every typed array replaced by { $tensor: key } (the key in the safetensors file). */
  optimizer: z.unknown(),
});

type ArrayData = Float32Array | Int32Array;

/** Moves typed arrays out of `obj` into `tensors` (under `optim/<path>`); returns the JSON remainder. */
function splitArrays(obj: unknown, path: string, tensors: Record<string, NamedTensor>): unknown {
  if (obj instanceof Float32Array || obj instanceof Int32Array) {
    const key = `optim/${path}`;
    tensors[key] = { dtype: obj instanceof Float32Array ? 'F32' : 'I32', shape: [obj.length], data: obj };
    return { $tensor: key };
  }
  if (Array.isArray(obj)) return obj.map((v, i) => splitArrays(v, `${path}.${i}`, tensors));
  if (obj && typeof obj === 'object') {
    if (ArrayBuffer.isView(obj)) throw new Error(`checkpoint: unsupported typed array at optimizer ${path}`);
    return Object.fromEntries(
      Object.entries(obj).map(([k, v]) => [k, splitArrays(v, path ? `${path}.${k}` : k, tensors)]),
    );
  }
  return obj;
}

function joinArrays(obj: unknown, tensors: Record<string, NamedTensor>): unknown {
  if (Array.isArray(obj)) return obj.map((v) => joinArrays(v, tensors));
  if (obj && typeof obj === 'object') {
    const ref = (obj as { $tensor?: unknown }).$tensor;
    if (typeof ref === 'string') {
      const t = tensors[ref];
      if (!t) throw new Error(`checkpoint: optimizer state refers to missing tensor '${ref}'`);
      return t.data as ArrayData;
    }
    return Object.fromEntries(Object.entries(obj).map(([k, v]) => [k, joinArrays(v, tensors)]));
  }
  return obj;
}

export interface SaveTokenizerInput {
  model: VQModel;
  config: TokenizerConfig;
  step: number;
  optimizer?: unknown;
  usage?: CodeUsageState;
  dataset?: string;
  image?: { height: number; width: number };
}

export async function saveTokenizer(path: string, s: SaveTokenizerInput): Promise<void> {
  const tensors: Record<string, NamedTensor> = {};
  const values = s.model.values();
  for (const spec of paramSpecs(s.model.arch)) {
    tensors[spec.name] = { dtype: 'F32', shape: spec.shape, data: values.get(spec.name)! };
  }
  const optimizer = s.optimizer === undefined ? null : splitArrays(s.optimizer, '', tensors);
  const sidecar = {
    format: CHECKPOINT_FORMAT,
    config: s.config,
    step: s.step,
    dataset: s.dataset ?? null,
    image: s.image ?? null,
    usage: s.usage ?? null,
    optimizer,
  };
  await mkdir(dirname(path), { recursive: true });
  await saveCheckpoint(path, tensors, sidecar, { format: CHECKPOINT_FORMAT });
}

export interface LoadedTokenizer {
  model: VQModel;
  config: TokenizerConfig;
  step: number;
  dataset: string | null;
  image: { height: number; width: number } | null;
  usage: CodeUsageState | null;
  /** Optimiser state as given to `saveTokenizer` (typed arrays restored), or null. */
  optimizer: unknown;
}

export async function checkpointExists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

export async function loadTokenizer(path: string): Promise<LoadedTokenizer> {
  const { tensors, sidecar } = await loadCheckpoint(path);
  const r = SidecarSchema.safeParse(sidecar);
  if (!r.success) {
    const msg = r.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new Error(`tokenizer checkpoint ${path}: invalid sidecar: ${msg}`);
  }
  const side = r.data;
  const values = new Map<string, Float32Array>();
  for (const spec of paramSpecs(side.config.arch)) {
    const t = tensors[spec.name];
    if (!t) throw new Error(`tokenizer checkpoint ${path}: missing tensor '${spec.name}'`);
    if (t.dtype !== 'F32' || t.shape.join(',') !== spec.shape.join(',')) {
      throw new Error(
        `tokenizer checkpoint ${path}: tensor '${spec.name}' is ${t.dtype} [${t.shape}], expected F32 [${spec.shape}]`,
      );
    }
    values.set(spec.name, t.data as Float32Array);
  }
  return {
    model: new VQModel(side.config.arch, values),
    config: side.config,
    step: side.step,
    dataset: side.dataset,
    image: side.image,
    usage: side.usage,
    optimizer: side.optimizer === null ? null : joinArrays(side.optimizer, tensors),
  };
}
