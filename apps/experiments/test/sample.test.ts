// `engram-ar export` + `engram-ar sample` end to end on a tiny random GPT checkpoint and a stand-in
// decoder.onnx (a per-code palette), driven through commander in-process.
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GPT, initHostWeights, parseGPTConfig } from '@engram-ar/ar-backbone';
import { GraphBuilder } from '@engram-ar/onnx';
import { generate } from '@engram-ar/sampler';
import { tf } from '@engram-ar/tensor';
import { Rng } from '@engram-ar/tensor/rng';
import { saveCheckpoint } from '@engram-ar/tensor/safetensors';
import { readCodeGrids } from '@engram-ar/vq-tokenizer';
import { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { progressLine, registerSampleCommands } from '../src/commands/sample.js';

const cfg = parseGPTConfig({
  vocab: 6,
  height: 3,
  width: 3,
  numClasses: 2,
  nLayer: 1,
  nHead: 2,
  dim: 8,
  mlpHidden: 12,
});

async function cli(...args: string[]): Promise<string> {
  const program = new Command('engram-ar').exitOverride();
  registerSampleCommands(program);
  const lines: string[] = [];
  const log = console.log;
  console.log = (...a: unknown[]) => lines.push(a.join(' '));
  try {
    await program.parseAsync(['node', 'engram-ar', ...args]);
  } finally {
    console.log = log;
  }
  return lines.join('\n');
}

describe('engram-ar export / sample', () => {
  let dir: string;
  beforeAll(async () => {
    await tf.setBackend('cpu');
    dir = await mkdtemp(join(tmpdir(), 'cli-sample-'));
    const host = initHostWeights(cfg);
    const rng = new Rng(3);
    for (const w of Object.values(host)) rng.fillNormal(w.data, w.shape.length === 1 ? 1 : 0, 0.5);
    const tensors = Object.fromEntries(
      Object.entries(new GPT(cfg, host).toHost()).map(([k, w]) => [k, { dtype: 'F32' as const, ...w }]),
    );
    await saveCheckpoint(join(dir, 'ck.safetensors'), tensors, { config: cfg, step: 3 });
    // Stand-in tokenizer export: 1-channel pixel = code/(V-1)·2 − 1 per cell.
    const g = new GraphBuilder({ name: 'decoder' });
    const codes = g.input('codes', 'int64', ['B', 3, 3]);
    const pal = Float32Array.from({ length: cfg.vocab }, (_, i) => (2 * i) / (cfg.vocab - 1) - 1);
    const px = g.unsqueeze(g.gather(g.init('palette', pal, [cfg.vocab]), codes), [1]);
    g.output('images', 'float32', ['B', 1, 3, 3], px);
    await mkdir(join(dir, 'tok'));
    await g.save(join(dir, 'tok', 'decoder.onnx'));
    await writeFile(join(dir, 'tok', 'manifest.json'), JSON.stringify({ decoder: { file: 'decoder.onnx' } }));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('exports a checkpoint, samples with CFG, writes codes, summary and a decoded PNG grid', async () => {
    const exported = await cli(
      'export',
      '--checkpoint',
      join(dir, 'ck.safetensors'),
      '--out',
      join(dir, 'm'),
    );
    expect(exported).toMatch(/model\.onnx: 1 layers/);
    const out = join(dir, 's');
    const args = [
      '--model',
      join(dir, 'm'),
      '--out',
      out,
      '--n',
      '5',
      '--cfg',
      '2',
      '--seed',
      '4',
      '--batch-size',
      '2',
    ];
    const summary = JSON.parse(await cli('sample', ...args, '--tokenizer', join(dir, 'tok'), '--cols', '5'));
    expect(summary.n).toBe(5);
    const { codes, labels, meta } = await readCodeGrids(out, 'samples');
    expect(Array.from(labels)).toEqual([0, 1, 0, 1, 0]);
    expect(meta.vocab).toBe(cfg.vocab);
    // Same codes as the library call with the same options.
    const lib = await generate({ model: join(dir, 'm'), classes: labels, n: 5, cfgScale: 2, seed: 4 });
    expect(Array.from(codes)).toEqual(Array.from(lib.codes));
    const png = await readFile(summary.png);
    expect(Array.from(png.subarray(1, 4), (c) => String.fromCharCode(c)).join('')).toBe('PNG');
    const saved = JSON.parse(await readFile(join(out, 'sample.json'), 'utf8'));
    expect(saved.options.cfg).toBe(2);
  });

  it('progress line shows images, codes/s and ETA', () => {
    const line = progressLine({
      done: 2,
      total: 4,
      codes: 18,
      totalCodes: 36,
      elapsedMs: 1000,
      codesPerSec: 18,
      etaMs: 61000,
    });
    expect(line).toBe('[############............] images 2/4  18 codes/s  ETA 1m01s');
  });
});
