// Shared by the sampler benches: a random-weight model with the `small` preset's shapes written to a
// temp dir, and its forward FLOPs per generated position.
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ModelManifest } from '../../src/manifest.js';
import { writeStepModel } from '../../src/step-graph.js';
import { type TinySpec, tinyModel } from '../../test/reference.js';

export const BENCH_SPEC: TinySpec = {
  vocab: 512,
  numClasses: 10,
  height: 8,
  width: 8,
  nLayer: 6,
  nHead: 8,
  dim: 256,
  mlpHidden: 768,
  engram: { layers: [1, 3], heads: 4, tableRows: 1000, dHead: 32 },
  seed: 0,
  std: 0.05,
};

export async function writeBenchModel(
  spec: TinySpec,
  attention: 'plain' | 'contrib' = 'plain',
): Promise<{ dir: string; manifest: ModelManifest }> {
  const dir = await mkdtemp(join(tmpdir(), 'sampler-bench-'));
  const manifest = await writeStepModel(dir, { ...tinyModel(spec), attention });
  return { dir, manifest };
}

/**
 * Multiply-add FLOPs (2 per MAC) of one step-graph row at sequence position p (p keys before it):
 * projections, MLP, Engram projections, attention scores/values, head.
 */
export function flopsAt(m: ModelManifest, mlpHidden: number, p: number): number {
  const D = m.dim;
  const perLayer = 2 * D * 3 * D + 2 * D * D + 2 * D * 2 * mlpHidden + 2 * mlpHidden * D + 4 * (p + 1) * D;
  const E = m.engram ? m.engram.rowsPerLayer * m.engram.dHead : 0;
  const engram = (m.engram?.layers.length ?? 0) * 2 * E * 2 * D;
  return m.nLayer * perLayer + engram + 2 * D * m.vocab;
}

/** Mean FLOPs per row over a whole grid. */
export function flopsPerCode(m: ModelManifest, mlpHidden: number): number {
  const N = m.grid.height * m.grid.width;
  let s = 0;
  for (let p = 0; p < N; p++) s += flopsAt(m, mlpHidden, p);
  return s / N;
}
