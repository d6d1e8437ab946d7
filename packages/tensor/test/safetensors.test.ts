import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  atomicWriteFile,
  atomicWriteFileSync,
  CHECKPOINT_DATA_SHA256_KEY,
  CHECKPOINT_SIDECAR_KEY,
  type Dtype,
  decodeSafetensors,
  encodeSafetensors,
  fromFloat16Bits,
  loadCheckpoint,
  type NamedTensor,
  readSafetensors,
  saveCheckpoint,
  toFloat16Bits,
  writeSafetensors,
} from '../src/safetensors.js';

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

const goldenDir = new URL('./golden/', import.meta.url);
interface GoldenTensor {
  dtype: Dtype;
  shape: number[];
  values: (number | string)[];
}
const golden = JSON.parse(await readFile(new URL('golden.safetensors.json', goldenDir), 'utf8')) as {
  sha256: string;
  metadata: Record<string, string>;
  tensors: Record<string, GoldenTensor>;
};
const goldenBytes = new Uint8Array(await readFile(new URL('golden.safetensors', goldenDir)));
const f16Table = JSON.parse(await readFile(new URL('float16.json', goldenDir), 'utf8')) as {
  f32bits: number[];
  f16bits: number[];
};

/** Tensors from the golden JSON; F32/F64 values are stored as exact bit patterns (F64's as decimal strings, like I64). */
function fromGolden(g: GoldenTensor): NamedTensor {
  const v = g.values;
  switch (g.dtype) {
    case 'F64':
      return {
        dtype: 'F64',
        shape: g.shape,
        data: new Float64Array(BigUint64Array.from((v as string[]).map((s) => BigInt(s))).buffer),
      };
    case 'F32':
      return { dtype: 'F32', shape: g.shape, data: new Float32Array(Uint32Array.from(v as number[]).buffer) };
    case 'F16':
      return { dtype: 'F16', shape: g.shape, data: Uint16Array.from(v as number[]) };
    case 'I32':
      return { dtype: 'I32', shape: g.shape, data: Int32Array.from(v as number[]) };
    case 'I64':
      return {
        dtype: 'I64',
        shape: g.shape,
        data: BigInt64Array.from((v as string[]).map((s) => BigInt(s))),
      };
    case 'U8':
      return { dtype: 'U8', shape: g.shape, data: Uint8Array.from(v as number[]) };
  }
}

const expected = Object.fromEntries(Object.entries(golden.tensors).map(([k, g]) => [k, fromGolden(g)]));

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'engram-ar-st-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('golden file written by python (json + struct + numpy)', () => {
  it('decodes exactly', () => {
    const { tensors, metadata } = decodeSafetensors(goldenBytes);
    expect(metadata).toEqual(golden.metadata);
    expect(Object.keys(tensors).sort()).toEqual(Object.keys(expected).sort());
    for (const [name, t] of Object.entries(expected)) {
      expect(tensors[name]!.dtype, name).toBe(t.dtype);
      expect(tensors[name]!.shape, name).toEqual(t.shape);
      expect(tensors[name]!.data, name).toEqual(t.data);
    }
  });

  it('our encoder reproduces the golden bytes exactly', () => {
    const bytes = encodeSafetensors(expected, golden.metadata);
    expect(bytes.length).toBe(goldenBytes.length);
    expect(Buffer.from(bytes).equals(Buffer.from(goldenBytes))).toBe(true);
  });

  it('writeSafetensors writes the same bytes and readSafetensors reads them', async () => {
    const path = join(dir, 'golden-copy.safetensors');
    await writeSafetensors(path, expected, golden.metadata);
    expect(Buffer.from(await readFile(path)).equals(Buffer.from(goldenBytes))).toBe(true);
    const back = await readSafetensors(path);
    expect(back.tensors.big!.data).toEqual(expected.big!.data);
  });

  it('F64 keeps values float32 cannot hold (1 + 2⁻⁵², 1/3, a subnormal, 1e300, −0)', () => {
    const mu = decodeSafetensors(goldenBytes).tensors['stats.mu']!;
    expect(mu.data).toBeInstanceOf(Float64Array);
    expect(Array.from(mu.data as Float64Array)).toEqual([1 + 2 ** -52, 1 / 3, 1e-310, 1e300, -0, Math.PI]);
    expect(Object.is((mu.data as Float64Array)[4], -0)).toBe(true);
  });
});

describe('float16 conversion', () => {
  it('matches numpy astype(float16) bit for bit (random bits, ties, subnormals, overflow)', () => {
    const f32 = new Float32Array(Uint32Array.from(f16Table.f32bits).buffer);
    expect(Array.from(toFloat16Bits(f32))).toEqual(f16Table.f16bits);
  });

  it('every non-NaN half round-trips exactly through float32; NaN stays NaN', () => {
    const all = new Uint16Array(65536).map((_, i) => i);
    const back = toFloat16Bits(fromFloat16Bits(all));
    const wrong: number[] = [];
    for (let i = 0; i < 65536; i++) {
      const nan = (i & 0x7c00) === 0x7c00 && (i & 0x3ff) !== 0;
      const ok = nan ? Number.isNaN(fromFloat16Bits(back.subarray(i, i + 1))[0]) : back[i] === i;
      if (!ok) wrong.push(i);
    }
    expect(wrong).toEqual([]);
  });
});

const dtypes: Dtype[] = ['F64', 'F32', 'F16', 'I32', 'I64', 'U8'];
const arbTensor = fc
  .record({
    dtype: fc.constantFrom(...dtypes),
    shape: fc.array(fc.integer({ min: 0, max: 4 }), { maxLength: 4 }),
    seed: fc.integer(),
  })
  .map(({ dtype, shape, seed }): NamedTensor => {
    const n = shape.reduce((a, b) => a * b, 1);
    const raw = new Uint8Array(n * { F64: 8, F32: 4, F16: 2, I32: 4, I64: 8, U8: 1 }[dtype]);
    let x = seed >>> 0;
    for (let i = 0; i < raw.length; i++) {
      x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
      raw[i] = x >>> 24;
    }
    // F32/F64 via bits would include NaNs whose payload toEqual cannot compare; draw finite floats instead
    // (F64 ones with more mantissa than float32 holds, so a float32 detour would show)
    const data =
      dtype === 'F64'
        ? Float64Array.from({ length: n }, (_, i) => (raw[8 * i]! - 128) / 7 + raw[8 * i + 1]! * 1e-9)
        : dtype === 'F32'
          ? Float32Array.from({ length: n }, (_, i) => (raw[4 * i]! - 128) / 7 + raw[4 * i + 1]! * 1e-3)
          : dtype === 'F16'
            ? new Uint16Array(raw.buffer)
            : dtype === 'I32'
              ? new Int32Array(raw.buffer)
              : dtype === 'I64'
                ? new BigInt64Array(raw.buffer)
                : raw;
    return { dtype, shape, data };
  });

describe('round-trip (property)', () => {
  it('decode(encode(x)) == x over dtypes, shapes (incl. scalars and zero-size) and metadata', () => {
    fc.assert(
      fc.property(
        fc.dictionary(
          fc.string({ minLength: 1 }).filter((s) => s !== '__metadata__'),
          arbTensor,
          { maxKeys: 6 },
        ),
        fc.option(fc.dictionary(fc.string(), fc.string(), { maxKeys: 3 }), { nil: undefined }),
        (tensors, metadata) => {
          const bytes = encodeSafetensors(tensors, metadata);
          const headerLen = Number(new DataView(bytes.buffer).getBigUint64(0, true));
          expect(headerLen % 8).toBe(0);
          const back = decodeSafetensors(bytes);
          expect(back.metadata).toEqual(metadata ?? {});
          expect(Object.keys(back.tensors).sort()).toEqual(Object.keys(tensors).sort());
          for (const [k, t] of Object.entries(tensors)) {
            const b = back.tensors[k]!;
            expect(b.dtype).toBe(t.dtype);
            expect(b.shape).toEqual(t.shape);
            expect(b.data).toEqual(t.data);
            // each tensor's data starts aligned to its element size in the file
            const offs = (JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headerLen))) as never)[
              k
            ] as {
              data_offsets: number[];
            };
            expect((8 + headerLen + offs.data_offsets[0]!) % b.data.BYTES_PER_ELEMENT).toBe(0);
          }
        },
      ),
      { numRuns: 150 },
    );
  });

  it('keeps a tensor and a metadata key named "__proto__" as own entries', () => {
    // fast-check found this: plain assignment on decode set the objects' prototypes instead
    const proto = '__proto__';
    const tensors: Record<string, NamedTensor> = {};
    Object.defineProperty(tensors, proto, {
      value: { dtype: 'U8', shape: [1], data: new Uint8Array([7]) },
      enumerable: true,
    });
    const metadata = JSON.parse('{"__proto__":"x"}') as Record<string, string>;
    const back = decodeSafetensors(encodeSafetensors(tensors, metadata));
    const [[name, t]] = Object.entries(back.tensors) as [[string, NamedTensor]];
    expect(name).toBe(proto);
    expect(t.data).toEqual(new Uint8Array([7]));
    expect(Object.entries(back.metadata)).toEqual([['__proto__', 'x']]);
  });

  it('accepts data views with a byteOffset into a larger buffer', () => {
    const big = new Float32Array([9, 1, 2, 3, 9]);
    const bytes = encodeSafetensors({ v: { dtype: 'F32', shape: [3], data: big.subarray(1, 4) } });
    expect(decodeSafetensors(bytes).tensors.v!.data).toEqual(new Float32Array([1, 2, 3]));
  });
});

/** Builds a file from a raw header object and data bytes, for corruption tests. */
function rawFile(header: unknown, data: Uint8Array, lengthOverride?: bigint): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, lengthOverride ?? BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

describe('corrupt files give errors naming the tensor and the problem', () => {
  const ok = {
    a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] },
    b: { dtype: 'U8', shape: [4], data_offsets: [8, 12] },
  };
  const data12 = new Uint8Array(12);

  it('sanity: the uncorrupted raw file decodes', () => {
    expect(Object.keys(decodeSafetensors(rawFile(ok, data12)).tensors).sort()).toEqual(['a', 'b']);
  });

  it('truncated files', () => {
    const good = encodeSafetensors(expected, golden.metadata);
    expect(() => decodeSafetensors(good.subarray(0, 5))).toThrow(/shorter than the 8-byte header length/);
    expect(() => decodeSafetensors(good.subarray(0, 100))).toThrow(/header length \d+ exceeds the 92 bytes/);
    expect(() => decodeSafetensors(good.subarray(0, good.length - 3))).toThrow(
      /tensor "mask": data_offsets \[\d+, \d+\] run past the \d+ data bytes/,
    );
  });

  it('bad header length or JSON', () => {
    expect(() => decodeSafetensors(rawFile(ok, data12, 1n << 40n))).toThrow(
      /header length 1099511627776 exceeds/,
    );
    expect(() => decodeSafetensors(rawFile(ok, data12, 10n))).toThrow(/not valid UTF-8 JSON/);
    expect(() => decodeSafetensors(rawFile([1, 2], data12))).toThrow(/header must be a JSON object/);
  });

  it('unknown dtype, bad shape, size mismatch', () => {
    expect(() => decodeSafetensors(rawFile({ ...ok, a: { ...ok.a, dtype: 'BF16' } }, data12))).toThrow(
      /tensor "a": unsupported dtype "BF16"/,
    );
    expect(() => decodeSafetensors(rawFile({ ...ok, a: { ...ok.a, shape: [-2] } }, data12))).toThrow(
      /tensor "a": shape must be/,
    );
    expect(() => decodeSafetensors(rawFile({ ...ok, a: { ...ok.a, shape: [3] } }, data12))).toThrow(
      /tensor "a": F32 shape \[3\] needs 12 bytes but data_offsets \[0, 8\] span 8/,
    );
    expect(() => decodeSafetensors(rawFile({ ...ok, a: { ...ok.a, data_offsets: [0] } }, data12))).toThrow(
      /tensor "a": data_offsets must be two/,
    );
  });

  it('overlapping, gapped, reversed offsets and trailing bytes', () => {
    const overlap = {
      a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] },
      b: { dtype: 'U8', shape: [4], data_offsets: [4, 8] },
    };
    expect(() => decodeSafetensors(rawFile(overlap, new Uint8Array(8)))).toThrow(
      /tensor "b": data_offsets \[4, 8\] overlap tensor "a" ending at 8/,
    );
    const gap = {
      a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] },
      b: { dtype: 'U8', shape: [4], data_offsets: [10, 14] },
    };
    expect(() => decodeSafetensors(rawFile(gap, new Uint8Array(14)))).toThrow(
      /tensor "b": .* leave a gap after byte 8/,
    );
    const reversed = { a: { dtype: 'U8', shape: [0], data_offsets: [4, 0] } };
    expect(() => decodeSafetensors(rawFile(reversed, new Uint8Array(4)))).toThrow(
      /tensor "a": .* end before they begin/,
    );
    expect(() => decodeSafetensors(rawFile(ok, new Uint8Array(15)))).toThrow(
      /3 unexpected bytes after the last tensor/,
    );
    expect(() => decodeSafetensors(rawFile({ __metadata__: { k: 1 } }, new Uint8Array(0)))).toThrow(
      /__metadata__\.k must be a string/,
    );
  });

  it('encoder rejects inconsistent tensors', () => {
    expect(() =>
      encodeSafetensors({ w: { dtype: 'F32', shape: [2, 2], data: new Float32Array(3) } }),
    ).toThrow(/tensor "w": shape \[2,2\] has 4 elements but data has 3/);
    expect(() => encodeSafetensors({ w: { dtype: 'I64', shape: [1], data: new Int32Array(1) } })).toThrow(
      /tensor "w": dtype I64 needs a BigInt64Array, got Int32Array/,
    );
    expect(() => encodeSafetensors({ w: { dtype: 'F64', shape: [1], data: new Float32Array(1) } })).toThrow(
      /tensor "w": dtype F64 needs a Float64Array, got Float32Array/,
    );
    expect(() =>
      encodeSafetensors({ __metadata__: { dtype: 'U8', shape: [0], data: new Uint8Array(0) } }),
    ).toThrow(/reserved/);
  });

  it('readSafetensors prefixes errors with the path', async () => {
    const path = join(dir, 'bad.safetensors');
    await writeFile(path, rawFile(ok, new Uint8Array(15)));
    await expect(readSafetensors(path)).rejects.toThrow(/bad\.safetensors: safetensors: 3 unexpected bytes/);
  });
});

describe('atomic writes and checkpoints', () => {
  it('atomicWriteFile replaces content and leaves no temp files', async () => {
    const sub = await mkdtemp(join(dir, 'atomic-'));
    const path = join(sub, 'x.txt');
    await atomicWriteFile(path, 'first');
    await atomicWriteFile(path, new TextEncoder().encode('second'));
    expect(await readFile(path, 'utf8')).toBe('second');
    expect(await readdir(sub)).toEqual(['x.txt']);
    await expect(atomicWriteFile(join(sub, 'missing-dir', 'y'), 'z')).rejects.toThrow(/ENOENT/);
    expect(await readdir(sub)).toEqual(['x.txt']);
  });

  it('atomicWriteFileSync replaces content (bytes, string, chunks) and leaves no temp files', async () => {
    const sub = await mkdtemp(join(dir, 'atomic-sync-'));
    const path = join(sub, 'x.bin');
    atomicWriteFileSync(path, 'first');
    expect(await readFile(path, 'utf8')).toBe('first');
    atomicWriteFileSync(path, new TextEncoder().encode('second'));
    expect(await readFile(path, 'utf8')).toBe('second');
    const big = Uint8Array.from({ length: 70_000 }, (_, i) => (i * 31) & 0xff);
    atomicWriteFileSync(path, [big.subarray(0, 3), new Uint8Array(0), big.subarray(3)]);
    expect(Buffer.from(await readFile(path)).equals(Buffer.from(big))).toBe(true);
    expect(await readdir(sub)).toEqual(['x.bin']);
    expect(() => atomicWriteFileSync(join(sub, 'missing-dir', 'y'), 'z')).toThrow(/ENOENT/);
    expect(await readdir(sub)).toEqual(['x.bin']);
  });

  // A chunk that is not bytes makes the write throw after the temp file exists and holds the first chunk.
  const failing = [new TextEncoder().encode('partial'), { length: 5 } as unknown as Uint8Array];

  it('a failed write (sync and async) removes its temp file and leaves the old file intact', async () => {
    const sub = await mkdtemp(join(dir, 'atomic-fail-'));
    const path = join(sub, 'model.onnx');
    await writeFile(path, 'old content');
    expect(() => atomicWriteFileSync(path, failing)).toThrow(
      /must be of type string or an instance of Buffer/,
    );
    expect(await readdir(sub)).toEqual(['model.onnx']);
    expect(await readFile(path, 'utf8')).toBe('old content');
    await expect(atomicWriteFile(path, failing)).rejects.toThrow(
      /must be of type string or an instance of Buffer/,
    );
    expect(await readdir(sub)).toEqual(['model.onnx']);
    expect(await readFile(path, 'utf8')).toBe('old content');
  });

  it('a failed rename (target is a directory) removes the temp file and leaves the target as it was', async () => {
    const sub = await mkdtemp(join(dir, 'atomic-rename-'));
    const target = join(sub, 'taken');
    await mkdir(target);
    await writeFile(join(target, 'inside'), 'kept');
    expect(() => atomicWriteFileSync(target, 'data')).toThrow(/EISDIR|ENOTEMPTY|EEXIST/);
    await expect(atomicWriteFile(target, 'data')).rejects.toThrow(/EISDIR|ENOTEMPTY|EEXIST/);
    expect(await readdir(sub)).toEqual(['taken']);
    expect(await readFile(join(target, 'inside'), 'utf8')).toBe('kept');
  });

  it('saveCheckpoint/loadCheckpoint round-trip tensors, metadata and sidecar', async () => {
    const path = join(dir, 'ckpt.safetensors');
    const sidecar = { step: 12, config: { lr: 1e-3 }, rng: { s: [1, 2, 3, 4], spare: null } };
    await saveCheckpoint(path, expected, sidecar, { kind: 'test' });
    const back = await loadCheckpoint(path);
    expect(back.sidecar).toEqual(sidecar);
    expect(back.metadata).toEqual({ kind: 'test' });
    expect(back.tensors.weight!.data).toEqual(expected.weight!.data);
    expect(await readdir(dir)).toContain('ckpt.json');
  });

  it('the tensors file alone is the checkpoint: its metadata embeds the sidecar as a string (python-readable)', async () => {
    const path = join(dir, 'alone.safetensors');
    const sidecar = { step: 3, note: 'ü', nested: { a: [1, 2] } };
    await saveCheckpoint(path, expected, sidecar, { kind: 'test' });
    const raw = await readSafetensors(path);
    expect(Object.keys(raw.metadata).sort()).toEqual([
      CHECKPOINT_DATA_SHA256_KEY,
      CHECKPOINT_SIDECAR_KEY,
      'kind',
    ]);
    expect(JSON.parse(raw.metadata[CHECKPOINT_SIDECAR_KEY]!)).toEqual(sidecar);
    const bytes = await readFile(path);
    const dataStart = 8 + Number(bytes.readBigUInt64LE(0));
    expect(raw.metadata[CHECKPOINT_DATA_SHA256_KEY]).toBe(sha256(bytes.subarray(dataStart)));
    const side = JSON.parse(await readFile(join(dir, 'alone.json'), 'utf8'));
    expect(side).toEqual({ format: 'engram-ar-checkpoint/1', tensorsSha256: sha256(bytes), sidecar });
  });

  it('a kill between the two writes (new tensors, old or no foo.json) still loads the new save and repairs foo.json', async () => {
    const path = join(dir, 'torn.safetensors');
    const side = join(dir, 'torn.json');
    const at = (step: number) => ({ w: { dtype: 'U8' as const, shape: [1], data: new Uint8Array([step]) } });
    await saveCheckpoint(path, at(1), { step: 1 });
    const oldSide = await readFile(side);
    await saveCheckpoint(path, at(2), { step: 2 });
    const fresh = await readFile(side, 'utf8');

    // torn: new tensors + the previous save's sidecar
    await writeFile(side, oldSide);
    const torn = await loadCheckpoint(path);
    expect(torn.sidecar).toEqual({ step: 2 });
    expect(torn.tensors.w!.data).toEqual(new Uint8Array([2]));
    expect(torn.note).toMatch(/torn\.json is from another save .*loaded the embedded sidecar and rewrote it/);
    expect(await readFile(side, 'utf8')).toBe(fresh);
    expect((await loadCheckpoint(path)).note).toBeUndefined();

    // torn: new tensors, the sidecar never written
    await rm(side);
    const missing = await loadCheckpoint(path);
    expect(missing.sidecar).toEqual({ step: 2 });
    expect(missing.note).toMatch(/torn\.json cannot be read \(ENOENT\).*rewrote it/);
    expect(await readFile(side, 'utf8')).toBe(fresh);

    // garbage sidecar; and one that cannot be rewritten (a directory in its place): still loads
    await writeFile(side, '{"format":');
    expect((await loadCheckpoint(path)).note).toMatch(/is not valid JSON/);
    await rm(side);
    await mkdir(side);
    const stuck = await loadCheckpoint(path);
    expect(stuck.sidecar).toEqual({ step: 2 });
    expect(stuck.note).toMatch(
      /cannot be read \(EISDIR\).*could not rewrite it \((EISDIR|ENOTEMPTY|EEXIST)\)/,
    );
    await rm(side, { recursive: true });
  });

  it('a corrupt tensors file is rejected with an error saying so', async () => {
    const path = join(dir, 'bad.safetensors');
    await saveCheckpoint(path, expected, { step: 5 });
    const good = await readFile(path);
    const flipped = Buffer.from(good);
    flipped[flipped.length - 1]! ^= 0x01; // last data byte
    await writeFile(path, flipped);
    await expect(loadCheckpoint(path)).rejects.toThrow(
      /checkpoint .*bad\.safetensors is corrupt: data sha256 [0-9a-f]{64} does not match/,
    );
    await writeFile(path, good.subarray(0, good.length - 3));
    await expect(loadCheckpoint(path)).rejects.toThrow(/bad\.safetensors is corrupt: .*run past/);
    await writeFile(path, good.subarray(0, 5));
    await expect(loadCheckpoint(path)).rejects.toThrow(
      /bad\.safetensors is corrupt: safetensors: file is 5 bytes/,
    );
    await rm(path);
    await expect(loadCheckpoint(path)).rejects.toThrow(
      /tensors .*bad\.safetensors cannot be read \(ENOENT\)/,
    );
  });

  it('checkpoints from before the embedded sidecar load only as an agreeing pair', async () => {
    const a = join(dir, 'legacy-a.safetensors');
    const b = join(dir, 'legacy-b.safetensors');
    const legacy = async (path: string, v: number) => {
      await writeSafetensors(path, { w: { dtype: 'U8', shape: [1], data: new Uint8Array([v]) } }, { k: 'x' });
      const sidecar = { step: v };
      const text = JSON.stringify({
        format: 'engram-ar-checkpoint/1',
        tensorsSha256: sha256(await readFile(path)),
        sidecar,
      });
      await writeFile(path.replace(/\.safetensors$/, '.json'), text);
    };
    await legacy(a, 1);
    await legacy(b, 2);
    const ok = await loadCheckpoint(a);
    expect(ok.sidecar).toEqual({ step: 1 });
    expect(ok.metadata).toEqual({ k: 'x' });
    expect(ok.note).toBeUndefined();
    await writeFile(join(dir, 'legacy-b.json'), await readFile(join(dir, 'legacy-a.json')));
    await expect(loadCheckpoint(b)).rejects.toThrow(
      /no embedded sidecar and its tensors sha256 .*legacy-b\.json.*different saves/,
    );
    await rm(join(dir, 'legacy-a.json'));
    await expect(loadCheckpoint(a)).rejects.toThrow(
      /no embedded sidecar and .*legacy-a\.json cannot be read \(ENOENT\)/,
    );
  });

  it('saveCheckpoint refuses bad paths, reserved metadata keys and non-JSON sidecars', async () => {
    const p = join(dir, 'r.safetensors');
    await expect(saveCheckpoint(join(dir, 'c.bin'), {}, {})).rejects.toThrow(/must end in \.safetensors/);
    await expect(saveCheckpoint(p, {}, {}, { [CHECKPOINT_SIDECAR_KEY]: 'x' })).rejects.toThrow(
      /metadata key "engram_ar_sidecar" is reserved/,
    );
    await expect(saveCheckpoint(p, {}, undefined)).rejects.toThrow(/sidecar must be JSON-serialisable/);
    expect(await readdir(dir)).not.toContain('r.safetensors');
  });
});
