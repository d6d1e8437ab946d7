// The sampler must run where TensorFlow.js is absent: walk the static import graph from the public
// entry through workspace packages and fail on any '@tensorflow/*' import.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import { importGraph } from '../../../scripts/import-graph.js';

const here = dirname(fileURLToPath(import.meta.url));

it('no module reachable from @engram-ar/sampler imports TensorFlow.js', () => {
  const { files, external } = importGraph(join(here, '../src/index.ts'));
  const offenders = external.filter((i) => i.spec.startsWith('@tensorflow/'));
  expect(offenders.map((i) => `${i.file} → ${i.spec}`)).toEqual([]);
  // The walk really crossed into the dependencies it must use.
  expect([...files].some((f) => f.includes('/engram/src/hash.ts'))).toBe(true);
  expect([...files].some((f) => f.includes('/onnx/src/'))).toBe(true);
});
