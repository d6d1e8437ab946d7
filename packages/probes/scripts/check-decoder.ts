// Does a decoder.onnx match a code-grid directory? Decodes the first --n grids of a split and
// classifies them with a feature net: accuracy near the classifier's own means the codes and the
// decoder come from the same tokenizer. Run before scoring samples decoded with that decoder.
//
//   npx tsx scripts/check-decoder.ts --codes DIR --decoder decoder.onnx --extractor net.onnx [--n 500]
import { join } from 'node:path';
import { FeatureExtractor } from '@engram-ar/metrics';
import { decodeCodes, imagesToUint8 } from '@engram-ar/sampler';
import { readSafetensors } from '@engram-ar/tensor/safetensors';

const arg = (k: string, d?: string) => {
  const i = process.argv.indexOf(`--${k}`);
  if (i >= 0) return process.argv[i + 1]!;
  if (d === undefined) throw new Error(`--${k} is required`);
  return d;
};
const { tensors } = await readSafetensors(join(arg('codes'), `${arg('split', 'test')}.safetensors`));
const [N, h, w] = tensors.codes!.shape as [number, number, number];
const n = Math.min(Number(arg('n', '500')), N);
const codes = (tensors.codes!.data as Int32Array).subarray(0, n * h * w);
const labels = (tensors.labels!.data as Int32Array).subarray(0, n);
const d = await decodeCodes(arg('decoder'), codes, [n, h, w]);
const ex = await FeatureExtractor.open(arg('extractor'));
const { logits, classes } = await ex.extract({
  images: imagesToUint8(d),
  height: d.height,
  width: d.width,
  channels: d.channels,
});
let hits = 0;
for (let i = 0; i < n; i++) {
  let best = 0;
  for (let c = 1; c < classes!; c++) if (logits![i * classes! + c]! > logits![i * classes! + best]!) best = c;
  if (best === labels[i]) hits++;
}
console.log(JSON.stringify({ n, accuracy: hits / n, image: [d.channels, d.height, d.width] }));
