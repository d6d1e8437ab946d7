// `engram-ar ar solve|train` end to end on tiny synthetic code grids, driven through commander in-process:
// the solver's budget, the run directory, held-out bits/code, and resume from the run's checkpoint.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Rng } from '@engram-ar/tensor/rng';
import { writeCodeGrids } from '@engram-ar/vq-tokenizer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerArCommands } from '../src/commands/ar.js';
import { runCommand } from './run-command.js';

let dir = '';
const V = 8;

/** Grids where each code is a per-class function of its left neighbour (so there is something to learn). */
function split(n: number, seed: number): { codes: Int32Array; labels: Int32Array } {
  const rng = new Rng(seed);
  const rule = new Rng('rule');
  const f = new Int32Array(2 * (V + 1)).map(() => rule.int(V));
  const codes = new Int32Array(n * 16);
  const labels = new Int32Array(n).map(() => rng.int(2));
  for (let i = 0; i < n; i++) {
    for (let p = 0; p < 16; p++)
      codes[i * 16 + p] = f[labels[i]! * (V + 1) + (p % 4 ? codes[i * 16 + p - 1]! : V)]!;
  }
  return { codes, labels };
}

const cli = (...args: string[]) => runCommand(registerArCommands, args);

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ar-cli-'));
  await writeCodeGrids(
    join(dir, 'codes'),
    { train: split(400, 1), test: split(64, 2) },
    { vocab: V, numClasses: 2, height: 4, width: 4, dataset: 'synthetic', classNames: ['a', 'b'] },
  );
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('engram-ar ar', () => {
  it('solve hits the budget and ρ', async () => {
    const out = JSON.parse(
      await cli(
        'ar',
        'solve',
        '--codes',
        join(dir, 'codes'),
        '--rho',
        '0.5',
        '--total-params',
        '60000',
        '--d-head',
        '8',
      ),
    );
    expect(Math.abs(out.params.total - 60000) / 60000).toBeLessThan(0.02);
    expect(Math.abs(out.params.rho - 0.5) / 0.5).toBeLessThan(0.02);
  });

  it('train writes the run directory, learns, and resumes', async () => {
    const out = join(dir, 'run');
    const common = ['--codes', join(dir, 'codes'), '--out', out, '--total-params', '60000', '--d-head', '8'];
    const flags = ['--batch-size', '16', '--warmup', '5', '--lr', '0.003', '--backend', 'wasm'];
    const r1 = JSON.parse(await cli('ar', 'train', ...common, ...flags, '--steps', '40'));
    expect(r1.step).toBe(40);
    expect(r1.bitsPerCode).toBeLessThan(Math.log2(V) - 0.5);
    const config = JSON.parse(await readFile(join(out, 'config.json'), 'utf8'));
    expect(config.engram.layers).toEqual([Math.min(1, config.nLayer - 1)]);
    const r2 = JSON.parse(await cli('ar', 'train', ...common, ...flags, '--steps', '50'));
    expect(r2.step).toBe(50);
    const summary = JSON.parse(await readFile(join(out, 'train.json'), 'utf8'));
    expect(summary.evals.map((e: { step: number }) => e.step)).toEqual([40, 50]);
    expect(summary.params.rho).toBeCloseTo(0.5, 1);
  }, 60_000);
});
