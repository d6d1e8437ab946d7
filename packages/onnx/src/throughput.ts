// ORT's own MatMul throughput on this machine: the denominator benches use to express a model's
// achieved FLOP/s as a fraction of what ORT reaches on plain matrix products of the same size.
import { Rng } from '@engram-ar/tensor/rng';
import { GraphBuilder } from './builder.js';
import { createSession, tensorF32 } from './session.js';

export interface MatmulThroughputOptions {
  /** Rows of the activation (batch · tokens); the models use 256. */
  m: number;
  k: number;
  n: number;
  threads: number;
  /** MatMuls chained in one graph when k == n, so per-run overhead is amortised as in a model. */
  chain?: number;
  /** Total timed seconds, split into 5 batches. Default 0.4. */
  seconds?: number;
  seed?: number;
  allowSpinning?: boolean;
}

/** Best-of-5 GFLOP/s of a [m,k]x[k,n] MatMul chain in ORT CPU (cores may be shared, so the peak). */
export async function matmulGflops(opts: MatmulThroughputOptions): Promise<number> {
  const { m, k, n, threads } = opts;
  const rng = new Rng(opts.seed ?? 0);
  const chain = k === n ? (opts.chain ?? 4) : 1;
  const b = new GraphBuilder({ name: `matmul_${m}x${k}x${n}` });
  let h = b.input('x', 'float32', [m, k]);
  for (let i = 0; i < chain; i++) {
    h = b.matmul(h, b.init(`w${i}`, rng.fillNormal(new Float32Array(k * n), 0, 1 / Math.sqrt(k)), [k, n]));
  }
  b.output('y', 'float32', [m, n], h);
  const flops = 2 * m * k * n * chain;
  const s = await createSession(b.toBytes(), {
    intraOpNumThreads: threads,
    ...(opts.allowSpinning === undefined ? {} : { allowSpinning: opts.allowSpinning }),
  });
  const x = tensorF32(rng.fillNormal(new Float32Array(m * k)), [m, k]);
  for (let i = 0; i < 5; i++) await s.run({ x });
  const batchSeconds = (opts.seconds ?? 0.4) / 5;
  let best = 0;
  for (let rep = 0; rep < 5; rep++) {
    let runs = 0;
    let elapsed = 0;
    const t0 = process.hrtime.bigint();
    while (elapsed < batchSeconds) {
      await s.run({ x });
      runs++;
      elapsed = Number(process.hrtime.bigint() - t0) / 1e9;
    }
    best = Math.max(best, (flops * runs) / elapsed / 1e9);
  }
  await s.release();
  return best;
}
