// Wall time of loading each built-in source (cold, one process): one JSON line.
// Judged by msPerKiloImage: milliseconds per 1000 images delivered (train + test), per source.
import { type DatasetSpec, fashionMnistStatus, loadDataset } from '../src/index.js';

const specs: DatasetSpec[] = [{ name: 'mnist' }, { name: 'rule-textures' }];
if (fashionMnistStatus().available) specs.push({ name: 'fashion-mnist' });

const result: Record<string, { images: number; ms: number; msPerKiloImage: number }> = {};
for (const spec of specs) {
  const t = performance.now();
  const { train, test } = await loadDataset(spec);
  const ms = performance.now() - t;
  const images = train.labels.length + test.labels.length;
  result[spec.name] = {
    images,
    ms: Math.round(ms),
    msPerKiloImage: Number(((ms / images) * 1000).toFixed(2)),
  };
}
console.log(JSON.stringify({ bench: 'datasets-load', ...result }));
