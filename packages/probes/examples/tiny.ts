// A self-contained run of E2 + E3 on a hand-built tiny model whose logits depend on the Engram rows
// alone (the probes' positive control, see src/control-models.ts). Run: npx tsx examples/tiny.ts
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomGrids, writeControlModel } from '../src/control-models.js';
import { donorProbe, gateClampProbe } from '../src/index.js';

const dir = await mkdtemp(join(tmpdir(), 'probes-example-'));
await writeControlModel(dir, { kind: 'retrieval' }); // 4×4 grids, vocab 6, 2 classes
const { codes, labels } = randomGrids(40, 16, 6, 2, 3);

const gate = await gateClampProbe({ model: dir, grids: codes, labels, clamps: [0, 0.1, 1] });
for (const s of gate.settings) console.log(`g=${s.name}: ${s.bitsPerCode.mean?.toFixed(4)} bits/code`);

const donor = await donorProbe({ model: dir, grids: codes, labels, seed: 4 });
for (const c of donor.conditions)
  console.log(`${c.name}: KL ${c.kl.mean?.toFixed(4)} [${c.kl.low?.toFixed(4)}, ${c.kl.high?.toFixed(4)}]`);
const mr = donor.comparisons.find((c) => c.a === 'matched' && c.b === 'random')!;
console.log(`matched vs random: p = ${mr.pValue}, d_z = ${mr.cohensD?.toFixed(3)}`);
await rm(dir, { recursive: true, force: true });
