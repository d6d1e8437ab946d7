// maybeDumpModel: a no-op without ONNX_CHECK_DIR; with it, bytes land as <name>.onnx and a saved
// model with external data lands in <name>/ together with exactly the data file it references.
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { externalLocations } from '../src/dump.js';
import { GraphBuilder, maybeDumpModel } from '../src/index.js';

let dir: string;
let saved: string | undefined;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'engram-onnx-dump-'));
  saved = process.env.ONNX_CHECK_DIR;
});
afterEach(async () => {
  if (saved === undefined) delete process.env.ONNX_CHECK_DIR;
  else process.env.ONNX_CHECK_DIR = saved;
  await rm(dir, { recursive: true, force: true });
});

function model(): GraphBuilder {
  const b = new GraphBuilder({ name: 'dump' });
  const x = b.input('x', 'float32', [256]);
  b.output('y', 'float32', [256], b.add(x, b.init('w', new Float32Array(256).fill(2), [256])));
  return b;
}

describe('maybeDumpModel', () => {
  it('does nothing when ONNX_CHECK_DIR is unset', async () => {
    delete process.env.ONNX_CHECK_DIR;
    expect(await maybeDumpModel('m', model().toBytes())).toBeNull();
  });

  it('writes bytes as <name>.onnx and copies a saved model with its referenced data file', async () => {
    const out = join(dir, 'out');
    process.env.ONNX_CHECK_DIR = out;
    const bytes = model().toBytes();
    expect(await maybeDumpModel('plain', bytes)).toBe(join(out, 'plain.onnx'));
    expect(Buffer.from(await readFile(join(out, 'plain.onnx'))).equals(Buffer.from(bytes))).toBe(true);

    const src = join(dir, 'src');
    await mkdir(src);
    await model().save(join(src, 'm.onnx'), {
      externalData: { thresholdBytes: 512, location: 'weights.bin' },
    });
    await writeFile(join(src, 'unrelated.data'), 'x');
    expect(externalLocations(await readFile(join(src, 'm.onnx')))).toEqual(['weights.bin']);
    expect(await maybeDumpModel('ext', join(src, 'm.onnx'))).toBe(join(out, 'ext', 'm.onnx'));
    expect((await readdir(join(out, 'ext'))).sort()).toEqual(['m.onnx', 'weights.bin']);
  });

  it('rejects names that are not plain file names', async () => {
    process.env.ONNX_CHECK_DIR = dir;
    await expect(maybeDumpModel('../escape', new Uint8Array())).rejects.toThrow(
      "name '../escape' must match",
    );
  });
});
