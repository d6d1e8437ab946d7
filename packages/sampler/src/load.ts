// Opening an exported model: validate model.json, rebuild the Engram hash from its config and check
// it bit-for-bit against the constants the table was trained with, then open the ORT session.
import { stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { buildHashSpec, checkHashSpec, type HashSpec, type HashSpecJSON } from '@engram-ar/engram';
import { createSession, type Session, type SessionOptions } from '@engram-ar/onnx';
import { type ModelManifest, readManifest } from './manifest.js';

export interface LoadedModel {
  manifest: ModelManifest;
  /** The step graph (past_key_values → present): prefill, scoring, any caller-driven decoding. */
  session: Session;
  /** The fast decode graph over a host-owned KV cache, when exported and loaded (generate uses it). */
  decode: Session | null;
  /** The Engram hash (null for the baseline). */
  hash: HashSpec | null;
  /** Directory holding model.json and the .onnx. */
  dir: string;
}

/** Rebuilds the hash of a manifest and throws if it differs from the recorded constants. */
export function manifestHash(m: ModelManifest): HashSpec | null {
  if (!m.engram) return null;
  const spec = buildHashSpec(m.engram.config);
  checkHashSpec(spec, m.engram.hash as HashSpecJSON);
  return spec;
}

/**
 * Opens `dir/model.json` (or a model.json path), its step graph and (unless `decodeGraph: false`,
 * which halves the memory of a large table) its decode graph.
 */
export async function loadModel(
  dirOrManifest: string,
  opts: SessionOptions & { decodeGraph?: boolean } = {},
): Promise<LoadedModel> {
  const isDir = (await stat(dirOrManifest)).isDirectory();
  const manifestPath = isDir ? join(dirOrManifest, 'model.json') : dirOrManifest;
  const dir = dirname(manifestPath);
  const manifest = await readManifest(manifestPath);
  const hash = manifestHash(manifest);
  const { decodeGraph = true, ...sessionOpts } = opts;
  const session = await createSession(join(dir, manifest.onnx), sessionOpts);
  const missing = manifest.io.inputs.filter((n) => !session.inputNames.includes(n));
  if (missing.length)
    throw new Error(`${manifest.onnx}: graph lacks inputs listed in model.json io: ${missing}`);
  let decode =
    decodeGraph && manifest.decode ? await createSession(join(dir, manifest.decode.onnx), sessionOpts) : null;
  if (decode && !currentDecodeLayout(decode, manifest.headDim)) {
    // Exports from before the key cache became [B, H, M, Dh] (it was [B, H, Dh, M]): the host cache
    // would feed the wrong layout, so sample with the step graph instead.
    await decode.release();
    decode = null;
  }
  return { manifest, session, decode, hash, dir };
}

/** True if the decode graph takes key_cache.0 as [B, H, M, Dh] (the layout onnx's KvCacheBuffer feeds). */
function currentDecodeLayout(decode: Session, headDim: number): boolean {
  const dims = decode.inputs.find((i) => i.name === 'key_cache.0')?.dims;
  return !!dims && dims.length === 4 && dims[3] === headDim && typeof dims[2] !== 'number';
}

/** A model given as a directory (loaded here, released by the caller's `release`) or already loaded. */
export async function resolveModel(
  model: string | LoadedModel,
  opts?: SessionOptions,
): Promise<{ model: LoadedModel; release: () => Promise<void> }> {
  if (typeof model !== 'string') return { model, release: async () => {} };
  const loaded = await loadModel(model, opts);
  return { model: loaded, release: () => releaseModel(loaded) };
}

/** Releases both ORT sessions of a loaded model. */
export async function releaseModel(m: LoadedModel): Promise<void> {
  await m.session.release();
  await m.decode?.release();
}
