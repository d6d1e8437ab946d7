// Cost of moving a tensor into and out of an ORT run from JS: a 64 MiB input that the graph
// barely reads (Slice of one element) vs a 64 MiB output (Neg of the input). Inputs are wrapped
// without copying; outputs are allocated and copied into new JS buffers on every run — why step
// graphs should return only a KV cache's new rows, not the whole present cache. A preallocated
// output (Session.run fetches) is measured too, and the same Neg reduced to one number in-graph
// (its compute without the big output).
import { createSession, GraphBuilder, tensorF32 } from '../src/index.js';

const ELEMENTS = 1 << 24;
const RUNS = 20;

async function msPerRun(kind: 'input' | 'output' | 'preallocated' | 'reduced', n: number): Promise<number> {
  const b = new GraphBuilder({ name: `io_${kind}` });
  const x = b.input('x', 'float32', ['N']);
  if (kind === 'input') b.output('y', 'float32', [1], b.slice(x, [0], [1]));
  else if (kind === 'reduced') b.output('y', 'float32', [1], b.op('ReduceSum', [b.neg(x)], { keepdims: 1 }));
  else b.output('y', 'float32', ['N'], b.neg(x));
  const s = await createSession(b.toBytes(), { intraOpNumThreads: 1 });
  const feeds = { x: tensorF32(new Float32Array(n), [n]) };
  const fetches = kind === 'preallocated' ? { y: tensorF32(new Float32Array(n), [n]) } : undefined;
  for (let i = 0; i < 3; i++) await s.run(feeds, fetches);
  let best = Number.POSITIVE_INFINITY;
  for (let rep = 0; rep < 3; rep++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < RUNS; i++) await s.run(feeds, fetches);
    best = Math.min(best, Number(process.hrtime.bigint() - t0) / 1e6 / RUNS);
  }
  await s.release();
  return Number(best.toFixed(3));
}

const mib = (ELEMENTS * 4) / 2 ** 20;
const input = await msPerRun('input', ELEMENTS);
const output = await msPerRun('output', ELEMENTS);
const preallocated = await msPerRun('preallocated', ELEMENTS);
const reduced = await msPerRun('reduced', ELEMENTS);
const tinyOutput = await msPerRun('output', 1024);
console.log(
  JSON.stringify({
    bench: 'ort-io',
    mib,
    input_ms: input,
    output_ms: output,
    preallocated_output_ms: preallocated,
    same_neg_reduced_ms: reduced,
    tiny_output_ms: tinyOutput,
    output_gib_per_s: Number((mib / 1024 / (output / 1000)).toFixed(2)),
    output_over_input: Number((output / input).toFixed(1)),
  }),
);
