// ORT vs tfjs on a trained tokenizer over a whole test split: fraction of code positions where the
// exported encoder agrees with tfjs, and the decoders' max abs difference on the same codes.
//   npx tsx scripts/parity.ts <model dir with tokenizer.safetensors + encoder.onnx + decoder.onnx> [dataset]
import { join } from 'node:path';
import { loadDataset } from '@engram-ar/datasets';
import { createSession } from '@engram-ar/onnx';
import { initBackend } from '@engram-ar/tensor';
import { CHECKPOINT_FILE, imagesNchw, loadTokenizer } from '../src/index.js';

const [dir, name = 'mnist'] = process.argv.slice(2);
if (!dir) throw new Error('usage: scripts/parity.ts <model dir> [mnist|fashion-mnist]');
await initBackend({ backend: 'wasm', log: () => {} });
const { test } = await loadDataset({ name: name as 'mnist' });
const { model } = await loadTokenizer(join(dir, CHECKPOINT_FILE));
const n = test.labels.length;
const { h, w } = model.gridSize(test.height, test.width);
const x = imagesNchw(test);
const tfCodes = model.encode(x, n, test.height, test.width);
const enc = await createSession(join(dir, 'encoder.onnx'));
const dec = await createSession(join(dir, 'decoder.onnx'));
const o = await enc.run({
  images: { type: 'float32', data: x, dims: [n, test.channels, test.height, test.width] },
});
const ortCodes = o.codes!.data as BigInt64Array;
let same = 0;
for (let i = 0; i < tfCodes.length; i++) if (BigInt(tfCodes[i]!) === ortCodes[i]) same++;
const d = await dec.run({
  codes: { type: 'int64', data: BigInt64Array.from(tfCodes, BigInt), dims: [n, h, w] },
});
const ref = model.decode(tfCodes, n, h, w);
const got = d.images!.data as Float32Array;
let maxDiff = 0;
for (let i = 0; i < ref.length; i++) maxDiff = Math.max(maxDiff, Math.abs(ref[i]! - got[i]!));
console.log(
  JSON.stringify({ images: n, encoderAgreement: same / tfCodes.length, decoderMaxAbsDiff: maxDiff }),
);
