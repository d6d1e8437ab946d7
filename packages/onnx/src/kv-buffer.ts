// Host-owned KV cache of one attention layer, sized once for the longest sequence: keys and values
// both [B, N, M, H]. ORT reads input tensors straight from these buffers (inputs are not copied;
// outputs are), so a decode graph that takes the cache as inputs and returns only the new rows
// moves one row per step instead of the whole cache (the sampler's decode.onnx does this).
// Keys are not stored transposed: appending a row is then one contiguous H-float copy per (b, n),
// where a transposed [B, N, H, M] layout needs H strided writes (the sampler measured ~13 vs
// ~0.8 ms per step inside generate at B=256, 6 layers). A graph reading this layout forms scores
// as K·qᵀ, so the cache itself is never transposed.
import { ort } from './session.js';

export interface KvCacheBufferOptions {
  batch: number;
  heads: number;
  headDim: number;
  /** Maximum number of cached positions M. */
  maxLength: number;
}

export class KvCacheBuffer {
  readonly batch: number;
  readonly heads: number;
  readonly headDim: number;
  readonly maxLength: number;
  /** Keys: [B, N, M, H]. */
  readonly key: Float32Array;
  /** Values: [B, N, M, H]. */
  readonly value: Float32Array;
  /** Zero-copy tensors over the buffers, to feed as the graph's key / value cache inputs. */
  readonly keyTensor: ort.Tensor;
  readonly valueTensor: ort.Tensor;
  private filled = 0;

  constructor(opts: KvCacheBufferOptions) {
    this.batch = opts.batch;
    this.heads = opts.heads;
    this.headDim = opts.headDim;
    this.maxLength = opts.maxLength;
    const dims = [opts.batch, opts.heads, opts.maxLength, opts.headDim];
    this.key = new Float32Array(opts.batch * opts.heads * opts.maxLength * opts.headDim);
    this.value = new Float32Array(this.key.length);
    this.keyTensor = new ort.Tensor('float32', this.key, dims);
    this.valueTensor = new ort.Tensor('float32', this.value, dims);
  }

  /** Number of valid positions. */
  get length(): number {
    return this.filled;
  }

  /** The int64 scalar to feed as the graph's past length. */
  lengthTensor(): ort.Tensor {
    return new ort.Tensor('int64', BigInt64Array.of(BigInt(this.filled)), []);
  }

  /** Appends t new positions from newKey/newValue [B, N, t, H]. */
  append(newKey: Float32Array, newValue: Float32Array, t: number): void {
    const { batch: b, heads: n, headDim: h, maxLength: m } = this;
    const size = b * n * t * h;
    if (newKey.length !== size || newValue.length !== size) {
      throw new Error(
        `KvCacheBuffer.append: expected ${size} elements ([${b},${n},${t},${h}]), got key ${newKey.length}, value ${newValue.length}`,
      );
    }
    if (this.filled + t > m)
      throw new Error(`KvCacheBuffer.append: ${this.filled} + ${t} positions exceed maxLength ${m}`);
    // A plain loop, not subarray + set: for decode rows (t·H = 32 floats) the two view allocations
    // per (b, n) cost more than the copy (2.5× slower in a microbenchmark at B=256, N=8, H=32).
    const { key, value } = this;
    const run = t * h;
    for (let bn = 0; bn < b * n; bn++) {
      const src = bn * run;
      const dst = (bn * m + this.filled) * h;
      for (let i = 0; i < run; i++) {
        key[dst + i] = newKey[src + i]!;
        value[dst + i] = newValue[src + i]!;
      }
    }
    this.filled += t;
  }
}
