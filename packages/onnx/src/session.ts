// onnxruntime-node session wrapper: CPU execution provider, feeds validated against the model's
// declared inputs before ORT sees them, so a mismatch names the input and what was expected
// (ORT's own messages often only say "invalid dimensions" or crash on a wrong dtype).
import * as ort from 'onnxruntime-node';

export { ort };

export type TensorType = 'float32' | 'int64' | 'int32' | 'bool' | 'uint8' | 'int8' | 'float16';

/** A feed given as plain data; converted to ort.Tensor by `run`. */
export interface FeedValue {
  type: TensorType;
  data: Float32Array | BigInt64Array | Int32Array | Uint8Array | Int8Array | Uint16Array;
  dims: readonly number[];
}

export interface SessionOptions {
  /** Threads inside one op (ORT default: one per physical core). */
  intraOpNumThreads?: number;
  interOpNumThreads?: number;
  graphOptimizationLevel?: 'disabled' | 'basic' | 'extended' | 'all';
  executionMode?: 'sequential' | 'parallel';
  /** Save ORT's optimised graph here (to inspect which fusions ORT applied). */
  optimizedModelFilePath?: string;
  /** Require a symbolic dim (e.g. 'batch') to have one size across all feeds of a run. Default true. */
  checkSymbolicDims?: boolean;
  logSeverityLevel?: 0 | 1 | 2 | 3 | 4;
  /**
   * Let idle intra-op threads spin for work (ORT default: true). Spinning threads compete with
   * other processes for cores; on a shared machine turning it off can help multi-thread runs.
   */
  allowSpinning?: boolean;
}

export interface InputSpec {
  name: string;
  type: TensorType | string;
  /** Static sizes as numbers, symbolic dims as names, unknown dims as null. */
  dims: (number | string | null)[] | null;
}

export class Session {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  readonly inputs: readonly InputSpec[];
  readonly outputs: readonly InputSpec[];
  private readonly checkSymbolic: boolean;

  constructor(
    readonly raw: ort.InferenceSession,
    opts: SessionOptions = {},
  ) {
    this.inputNames = raw.inputNames;
    this.outputNames = raw.outputNames;
    this.inputs = raw.inputMetadata.map(toSpec);
    this.outputs = raw.outputMetadata.map(toSpec);
    this.checkSymbolic = opts.checkSymbolicDims ?? true;
  }

  /**
   * Runs the model. Throws before calling ORT if a feed is missing or unknown, or its dtype,
   * rank, static dims or element count do not match. `fetches` limits which outputs are computed:
   * names, or a map from name to a preallocated ort.Tensor ORT writes into (null = allocate). A
   * tensor fed as an input and preallocated as an output shares its buffer (in-place KV caches).
   */
  async run(
    feeds: Record<string, ort.Tensor | FeedValue>,
    fetches?: readonly string[] | Record<string, ort.Tensor | null>,
  ): Promise<Record<string, ort.Tensor>> {
    const tensors = this.validate(feeds);
    if (fetches) {
      const names: readonly string[] = isNameList(fetches) ? fetches : Object.keys(fetches);
      const unknown = names.filter((f) => !this.outputNames.includes(f));
      if (unknown.length) {
        throw new Error(
          `unknown fetch ${unknown.map(q).join(', ')}; model outputs: ${this.outputNames.join(', ')}`,
        );
      }
      return this.raw.run(tensors, fetches as ort.InferenceSession.FetchesType);
    }
    return this.raw.run(tensors);
  }

  /** Checks feeds against the model inputs and converts them to ort.Tensor. */
  validate(feeds: Record<string, ort.Tensor | FeedValue>): Record<string, ort.Tensor> {
    const given = Object.keys(feeds);
    const missing = this.inputNames.filter((n) => !(n in feeds));
    const unknown = given.filter((n) => !this.inputNames.includes(n));
    if (missing.length || unknown.length) {
      const parts: string[] = [];
      if (missing.length) parts.push(`missing input ${missing.map(q).join(', ')}`);
      if (unknown.length) parts.push(`unknown input ${unknown.map(q).join(', ')}`);
      throw new Error(`${parts.join('; ')} (model inputs: ${this.inputNames.join(', ')})`);
    }
    const bound = new Map<string, { size: number; input: string }>();
    const out: Record<string, ort.Tensor> = {};
    for (const spec of this.inputs) {
      const feed = feeds[spec.name]!;
      const dims = [...feed.dims];
      const type = feed.type;
      if (type !== spec.type) {
        throw new Error(`input '${spec.name}': expected dtype ${spec.type}, got ${type} [${dims.join(',')}]`);
      }
      const count = dims.reduce((a, b) => a * b, 1);
      if (feed.data.length !== count) {
        throw new Error(
          `input '${spec.name}': dims [${dims.join(',')}] need ${count} elements, data has ${feed.data.length}`,
        );
      }
      if (spec.dims) {
        const expected = `[${spec.dims.map((d) => d ?? '?').join(',')}]`;
        if (dims.length !== spec.dims.length) {
          throw new Error(
            `input '${spec.name}': expected rank ${spec.dims.length} ${expected}, got rank ${dims.length} [${dims.join(',')}]`,
          );
        }
        spec.dims.forEach((d, axis) => {
          if (typeof d === 'number' && d !== dims[axis]) {
            throw new Error(
              `input '${spec.name}': expected dim ${axis} = ${d} ${expected}, got ${dims[axis]} [${dims.join(',')}]`,
            );
          }
          if (typeof d === 'string' && this.checkSymbolic) {
            const prev = bound.get(d);
            if (prev && prev.size !== dims[axis]) {
              throw new Error(
                `input '${spec.name}': symbolic dim '${d}' (axis ${axis}) is ${dims[axis]}, but input '${prev.input}' set it to ${prev.size}`,
              );
            }
            if (!prev) bound.set(d, { size: dims[axis]!, input: spec.name });
          }
        });
      }
      out[spec.name] = feed instanceof ort.Tensor ? feed : new ort.Tensor(feed.type, feed.data, dims);
    }
    return out;
  }

  async release(): Promise<void> {
    await this.raw.release();
  }
}

/** Loads a model from a file path (external data resolved beside it) or from bytes. */
export async function createSession(
  modelPathOrBytes: string | Uint8Array,
  opts: SessionOptions = {},
): Promise<Session> {
  const ortOpts: ort.InferenceSession.SessionOptions = {
    executionProviders: ['cpu'],
    graphOptimizationLevel: opts.graphOptimizationLevel ?? 'all',
    executionMode: opts.executionMode ?? 'sequential',
    logSeverityLevel: opts.logSeverityLevel ?? 3,
  };
  if (opts.intraOpNumThreads !== undefined) ortOpts.intraOpNumThreads = opts.intraOpNumThreads;
  if (opts.interOpNumThreads !== undefined) ortOpts.interOpNumThreads = opts.interOpNumThreads;
  if (opts.allowSpinning === false) ortOpts.extra = { session: { intra_op: { allow_spinning: '0' } } };
  if (opts.optimizedModelFilePath !== undefined) ortOpts.optimizedModelFilePath = opts.optimizedModelFilePath;
  const raw =
    typeof modelPathOrBytes === 'string'
      ? await ort.InferenceSession.create(modelPathOrBytes, ortOpts)
      : await ort.InferenceSession.create(modelPathOrBytes, ortOpts);
  return new Session(raw, opts);
}

/** float32 tensor; `dims` must multiply to data.length. */
export function tensorF32(data: Float32Array | readonly number[], dims: readonly number[]): ort.Tensor {
  const arr = data instanceof Float32Array ? data : Float32Array.from(data);
  return new ort.Tensor('float32', arr, checkCount(arr.length, dims));
}

/** int64 tensor from int64, int32 or plain numbers (converted to BigInt64Array). */
export function tensorI64(
  data: BigInt64Array | Int32Array | readonly number[] | readonly bigint[],
  dims: readonly number[],
): ort.Tensor {
  let arr: BigInt64Array;
  if (data instanceof BigInt64Array) arr = data;
  else {
    arr = new BigInt64Array(data.length);
    for (let i = 0; i < data.length; i++) {
      const v = data[i]!;
      if (typeof v === 'number' && !Number.isSafeInteger(v))
        throw new Error(`tensorI64: element ${i} is ${v}`);
      arr[i] = BigInt(v);
    }
  }
  return new ort.Tensor('int64', arr, checkCount(arr.length, dims));
}

export function tensorI32(data: Int32Array | readonly number[], dims: readonly number[]): ort.Tensor {
  const arr = data instanceof Int32Array ? data : Int32Array.from(data);
  return new ort.Tensor('int32', arr, checkCount(arr.length, dims));
}

export function tensorBool(data: Uint8Array | readonly boolean[], dims: readonly number[]): ort.Tensor {
  const arr = data instanceof Uint8Array ? data : Uint8Array.from(data, (b) => (b ? 1 : 0));
  return new ort.Tensor('bool', arr, checkCount(arr.length, dims));
}

/** An output's data as Float32Array (throws naming the dtype if it is not float32). */
export function asF32(t: ort.Tensor, name = 'tensor'): Float32Array {
  if (t.type !== 'float32') throw new Error(`${name}: expected float32, got ${t.type}`);
  return t.data as Float32Array;
}

function checkCount(length: number, dims: readonly number[]): number[] {
  const count = dims.reduce((a, b) => a * b, 1);
  if (count !== length)
    throw new Error(`dims [${dims.join(',')}] need ${count} elements, data has ${length}`);
  return [...dims];
}

function toSpec(m: ort.InferenceSession.ValueMetadata): InputSpec {
  if (!m.isTensor) return { name: m.name, type: 'non-tensor', dims: null };
  const shape = m.shape.map((d) => (typeof d === 'number' ? (d < 0 ? null : d) : d === '' ? null : d));
  return { name: m.name, type: m.type, dims: shape };
}

function isNameList(f: readonly string[] | Record<string, ort.Tensor | null>): f is readonly string[] {
  return Array.isArray(f);
}

function q(s: string): string {
  return `'${s}'`;
}
