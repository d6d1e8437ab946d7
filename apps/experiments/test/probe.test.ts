// `engram-ar probe …` end to end on the probes' hand-set calibration models, driven through
// commander in-process: the records it writes must equal the library's on the same inputs.
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { computeStats, saveReference } from '@engram-ar/metrics';
import { GraphBuilder } from '@engram-ar/onnx';
import { donorProbe, randomGrids, writeControlModel } from '@engram-ar/probes';
import { writeSafetensors } from '@engram-ar/tensor/safetensors';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerProbeCommands } from '../src/commands/probe.js';
import { runCommand } from './run-command.js';

const cli = (...args: string[]) => runCommand(registerProbeCommands, args);

describe('engram-ar probe', () => {
  let dir: string;
  const test = randomGrids(12, 16, 6, 2, 1);
  const train = randomGrids(20, 16, 6, 2, 2);
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cli-probe-'));
    await writeControlModel(join(dir, 'learned'), { kind: 'retrieval' });
    await writeControlModel(join(dir, 'frozen'), { kind: 'ignores-table' });
    await mkdir(join(dir, 'codes'));
    for (const [name, s] of [
      ['test', test],
      ['train', train],
    ] as const)
      await writeSafetensors(join(dir, 'codes', `${name}.safetensors`), {
        codes: { dtype: 'I32', shape: [s.labels.length, 4, 4], data: s.codes },
        labels: { dtype: 'I32', shape: [s.labels.length], data: s.labels },
      });
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });
  const common = () => ['--model', join(dir, 'learned'), '--codes', join(dir, 'codes'), '--bootstrap', '50'];
  const read = async (f: string) => JSON.parse(await readFile(join(dir, f), 'utf8'));

  it('donor: same numbers as donorProbe on the same grids, pool and seed', async () => {
    const donor = [
      'probe',
      'donor',
      ...common(),
      '--pool-split',
      'train',
      '--n',
      '10',
      '--kinds',
      'matched,random',
    ];
    await cli(...donor); // prints the record (no --out)
    await cli(...donor, '--controls', 'collapsed', '--permutations', '99', '--out', join(dir, 'donor.json'));
    const rec = await read('donor.json');
    const lib = await donorProbe({
      model: join(dir, 'learned'),
      grids: test.codes.subarray(0, 10 * 16),
      labels: test.labels.subarray(0, 10),
      pool: train,
      kinds: ['matched', 'random'],
      controls: ['collapsed'],
      bootstrapReplicates: 50,
      permutations: 99,
    });
    expect(rec.conditions.map((c: { kl: unknown }) => c.kl)).toEqual(lib.conditions.map((c) => c.kl));
    expect(rec.comparisons[0].pValue).toBe(lib.comparisons[0]!.pValue);
  });

  it('gate-clamp and frozen-table write their records', async () => {
    await cli(
      'probe',
      'gate-clamp',
      ...common(),
      '--clamps',
      '0,0.5',
      '--permutations',
      '99',
      '--out',
      join(dir, 'g.json'),
    );
    const g = await read('g.json');
    expect(g.settings.map((s: { name: string }) => s.name)).toEqual(['learned', '0', '0.5']);
    expect(g.settings[1].bitsPerCode.mean).toBeCloseTo(Math.log2(6), 5); // uniform with the path off
    await cli(
      'probe',
      'frozen-table',
      ...common(),
      '--frozen',
      join(dir, 'frozen'),
      '--permutations',
      '99',
      '--out',
      join(dir, 'f.json'),
    );
    const f = await read('f.json');
    expect(f.runs[0].learned.bitsPerCode.mean).toBeCloseTo(g.settings[0].bitsPerCode.mean, 6);
  });

  it('gate-clamp --samples scores generated samples through decoder + extractor + reference', async () => {
    // Stand-ins: decoder = grey level per code ([B,1,4,4]); extractor features = the 16 pixels, logits = (mean, 0.01).
    const dec = new GraphBuilder({ name: 'decoder' });
    const c = dec.op('Cast', [dec.input('codes', 'int64', ['batch', 4, 4])], { to: 1 });
    const img = dec.op('Sub', [dec.op('Mul', [c, dec.scalar(2 / 5)]), dec.scalar(1)]);
    dec.output('images', 'float32', ['batch', 1, 4, 4], dec.unsqueeze(img, [1]));
    await dec.save(join(dir, 'decoder.onnx'));
    const ex = new GraphBuilder({ name: 'extractor' });
    const feats = ex.reshape(ex.input('x', 'float32', ['batch', 1, 4, 4]), [0, 16]);
    const w = new Float32Array(32);
    for (let i = 0; i < 16; i++) w[i * 2] = 1 / 16;
    ex.output('features', 'float32', ['batch', 16], feats);
    const logits = ex.op('Add', [
      ex.matmul(feats, ex.init('w', w, [16, 2])),
      ex.init('b', Float32Array.of(0, 0.01), [2]),
    ]);
    ex.output('logits', 'float32', ['batch', 2], logits);
    await ex.save(join(dir, 'extractor.onnx'));
    const spec = {
      kind: 'classifier',
      input: 'x',
      layout: 'NCHW',
      height: 4,
      width: 4,
      channels: 1,
      featureOutput: 'features',
      logitsOutput: 'logits',
    };
    await writeFile(join(dir, 'extractor.json'), JSON.stringify(spec));
    const pixels = Float32Array.from(test.codes, (x) => (2 * x) / 5 - 1);
    await saveReference(join(dir, 'ref.safetensors'), {
      stats: await computeStats(pixels, 16),
      meta: { label: 'classifier-FID' },
    });
    const files = ['--decoder', join(dir, 'decoder.onnx'), '--extractor', join(dir, 'extractor.onnx')];
    await cli(
      'probe',
      'gate-clamp',
      ...common(),
      '--clamps',
      '0',
      '--permutations',
      '99',
      '--samples',
      '8',
      ...files,
      '--ref',
      join(dir, 'ref.safetensors'),
      '--out',
      join(dir, 'gs.json'),
    );
    const g = await read('gs.json');
    for (const s of g.settings) {
      expect(s.samples.n).toBe(8);
      expect(s.samples.metrics.count.value).toBe(8);
      expect(s.samples.metrics['classifier-FID'].value).toBeGreaterThan(0);
      expect(s.samples.metrics.classConsistency.value).toBeGreaterThanOrEqual(0);
    }
    await expect(cli('probe', 'gate-clamp', ...common(), '--samples', '4', ...files)).rejects.toThrow(
      /--ref/,
    );
  });

  it('rejects unknown donor kinds', async () => {
    await expect(cli('probe', 'donor', ...common(), '--kinds', 'nearest')).rejects.toThrow(/nearest/);
  });
});
