// `engram-ar metrics ref` + `metrics fid` end to end on MNIST, driven through commander in-process:
// a briefly trained feature-net, reference statistics, then real test digits scored as "samples"
// from a .safetensors file and from a class-per-folder PNG directory.
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodePng, loadDataset } from '@engram-ar/datasets';
import { loadReference } from '@engram-ar/metrics';
import { writeSafetensors } from '@engram-ar/tensor/safetensors';
import { Command } from 'commander';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { registerMetricsCommands } from '../src/commands/metrics.js';

async function cli(...args: string[]): Promise<Record<string, unknown>> {
  const logs: string[] = [];
  const log = vi.spyOn(console, 'log').mockImplementation((m: string) => void logs.push(m));
  vi.spyOn(console, 'error').mockImplementation(() => {});
  const program = new Command('engram-ar').exitOverride();
  registerMetricsCommands(program);
  await program.parseAsync(['node', 'engram-ar', ...args]);
  log.mockRestore();
  return JSON.parse(logs.at(-1)!);
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('engram-ar metrics', () => {
  it('ref trains a feature-net and saves statistics; fid scores real digits as samples', {
    timeout: 90_000,
  }, async () => {
    const dir = await mkdtemp(join(tmpdir(), 'engram-metrics-'));
    const refPath = join(dir, 'ref.safetensors');
    const ref = await cli(
      'metrics',
      'ref',
      '--dataset',
      'mnist',
      '--out',
      refPath,
      '--steps',
      '60',
      '--keep',
      '600',
    );
    expect(ref).toMatchObject({
      label: 'classifier-FID',
      count: 8000,
      dim: 128,
      dataset: 'mnist',
      split: 'train',
    });
    const saved = await loadReference(refPath);
    expect(saved.meta.extractor).toBe(join(dir, 'ref.feature-net.onnx'));
    expect(saved.features!.length).toBe(600 * 128);
    expect(Number(saved.meta.featureNetTestAccuracy)).toBeGreaterThan(0.5);

    const { test } = await loadDataset({ name: 'mnist', seed: 0 });
    const n = 300;
    const px = 28 * 28;
    const samplesPath = join(dir, 'samples.safetensors');
    await writeSafetensors(samplesPath, {
      images: { dtype: 'U8', shape: [n, 28, 28, 1], data: test.images.slice(0, n * px) },
      labels: { dtype: 'I32', shape: [n], data: test.labels.slice(0, n) },
    });
    const reportPath = join(dir, 'report.json');
    const r = await cli(
      'metrics',
      'fid',
      '--samples',
      samplesPath,
      '--ref',
      refPath,
      '--bootstrap',
      '5',
      '--out',
      reportPath,
    );
    expect(r).toMatchObject({ label: 'classifier-FID', count: n });
    expect(JSON.parse(await readFile(reportPath, 'utf8'))).toEqual(r);
    expect(r.fid as number).toBeGreaterThan(0);
    expect(r.classConsistency as number).toBeGreaterThan(0.5); // real digits, chance is 0.1
    expect(r.precision as number).toBeGreaterThan(0.5);
    expect((r.fidCI as { replicates: number }).replicates).toBe(5);

    // the same images as DIR/<class>/*.png: same features, same FID; labels from folder names
    for (let i = 0; i < n; i++) {
      const cls = join(dir, 'png', String(test.labels[i]));
      await mkdir(cls, { recursive: true });
      const png = await encodePng({
        data: test.images.slice(i * px, (i + 1) * px),
        height: 28,
        width: 28,
        channels: 1,
      });
      await writeFile(join(cls, `${String(i).padStart(4, '0')}.png`), png);
    }
    const f = await cli(
      'metrics',
      'fid',
      '--samples',
      join(dir, 'png'),
      '--ref',
      refPath,
      '--bootstrap',
      '0',
    );
    // folder order is class by class, so only order-free figures must agree
    expect(f.fid as number).toBeCloseTo(r.fid as number, 6);
    expect(f.classConsistency).toBeCloseTo(r.classConsistency as number, 12);
    expect(f.fidCI).toBeUndefined();
  });
});
