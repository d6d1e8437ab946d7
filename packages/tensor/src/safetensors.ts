// safetensors reader/writer and atomic checkpoint files (pure TS, no tfjs: sampler and probes read these).
//
// Format (https://github.com/huggingface/safetensors): u64 little-endian header length N, N bytes of UTF-8
// JSON header, then the raw little-endian tensor bytes. The header maps tensor names to
// { dtype, shape, data_offsets: [begin, end] } (offsets relative to the byte buffer after the header) plus an
// optional "__metadata__" string→string map. Like the reference writer we pad the header with spaces so that
// the data starts on an 8-byte boundary, and lay tensors out sorted by dtype (widest first) then by name, so
// every tensor is aligned to its element size and the bytes match what Python's `safetensors` produces.

import { createHash, randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, openSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { open, readFile, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

export type Dtype = 'F64' | 'F32' | 'F16' | 'I32' | 'I64' | 'U8';

export type TensorData = Float64Array | Float32Array | Int32Array | BigInt64Array | Uint8Array | Uint16Array;

export interface NamedTensor {
  dtype: Dtype;
  shape: number[];
  /** Row-major elements. F16 tensors carry raw IEEE half bits in a Uint16Array (see toFloat16Bits). */
  data: TensorData;
}

interface DtypeInfo {
  bytes: number;
  /** Layout order of the reference writer (descending): its Dtype enum order, so widest types first. */
  rank: number;
  ctor: { new (buf: ArrayBuffer): TensorData; name: string };
}

const DTYPES: Record<Dtype, DtypeInfo> = {
  I64: { bytes: 8, rank: 5, ctor: BigInt64Array },
  F64: { bytes: 8, rank: 4, ctor: Float64Array },
  F32: { bytes: 4, rank: 3, ctor: Float32Array },
  I32: { bytes: 4, rank: 2, ctor: Int32Array },
  F16: { bytes: 2, rank: 1, ctor: Uint16Array },
  U8: { bytes: 1, rank: 0, ctor: Uint8Array },
};

/** Header sizes above this are refused before parsing (same bound as the reference implementation). */
const MAX_HEADER_BYTES = 100_000_000;
const METADATA_KEY = '__metadata__';
const HOST_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function isDtype(x: unknown): x is Dtype {
  return typeof x === 'string' && Object.hasOwn(DTYPES, x);
}

function numel(shape: number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** `obj[key] = value` that also works for the key "__proto__" (plain assignment would set the prototype). */
function setOwn<T>(obj: Record<string, T>, key: string, value: T): void {
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
}

function byteSwapInPlace(bytes: Uint8Array, width: number): void {
  for (let i = 0; i < bytes.length; i += width) bytes.subarray(i, i + width).reverse();
}

function checkTensor(name: string, t: NamedTensor): void {
  if (name === METADATA_KEY) throw new Error(`safetensors: tensor name "${METADATA_KEY}" is reserved`);
  if (!isDtype(t.dtype))
    throw new Error(`safetensors: tensor "${name}": unsupported dtype ${JSON.stringify(t.dtype)}`);
  if (!Array.isArray(t.shape) || !t.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    throw new Error(
      `safetensors: tensor "${name}": shape must be non-negative integers, got ${JSON.stringify(t.shape)}`,
    );
  }
  const info = DTYPES[t.dtype];
  if (!(t.data instanceof info.ctor)) {
    throw new Error(
      `safetensors: tensor "${name}": dtype ${t.dtype} needs a ${info.ctor.name}, got ${t.data?.constructor?.name}`,
    );
  }
  if (t.data.length !== numel(t.shape)) {
    throw new Error(
      `safetensors: tensor "${name}": shape [${t.shape}] has ${numel(t.shape)} elements but data has ${t.data.length}`,
    );
  }
}

/** Layout plan shared by encode and the streaming writer: header bytes plus tensor byte views in file order. */
function plan(
  tensors: Record<string, NamedTensor>,
  metadata?: Record<string, string>,
): { header: Uint8Array; chunks: Uint8Array[] } {
  const names = Object.keys(tensors);
  for (const name of names) checkTensor(name, tensors[name]!);
  names.sort((a, b) => {
    const r = DTYPES[tensors[b]!.dtype].rank - DTYPES[tensors[a]!.dtype].rank;
    return r !== 0 ? r : a < b ? -1 : a > b ? 1 : 0;
  });
  // Built by hand, not from one object: JS would move integer-like tensor names ("0") ahead of the rest.
  const parts: string[] = [];
  if (metadata !== undefined) {
    for (const [k, v] of Object.entries(metadata)) {
      if (typeof v !== 'string')
        throw new Error(`safetensors: metadata "${k}" must be a string, got ${typeof v}`);
    }
    parts.push(`${JSON.stringify(METADATA_KEY)}:${JSON.stringify(metadata)}`);
  }
  const chunks: Uint8Array[] = [];
  let offset = 0;
  for (const name of names) {
    const t = tensors[name]!;
    let bytes = new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
    if (!HOST_LITTLE_ENDIAN && DTYPES[t.dtype].bytes > 1) {
      bytes = new Uint8Array(bytes);
      byteSwapInPlace(bytes, DTYPES[t.dtype].bytes);
    }
    const entry = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + bytes.length] };
    parts.push(`${JSON.stringify(name)}:${JSON.stringify(entry)}`);
    offset += bytes.length;
    chunks.push(bytes);
  }
  const json = new TextEncoder().encode(`{${parts.join(',')}}`);
  const padded = Math.ceil(json.length / 8) * 8;
  const head = new Uint8Array(8 + padded).fill(0x20, 8);
  new DataView(head.buffer).setBigUint64(0, BigInt(padded), true);
  head.set(json, 8);
  return { header: head, chunks };
}

export function encodeSafetensors(
  tensors: Record<string, NamedTensor>,
  metadata?: Record<string, string>,
): Uint8Array {
  const { header, chunks } = plan(tensors, metadata);
  const out = new Uint8Array(header.length + chunks.reduce((s, c) => s + c.length, 0));
  out.set(header, 0);
  let at = header.length;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

export function decodeSafetensors(bytes: Uint8Array): {
  tensors: Record<string, NamedTensor>;
  metadata: Record<string, string>;
} {
  if (bytes.length < 8)
    throw new Error(`safetensors: file is ${bytes.length} bytes, shorter than the 8-byte header length`);
  const n = new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true);
  if (n > BigInt(bytes.length - 8)) {
    throw new Error(
      `safetensors: header length ${n} exceeds the ${bytes.length - 8} bytes after the length field`,
    );
  }
  if (n > BigInt(MAX_HEADER_BYTES))
    throw new Error(`safetensors: header length ${n} exceeds ${MAX_HEADER_BYTES}`);
  const headerLen = Number(n);
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + headerLen)));
  } catch (e) {
    throw new Error(`safetensors: header is not valid UTF-8 JSON (${(e as Error).message})`);
  }
  if (header === null || typeof header !== 'object' || Array.isArray(header)) {
    throw new Error('safetensors: header must be a JSON object');
  }
  const dataStart = 8 + headerLen;
  const dataLen = bytes.length - dataStart;
  const metadata: Record<string, string> = {};
  const entries: { name: string; dtype: Dtype; shape: number[]; begin: number; end: number }[] = [];
  for (const [name, raw] of Object.entries(header as Record<string, unknown>)) {
    if (name === METADATA_KEY) {
      if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
        throw new Error('safetensors: __metadata__ must be an object of strings');
      }
      for (const [k, v] of Object.entries(raw as Record<string, unknown>)) {
        if (typeof v !== 'string') throw new Error(`safetensors: __metadata__.${k} must be a string`);
        setOwn(metadata, k, v);
      }
      continue;
    }
    const where = `safetensors: tensor "${name}"`;
    if (raw === null || typeof raw !== 'object') throw new Error(`${where}: header entry must be an object`);
    const { dtype, shape, data_offsets: offs } = raw as Record<string, unknown>;
    if (!isDtype(dtype)) throw new Error(`${where}: unsupported dtype ${JSON.stringify(dtype)}`);
    if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      throw new Error(
        `${where}: shape must be an array of non-negative integers, got ${JSON.stringify(shape)}`,
      );
    }
    if (!Array.isArray(offs) || offs.length !== 2 || !offs.every((o) => Number.isSafeInteger(o) && o >= 0)) {
      throw new Error(
        `${where}: data_offsets must be two non-negative integers, got ${JSON.stringify(offs)}`,
      );
    }
    const [begin, end] = offs as [number, number];
    if (end < begin) throw new Error(`${where}: data_offsets [${begin}, ${end}] end before they begin`);
    if (end > dataLen) {
      throw new Error(
        `${where}: data_offsets [${begin}, ${end}] run past the ${dataLen} data bytes in the file`,
      );
    }
    const expected = numel(shape) * DTYPES[dtype].bytes;
    if (end - begin !== expected) {
      throw new Error(
        `${where}: ${dtype} shape [${shape}] needs ${expected} bytes but data_offsets [${begin}, ${end}] span ${end - begin}`,
      );
    }
    entries.push({ name, dtype, shape: shape as number[], begin, end });
  }
  // Offsets must tile the data buffer exactly: sorted, no gap, no overlap, nothing after the last tensor.
  const sorted = entries.slice().sort((a, b) => a.begin - b.begin || a.end - b.end);
  let cursor = 0;
  for (let i = 0; i < sorted.length; i++) {
    const e = sorted[i]!;
    if (e.begin < cursor) {
      throw new Error(
        `safetensors: tensor "${e.name}": data_offsets [${e.begin}, ${e.end}] overlap tensor "${sorted[i - 1]!.name}" ending at ${cursor}`,
      );
    }
    if (e.begin > cursor) {
      throw new Error(
        `safetensors: tensor "${e.name}": data_offsets [${e.begin}, ${e.end}] leave a gap after byte ${cursor}`,
      );
    }
    cursor = e.end;
  }
  if (cursor !== dataLen) {
    throw new Error(
      `safetensors: ${dataLen - cursor} unexpected bytes after the last tensor (data ends at ${cursor})`,
    );
  }
  const tensors: Record<string, NamedTensor> = {};
  for (const e of entries) {
    // Own, aligned buffer (a Node Buffer's slice() would be a view into the file's pool).
    const copy = new Uint8Array(e.end - e.begin);
    copy.set(bytes.subarray(dataStart + e.begin, dataStart + e.end));
    if (!HOST_LITTLE_ENDIAN && DTYPES[e.dtype].bytes > 1) byteSwapInPlace(copy, DTYPES[e.dtype].bytes);
    setOwn(tensors, e.name, { dtype: e.dtype, shape: e.shape, data: new DTYPES[e.dtype].ctor(copy.buffer) });
  }
  return { tensors, metadata };
}

type FileData = Uint8Array | string | Uint8Array[];

/**
 * The temp file of an atomic write: in the target's directory (rename is only atomic within one filesystem),
 * hidden, and unique per process and call so concurrent writers of the same path never share one.
 */
function tempPathFor(path: string): string {
  return join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
}

function chunksOf(data: FileData): Uint8Array[] {
  return typeof data === 'string' ? [Buffer.from(data, 'utf8')] : Array.isArray(data) ? data : [data];
}

/** Largest single write call (Node caps one write below 2 GiB). */
const MAX_WRITE_BYTES = 1 << 30;

/**
 * Writes `data` to `path` atomically: a temp file in the same directory is written and fsynced, renamed over
 * `path`, then the directory is fsynced so the rename itself survives a crash. Readers never see a partial file;
 * on failure the temp file is removed and any previous `path` is left as it was.
 */
export async function atomicWriteFile(path: string, data: FileData): Promise<void> {
  const tmp = tempPathFor(path);
  try {
    const fh = await open(tmp, 'w');
    try {
      for (const c of chunksOf(data)) {
        let at = 0;
        while (at < c.length) {
          const { bytesWritten } = await fh.write(c, at, Math.min(c.length - at, MAX_WRITE_BYTES));
          at += bytesWritten;
        }
      }
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, path);
  } catch (e) {
    await unlink(tmp).catch(() => undefined); // never created, or already renamed: the original error matters
    throw e;
  }
  const dh = await open(dirname(path), 'r');
  try {
    await dh.sync();
  } finally {
    await dh.close();
  }
}

/**
 * Synchronous `atomicWriteFile`, same steps and guarantees (temp file, fsync, rename, directory fsync), for
 * callers that are synchronous by contract (e.g. @engram-ar/onnx's GraphBuilder.toBytes writing external data).
 */
export function atomicWriteFileSync(path: string, data: FileData): void {
  const tmp = tempPathFor(path);
  try {
    const fd = openSync(tmp, 'w');
    try {
      for (const c of chunksOf(data)) {
        let at = 0;
        while (at < c.length) at += writeSync(fd, c, at, Math.min(c.length - at, MAX_WRITE_BYTES));
      }
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch (e) {
    try {
      unlinkSync(tmp);
    } catch {
      // never created, or already renamed: the original error matters
    }
    throw e;
  }
  const dfd = openSync(dirname(path), 'r');
  try {
    fsyncSync(dfd);
  } finally {
    closeSync(dfd);
  }
}

export async function writeSafetensors(
  path: string,
  tensors: Record<string, NamedTensor>,
  metadata?: Record<string, string>,
): Promise<void> {
  const { header, chunks } = plan(tensors, metadata);
  await atomicWriteFile(path, [header, ...chunks]);
}

export async function readSafetensors(
  path: string,
): Promise<{ tensors: Record<string, NamedTensor>; metadata: Record<string, string> }> {
  const bytes = await readFile(path);
  try {
    return decodeSafetensors(bytes);
  } catch (e) {
    throw new Error(`${path}: ${(e as Error).message}`);
  }
}

const SIDECAR_FORMAT = 'engram-ar-checkpoint/1';
/** `__metadata__` key holding the sidecar as JSON text: the tensors file alone is a whole checkpoint. */
export const CHECKPOINT_SIDECAR_KEY = 'engram_ar_sidecar';
/** `__metadata__` key holding the SHA-256 (hex) of the data bytes after the header: catches data corruption. */
export const CHECKPOINT_DATA_SHA256_KEY = 'engram_ar_data_sha256';

function sidecarPath(path: string): string {
  if (!path.endsWith('.safetensors'))
    throw new Error(`checkpoint path must end in .safetensors, got ${path}`);
  return `${path.slice(0, -'.safetensors'.length)}.json`;
}

function sidecarFileText(tensorsSha256: string, sidecar: unknown): string {
  return `${JSON.stringify({ format: SIDECAR_FORMAT, tensorsSha256, sidecar }, null, 1)}\n`;
}

/**
 * Checkpoint = `foo.safetensors`, whose `__metadata__` embeds the sidecar (JSON text under
 * `engram_ar_sidecar`) and the SHA-256 of its data bytes (`engram_ar_data_sha256`). That one file is written
 * atomically, so whatever is on disk is a consistent checkpoint: a kill at any moment leaves the old one or
 * the new one. `foo.json = { format, tensorsSha256, sidecar }` is then written (also atomically) as the
 * human-readable copy; it is derived data, and a kill before it lands leaves it missing or one save behind,
 * which `loadCheckpoint` reports and repairs. `metadata` is the caller's own string map (the two keys above
 * are reserved).
 */
export async function saveCheckpoint(
  path: string,
  tensors: Record<string, NamedTensor>,
  sidecar: unknown,
  metadata?: Record<string, string>,
): Promise<void> {
  const side = sidecarPath(path);
  for (const k of [CHECKPOINT_SIDECAR_KEY, CHECKPOINT_DATA_SHA256_KEY]) {
    if (metadata !== undefined && Object.hasOwn(metadata, k))
      throw new Error(`saveCheckpoint: metadata key "${k}" is reserved for the embedded sidecar`);
  }
  const sidecarJson = JSON.stringify(sidecar);
  if (sidecarJson === undefined)
    throw new Error(`saveCheckpoint: sidecar must be JSON-serialisable, got ${typeof sidecar}`);
  // The data bytes do not depend on the header, so their hash can go into the header.
  const data = plan(tensors).chunks;
  const dataHash = createHash('sha256');
  for (const c of data) dataHash.update(c);
  const { header, chunks } = plan(tensors, {
    ...metadata,
    [CHECKPOINT_SIDECAR_KEY]: sidecarJson,
    [CHECKPOINT_DATA_SHA256_KEY]: dataHash.digest('hex'),
  });
  const hash = createHash('sha256');
  hash.update(header);
  for (const c of chunks) hash.update(c);
  const tensorsSha256 = hash.digest('hex');
  await atomicWriteFile(path, [header, ...chunks]);
  await atomicWriteFile(side, sidecarFileText(tensorsSha256, JSON.parse(sidecarJson)));
}

export interface LoadedCheckpoint {
  tensors: Record<string, NamedTensor>;
  /** The caller's metadata as saved (without the reserved checkpoint keys). */
  metadata: Record<string, string>;
  sidecar: unknown;
  /**
   * Set when `foo.json` was missing, unreadable or from another save (a kill between the two writes of
   * `saveCheckpoint`). The checkpoint loaded from the embedded sidecar regardless; the note says so and
   * whether `foo.json` was rewritten. Undefined when `foo.json` matched.
   */
  note?: string;
}

/**
 * Loads `foo.safetensors` and trusts its embedded sidecar; `foo.json` is not needed. A file that fails to
 * decode or whose data bytes do not match the embedded SHA-256 is rejected. If `foo.json` is missing or
 * stale, it is rewritten atomically from the embedded copy (best effort: a read-only directory still
 * loads) and `note` says what happened. Checkpoints written before the sidecar was embedded (no
 * `engram_ar_sidecar` key) still load from `foo.json`, which must then exist and match the tensors' SHA-256.
 */
export async function loadCheckpoint(path: string): Promise<LoadedCheckpoint> {
  const side = sidecarPath(path);
  const bytes = await readFile(path).catch((e: NodeJS.ErrnoException) => {
    throw new Error(`checkpoint tensors ${path} cannot be read (${e.code ?? e.message})`);
  });
  let decoded: ReturnType<typeof decodeSafetensors>;
  try {
    decoded = decodeSafetensors(bytes);
  } catch (e) {
    throw new Error(`checkpoint ${path} is corrupt: ${(e as Error).message}`);
  }
  const tensorsSha256 = createHash('sha256').update(bytes).digest('hex');
  const {
    [CHECKPOINT_SIDECAR_KEY]: embedded,
    [CHECKPOINT_DATA_SHA256_KEY]: dataSha256,
    ...metadata
  } = decoded.metadata;
  const sideFile = await readSidecarFile(side);
  if (embedded === undefined) return loadLegacy(path, side, sideFile, tensorsSha256, decoded);

  const headerEnd = 8 + Number(new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true));
  const actualData = createHash('sha256').update(bytes.subarray(headerEnd)).digest('hex');
  if (actualData !== dataSha256) {
    throw new Error(
      `checkpoint ${path} is corrupt: data sha256 ${actualData} does not match the ${dataSha256 ?? 'missing'} recorded in its header`,
    );
  }
  let sidecar: unknown;
  try {
    sidecar = JSON.parse(embedded);
  } catch (e) {
    throw new Error(
      `checkpoint ${path} is corrupt: embedded sidecar is not valid JSON (${(e as Error).message})`,
    );
  }
  if (sideFile.ok && sideFile.value.tensorsSha256 === tensorsSha256)
    return { tensors: decoded.tensors, metadata, sidecar };

  const problem = sideFile.ok
    ? `is from another save (tensorsSha256 ${sideFile.value.tensorsSha256}, tensors have ${tensorsSha256})`
    : sideFile.problem;
  let action: string;
  try {
    await atomicWriteFile(side, sidecarFileText(tensorsSha256, sidecar));
    action = 'rewrote it from the sidecar embedded in the tensors file';
  } catch (e) {
    action = `could not rewrite it (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`;
  }
  return {
    tensors: decoded.tensors,
    metadata,
    sidecar,
    note: `checkpoint ${path}: ${side} ${problem} (save interrupted between its two writes); loaded the embedded sidecar and ${action}`,
  };
}

type SidecarFile =
  | { ok: true; value: { tensorsSha256: string; sidecar: unknown } }
  | { ok: false; problem: string };

async function readSidecarFile(side: string): Promise<SidecarFile> {
  let text: string;
  try {
    text = await readFile(side, 'utf8');
  } catch (e) {
    return {
      ok: false,
      problem: `cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`,
    };
  }
  let parsed: { format?: unknown; tensorsSha256?: unknown; sidecar?: unknown };
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    return { ok: false, problem: `is not valid JSON (${(e as Error).message})` };
  }
  if (parsed?.format !== SIDECAR_FORMAT || typeof parsed.tensorsSha256 !== 'string')
    return { ok: false, problem: `is not format "${SIDECAR_FORMAT}" with a tensorsSha256 string` };
  return { ok: true, value: { tensorsSha256: parsed.tensorsSha256, sidecar: parsed.sidecar } };
}

/** A checkpoint from before the embedded sidecar: the pair must exist and agree. */
function loadLegacy(
  path: string,
  side: string,
  sideFile: SidecarFile,
  tensorsSha256: string,
  decoded: ReturnType<typeof decodeSafetensors>,
): LoadedCheckpoint {
  if (!sideFile.ok)
    throw new Error(`checkpoint ${path} has no embedded sidecar and ${side} ${sideFile.problem}`);
  if (sideFile.value.tensorsSha256 !== tensorsSha256) {
    throw new Error(
      `checkpoint ${path} has no embedded sidecar and its tensors sha256 ${tensorsSha256} does not match ${side} (${sideFile.value.tensorsSha256}); the pair is from different saves`,
    );
  }
  return { ...decoded, sidecar: sideFile.value.sidecar };
}

/** float32 → IEEE binary16 bits, round to nearest even (matches numpy's astype(float16)). */
export function toFloat16Bits(x: Float32Array): Uint16Array {
  const out = new Uint16Array(x.length);
  const u = new Uint32Array(x.buffer, x.byteOffset, x.length);
  for (let i = 0; i < x.length; i++) {
    const b = u[i]!;
    const sign = (b >>> 16) & 0x8000;
    const exp = (b >>> 23) & 0xff;
    let mant = b & 0x7fffff;
    if (exp === 0xff) {
      out[i] = sign | 0x7c00 | (mant !== 0 ? 0x200 | (mant >>> 13) : 0); // NaN stays NaN (quiet), Inf stays Inf
      continue;
    }
    const e = exp - 127 + 15;
    if (e >= 0x1f) {
      out[i] = sign | 0x7c00; // overflow → Inf
      continue;
    }
    if (e <= 0) {
      if (e < -10) {
        out[i] = sign; // underflows to ±0 even after rounding
        continue;
      }
      mant |= 0x800000; // implicit bit; result is subnormal
      const shift = 14 - e;
      const half = 1 << (shift - 1);
      const rest = mant & ((1 << shift) - 1);
      let m = mant >>> shift;
      if (rest > half || (rest === half && (m & 1) === 1)) m++;
      out[i] = sign | m; // m may carry into the exponent field: that is the correct smallest normal
      continue;
    }
    let h = (e << 10) | (mant >>> 13);
    const rest = mant & 0x1fff;
    if (rest > 0x1000 || (rest === 0x1000 && (h & 1) === 1)) h++; // carry may round up to Inf: correct
    out[i] = sign | h;
  }
  return out;
}

/** IEEE binary16 bits → float32 (exact). */
export function fromFloat16Bits(h: Uint16Array): Float32Array {
  const out = new Float32Array(h.length);
  for (let i = 0; i < h.length; i++) {
    const b = h[i]!;
    const sign = b & 0x8000 ? -1 : 1;
    const exp = (b >>> 10) & 0x1f;
    const mant = b & 0x3ff;
    out[i] =
      exp === 0
        ? sign * mant * 2 ** -24
        : exp === 0x1f
          ? mant
            ? Number.NaN
            : sign * Number.POSITIVE_INFINITY
          : sign * (1 + mant / 1024) * 2 ** (exp - 15);
  }
  return out;
}
