// The two dense products FID needs (feature Gram matrices and Lᵀ Σ L) behind one interface, with
// a pure-TS engine and an ONNX Runtime engine. ORT's MatMul runs in float64 on optimised BLAS-like
// kernels and is ~100× faster than scalar JS at d = 2048; the TS engine needs nothing but itself.
//
// The repo's GraphBuilder/Session speak float32 at the graph boundary, so the ORT engine passes
// every float64 matrix as an exact float32 pair x = hi + lo (hi = fround(x), lo = fround(x - hi),
// 48 significant bits, relative error ≤ 2⁻⁴⁸), sums the pair in float64 inside the graph, and
// returns the float64 product the same way.
import { createSession, GraphBuilder, type Session } from '@engram-ar/onnx';
import { dotRows } from './linalg.js';

export interface DotRowsOptions {
  /** Only entries j ≤ i are needed (the engine may still fill the rest). */
  lower?: boolean;
  /** Per row of x, the first k that can be non-zero (triangular factors); a hint only. */
  start?: Int32Array;
}

export interface MatmulEngine {
  readonly name: 'ts' | 'onnx';
  /** out[i, j] = Σ_k x[i, k] · y[j, k]: x [m, k], y [n, k] → out [m, n], all row-major float64. */
  dotRows(
    x: Float64Array,
    m: number,
    y: Float64Array,
    n: number,
    k: number,
    opts?: DotRowsOptions,
  ): Promise<Float64Array>;
}

export const tsEngine: MatmulEngine = {
  name: 'ts',
  dotRows: async (x, m, y, n, k, opts = {}) => dotRows(x, m, y, n, k, opts),
};

/** Splits float64 values into float32 pairs with hi + lo = x to 48 bits. */
export function splitF32(x: Float64Array): { hi: Float32Array; lo: Float32Array } {
  const hi = new Float32Array(x.length);
  const lo = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const h = Math.fround(x[i]!);
    hi[i] = h;
    lo[i] = x[i]! - h;
  }
  return { hi, lo };
}

const DOUBLE = 11; // onnx.TensorProto.DataType.DOUBLE
const FLOAT = 1;

function dotRowsGraph(): Uint8Array {
  const g = new GraphBuilder({ name: 'metrics_dot_rows' });
  const join = (name: string, dims: string[]): string => {
    const hi = g.op('Cast', [g.input(`${name}_hi`, 'float32', dims)], { to: DOUBLE });
    const lo = g.op('Cast', [g.input(`${name}_lo`, 'float32', dims)], { to: DOUBLE });
    return g.op('Add', [hi, lo]);
  };
  const x = join('x', ['m', 'k']);
  const y = join('y', ['n', 'k']);
  const out = g.op('MatMul', [x, g.op('Transpose', [y], { perm: [1, 0] })]);
  const outHi = g.op('Cast', [out], { to: FLOAT });
  const outLo = g.op('Cast', [g.op('Sub', [out, g.op('Cast', [outHi], { to: DOUBLE })])], { to: FLOAT });
  g.output('out_hi', 'float32', ['m', 'n'], outHi);
  g.output('out_lo', 'float32', ['m', 'n'], outLo);
  return g.toBytes();
}

class OnnxEngine implements MatmulEngine {
  readonly name = 'onnx' as const;
  constructor(private readonly session: Session) {}

  async dotRows(x: Float64Array, m: number, y: Float64Array, n: number, k: number): Promise<Float64Array> {
    if (x.length !== m * k) throw new Error(`dotRows: x has ${x.length} entries, expected m·k = ${m * k}`);
    if (y.length !== n * k) throw new Error(`dotRows: y has ${y.length} entries, expected n·k = ${n * k}`);
    const xs = splitF32(x);
    const ys = x === y ? xs : splitF32(y);
    const r = await this.session.run({
      x_hi: { type: 'float32', data: xs.hi, dims: [m, k] },
      x_lo: { type: 'float32', data: xs.lo, dims: [m, k] },
      y_hi: { type: 'float32', data: ys.hi, dims: [n, k] },
      y_lo: { type: 'float32', data: ys.lo, dims: [n, k] },
    });
    const hi = r.out_hi!.data as Float32Array;
    const lo = r.out_lo!.data as Float32Array;
    const out = new Float64Array(m * n);
    for (let i = 0; i < out.length; i++) out[i] = hi[i]! + lo[i]!;
    return out;
  }
}

let shared: Promise<MatmulEngine> | undefined;

/**
 * The ONNX Runtime engine (one session per process, created on first use). Its products are long
 * single ops, so the thread pool does not spin between them (spinning threads collapse on a
 * shared, oversubscribed machine).
 */
export function onnxEngine(): Promise<MatmulEngine> {
  shared ??= createSession(dotRowsGraph(), { allowSpinning: false }).then((s) => new OnnxEngine(s));
  return shared;
}

export type EngineName = 'onnx' | 'ts';

export async function getEngine(name: EngineName | MatmulEngine = 'onnx'): Promise<MatmulEngine> {
  if (typeof name !== 'string') return name;
  return name === 'ts' ? tsEngine : onnxEngine();
}
