// Collects ONNX files produced by tests for the Python checker (scripts/check_onnx.py): when
// ONNX_CHECK_DIR is set, models are copied there; otherwise this is a no-op.
import { copyFile, mkdir, readdir } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { atomicWriteFile } from './atomic.js';

/** The directory models are collected in, or null when ONNX_CHECK_DIR is unset. */
export function onnxCheckDir(): string | null {
  const dir = process.env.ONNX_CHECK_DIR;
  return dir ? dir : null;
}

/**
 * Writes `model` as `$ONNX_CHECK_DIR/<name>.onnx` if the variable is set. `model` is the model
 * bytes, or the path of a saved model whose external data files (`<file>.data` or any file
 * sharing its base name) are copied beside it. Returns the written path, or null.
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
  // External data locations are file names relative to the model, so the model keeps its own
  // file name inside a per-model sub-directory.
  const sub = join(dir, name);
  await mkdir(sub, { recursive: true });
  const file = basename(model);
  const stem = file.replace(/\.onnx$/, '');
  for (const f of await readdir(dirname(model))) {
    if (f === file || f.startsWith(`${file}.`) || (f.startsWith(stem) && f.endsWith('.data'))) {
      await copyFile(join(dirname(model), f), join(sub, f));
    }
  }
  return join(sub, file);
}
