// Host-side KV cache for one attention layer, sized once for the longest sequence. ORT reads
// input tensors straight from these buffers (no copy), so a decode step only moves the new rows
// (GraphBuilder.cachedAttention returns them) instead of the whole cache.
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
  /** Keys, transposed: [B, N, H, M]. */
  readonly key: Float32Array;
  /** Values: [B, N, M, H]. */
  readonly value: Float32Array;
  /** Zero-copy tensors over the buffers, to feed as keyCache / valueCache. */
  readonly keyTensor: ort.Tensor;
  readonly valueTensor: ort.Tensor;
  private filled = 0;

  constructor(opts: KvCacheBufferOptions) {
    this.batch = opts.batch;
    this.heads = opts.heads;
    this.headDim = opts.headDim;
    this.maxLength = opts.maxLength;
    const size = opts.batch * opts.heads * opts.headDim * opts.maxLength;
    this.key = new Float32Array(size);
    this.value = new Float32Array(size);
    this.keyTensor = new ort.Tensor('float32', this.key, [
      opts.batch,
      opts.heads,
      opts.headDim,
      opts.maxLength,
    ]);
    this.valueTensor = new ort.Tensor('float32', this.value, [
      opts.batch,
      opts.heads,
      opts.maxLength,
      opts.headDim,
    ]);
  }

  /** Number of valid positions. */
  get length(): number {
    return this.filled;
  }

  /** The int64 scalar to feed as pastLength. */
  lengthTensor(): ort.Tensor {
    return new ort.Tensor('int64', BigInt64Array.of(BigInt(this.filled)), []);
  }

  /** Appends t new positions from newKey/newValue [B, N, t, H]. */
  append(newKey: Float32Array, newValue: Float32Array, t: number): void {
    const { batch: b, heads: n, headDim: h, maxLength: m } = this;
    if (newKey.length !== b * n * t * h || newValue.length !== b * n * t * h) {
      throw new Error(
        `KvCacheBuffer.append: expected ${b * n * t * h} elements ([${b},${n},${t},${h}]), got key ${newKey.length}, value ${newValue.length}`,
      );
    }
    if (this.filled + t > m)
      throw new Error(`KvCacheBuffer.append: ${this.filled} + ${t} positions exceed maxLength ${m}`);
    for (let bn = 0; bn < b * n; bn++) {
      const src = bn * t * h;
      this.value.set(newValue.subarray(src, src + t * h), (bn * m + this.filled) * h);
      const kBase = bn * h * m + this.filled;
      for (let j = 0; j < t; j++) {
        for (let c = 0; c < h; c++) this.key[kBase + c * m + j] = newKey[src + j * h + c]!;
      }
    }
    this.filled += t;
  }

  /** Forgets every position (the buffers are reused; stale slots are masked by the length). */
  reset(): void {
    this.filled = 0;
  }
}
