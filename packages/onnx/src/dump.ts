// Collects ONNX files produced by tests for the Python checker (scripts/check_onnx.py): when
// ONNX_CHECK_DIR is set, models are copied there; otherwise this is a no-op.
import { copyFile, mkdir, readFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { atomicWriteFile } from '@engram-ar/tensor/safetensors';
import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;

/** The directory models are collected in, or null when ONNX_CHECK_DIR is unset. */
export function onnxCheckDir(): string | null {
  const dir = process.env.ONNX_CHECK_DIR;
  return dir ? dir : null;
}

/**
 * Writes `model` as `$ONNX_CHECK_DIR/<name>.onnx` if the variable is set. `model` is the model
 * bytes, or the path of a saved model whose external data files are copied beside it. Returns the written path, or null.
 */
export async function maybeDumpModel(name: string, model: Uint8Array | string): Promise<string | null> {
  const dir = onnxCheckDir();
  if (!dir) return null;
  if (!/^[\w.-]+$/.test(name)) throw new Error(`maybeDumpModel: name '${name}' must match [\\w.-]+`);
  await mkdir(dir, { recursive: true });
  if (typeof model !== 'string') {
    const out = join(dir, `${name}.onnx`);
    await atomicWriteFile(out, model);
    return out;
  }
  // External data locations are relative to the model file, so each such model gets its own
  // sub-directory holding it and exactly the data files its initialisers reference.
  const sub = join(dir, name);
  await mkdir(sub, { recursive: true });
  for (const location of externalLocations(await readFile(model))) {
    await copyFile(join(dirname(model), location), join(sub, location));
  }
  const out = join(sub, basename(model));
  await copyFile(model, out);
  return out;
}

/** Distinct external data file names referenced by a model's initialisers. */
export function externalLocations(modelBytes: Uint8Array): string[] {
  const proto = onnx.ModelProto.decode(modelBytes);
  const found = new Set<string>();
  for (const t of proto.graph?.initializer ?? []) {
    const loc = t.externalData?.find((e) => e.key === 'location')?.value;
    if (loc) found.add(loc);
  }
  return [...found];
}
