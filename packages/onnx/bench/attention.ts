// Attention core of one transformer layer in ORT: com.microsoft MultiHeadAttention vs the same
// computation from plain ai.onnx ops (reshape/transpose/MatMul/Softmax with the runtime causal
// mask), on the sampler's shapes: a decode step (T = 1, batch 256 incl. CFG halves, 127 cached
// positions) and a prefill (T = 128, batch 32). Inputs are q, k, v [B,T,D] and the cache
// [B,N,P,H]; outputs the attention output and the present cache. GroupQueryAttention runs with a
// preallocated [B,N,256,H] cache updated in place (no per-step copy of the past). Reports ms per
// run (best of 5 batches) and ratios.
import { Rng } from '@engram-ar/tensor/rng';
import { createSession, GraphBuilder, type ort, tensorF32, tensorI32 } from '../src/index.js';

const N = 8;
const H = 32;
const D = N * H;
const SECONDS = 0.6;

type Kind = 'mha' | 'decomposed' | 'gqa';

function build(kind: Kind): Uint8Array {
  const b = new GraphBuilder({ name: `attention_${kind}` });
  const [q, k, v] = ['q', 'k', 'v'].map((n) => b.input(n, 'float32', ['B', 'T', D])) as [
    string,
    string,
    string,
  ];
  const pastK = b.input('past_key', 'float32', ['B', N, 'P', H]);
  const pastV = b.input('past_value', 'float32', ['B', N, 'P', H]);
  const cache = ['B', N, 'S', H];
  if (kind === 'gqa') {
    const r = b.groupQueryAttention(q, k, v, {
      numHeads: N,
      pastKey: pastK,
      pastValue: pastV,
      seqlensK: b.input('seqlens_k', 'int32', ['B']),
      totalSequenceLength: b.input('total_sequence_length', 'int32', []),
    });
    b.output('out', 'float32', ['B', 'T', D], r.output);
    b.output('present_key', 'float32', ['B', N, 'P', H], r.presentKey);
    b.output('present_value', 'float32', ['B', N, 'P', H], r.presentValue);
    return b.toBytes();
  }
  if (kind === 'mha') {
    const r = b.multiHeadAttention(q, k, v, {
      numHeads: N,
      pastKey: pastK,
      pastValue: pastV,
      unidirectional: true,
    });
    b.output('out', 'float32', ['B', 'T', D], r.output);
    b.output('present_key', 'float32', cache, r.presentKey!);
    b.output('present_value', 'float32', cache, r.presentValue!);
    return b.toBytes();
  }
  const heads = (x: string) => b.transpose(b.reshape(x, [0, 0, N, H]), [0, 2, 1, 3]); // [B,N,T,H]
  const kAll = b.concat([pastK, heads(k)], 2);
  const vAll = b.concat([pastV, heads(v)], 2);
  const scores = b.mul(b.matmul(heads(q), b.transpose(kAll, [0, 1, 3, 2])), b.scalar(1 / Math.sqrt(H)));
  const s = b.dim(kAll, 2);
  const t = b.dim(q, 1);
  const cols = b.op('Range', [b.scalar(0, 'int64'), s, b.scalar(1, 'int64')]);
  const rows = b.unsqueeze(b.op('Range', [b.sub(s, t), s, b.scalar(1, 'int64')]), [1]);
  const masked = b.where(b.op('LessOrEqual', [cols, rows]), scores, b.scalar(Number.NEGATIVE_INFINITY));
  const out = b.reshape(b.transpose(b.matmul(b.softmax(masked), vAll), [0, 2, 1, 3]), [0, 0, D]);
  b.output('out', 'float32', ['B', 'T', D], out);
  b.output('present_key', 'float32', cache, kAll);
  b.output('present_value', 'float32', cache, vAll);
  return b.toBytes();
}

/** GQA's preallocated cache length (the sampler would use the grid's token count). */
const MAX = 256;

async function msPerRun(kind: Kind, batch: number, t: number, past: number): Promise<number> {
  const rng = new Rng(`${kind}-${batch}-${t}`);
  const s = await createSession(build(kind), {
    intraOpNumThreads: 1,
    checkSymbolicDims: kind === 'mha' || kind === 'decomposed',
  });
  const x = () => tensorF32(rng.fillNormal(new Float32Array(batch * t * D)), [batch, t, D]);
  const len = kind === 'gqa' ? MAX : past;
  const cache = (dims: number[]) => tensorF32(rng.fillNormal(new Float32Array(batch * N * len * H)), dims);
  const feeds: Record<string, ort.Tensor> = {
    q: x(),
    k: x(),
    v: x(),
    past_key: cache([batch, N, len, H]),
    past_value: cache([batch, N, len, H]),
  };
  let fetches: Record<string, ort.Tensor | null> | undefined;
  if (kind === 'gqa') {
    // In place: the cache tensors are also the preallocated present outputs.
    feeds.seqlens_k = tensorI32(new Int32Array(batch).fill(past + t - 1), [batch]);
    feeds.total_sequence_length = tensorI32([past + t], []);
    fetches = { out: null, present_key: feeds.past_key!, present_value: feeds.past_value! };
  }
  const run = () => s.run(feeds, fetches);
  for (let i = 0; i < 3; i++) await run();
  let best = Number.POSITIVE_INFINITY;
  for (let rep = 0; rep < 5; rep++) {
    let runs = 0;
    let elapsed = 0;
    const t0 = process.hrtime.bigint();
    while (elapsed < SECONDS / 5) {
      await run();
      runs++;
      elapsed = Number(process.hrtime.bigint() - t0) / 1e9;
    }
    best = Math.min(best, (elapsed * 1000) / runs);
  }
  await s.release();
  return Number(best.toFixed(3));
}

const cases = [
  { name: 'decode', batch: 256, t: 1, past: 127 },
  { name: 'prefill', batch: 32, t: 128, past: 0 },
];
const results = [];
for (const c of cases) {
  const ms = {
    mha: await msPerRun('mha', c.batch, c.t, c.past),
    decomposed: await msPerRun('decomposed', c.batch, c.t, c.past),
    gqa_inplace: await msPerRun('gqa', c.batch, c.t, c.past),
  };
  const fastest = Math.min(ms.mha, ms.decomposed, ms.gqa_inplace);
  results.push({
    ...c,
    heads: N,
    headDim: H,
    ms,
    decomposed_over_mha: Number((ms.decomposed / ms.mha).toFixed(3)),
    decomposed_over_fastest: Number((ms.decomposed / fastest).toFixed(3)),
  });
}
console.log(JSON.stringify({ bench: 'ort-attention', threads: 1, gqaBuffer: MAX, results }));
