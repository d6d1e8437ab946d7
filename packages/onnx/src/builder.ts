// Typed ONNX graph builder over onnx-proto. Values are referred to by name (string); every node
// input is checked to exist when the node is added, so a typo fails at build time with the
// name in the message instead of as an opaque ORT load error.
import { basename, dirname, join } from 'node:path';
import { atomicWriteFile, atomicWriteFileSync } from '@engram-ar/tensor/safetensors';
import onnxProto from 'onnx-proto';
import {
  type AttrValue,
  DATA_TYPE,
  type ElemType,
  encodeAttribute,
  type InitData,
  initTensorProto,
  MS_DOMAIN,
  typedArrayBytes,
} from './proto.js';

const { onnx } = onnxProto;

/** A dimension: a static size, a symbolic name (dim_param), or null for unknown. */
export type Dim = number | string | null;

export interface GraphBuilderOptions {
  name: string;
  /** ai.onnx opset; 17 by default (what the repo's Python checker and ORT both support). */
  opset?: number;
  producerName?: string;
  docString?: string;
}

export interface NodeOptions {
  /** Number of outputs (auto-named) or explicit names; '' marks an omitted optional output. */
  outputs?: number | string[];
  /** Operator domain: '' (ai.onnx, default) or 'com.microsoft' for ORT contrib ops. */
  domain?: string;
  name?: string;
}

export interface ExternalDataOptions {
  /** Initialisers whose raw data is at least this many bytes go to the external file. */
  thresholdBytes: number;
  /** Byte alignment of each tensor in the data file (ORT can mmap 4096-aligned data). Default 4096. */
  align?: number;
}

export interface EncodeOptions {
  externalData?: ExternalDataOptions & {
    /** File name recorded in the model (relative to the model file's directory). */
    location: string;
  };
}

export interface EncodedModel {
  model: Uint8Array;
  /** The external data file as one buffer (built on first access), or null when nothing went out. */
  readonly data: Uint8Array | null;
  /**
   * The external data file as consecutive pieces (tensors and zero alignment padding), or null:
   * write these (atomicWriteFile takes an array) to avoid one more copy of a large table.
   */
  dataChunks: Uint8Array[] | null;
}

export interface SaveOptions {
  /** Data file defaults to `<model file name>.data` beside the model. */
  externalData?: ExternalDataOptions & { location?: string };
}

interface ValueInfo {
  name: string;
  type: ElemType;
  dims: Dim[];
}

interface Initializer {
  name: string;
  type: ElemType;
  dims: number[];
  bytes: Uint8Array;
}

interface NodeRecord {
  op: string;
  domain: string;
  name: string;
  inputs: string[];
  outputs: string[];
  attrs: Record<string, AttrValue>;
}

/** Hard limit of a single protobuf message; larger models must use external data. */
const PROTOBUF_LIMIT = 2 ** 31 - 1;
const IR_VERSION = 8;

export class GraphBuilder {
  readonly name: string;
  readonly opset: number;
  private readonly producerName: string;
  private readonly docString: string;
  private readonly inputs: ValueInfo[] = [];
  private readonly outputs: ValueInfo[] = [];
  private readonly inits: Initializer[] = [];
  private readonly nodes: NodeRecord[] = [];
  private readonly meta = new Map<string, string>();
  private readonly domains = new Map<string, number>();
  /** Every value name in use (inputs, initialisers, node outputs). */
  private readonly values = new Set<string>();
  /** Node outputs renamed to graph outputs: old name → new name. */
  private readonly aliases = new Map<string, string>();
  private readonly graphInputs = new Set<string>();
  private readonly initNames = new Set<string>();
  private counter = 0;
  /** Small helper constants by content, so repeated reshapes/scalars reuse one initialiser. */
  private readonly shared = new Map<string, string>();

  constructor(opts: GraphBuilderOptions) {
    this.name = opts.name;
    this.opset = opts.opset ?? 17;
    this.producerName = opts.producerName ?? '@engram-ar/onnx';
    this.docString = opts.docString ?? '';
  }

  /** Declares a graph input; returns its name. */
  input(name: string, type: ElemType, dims: Dim[]): string {
    this.claim(name, 'input');
    this.graphInputs.add(name);
    this.inputs.push({ name, type, dims: [...dims] });
    return name;
  }

  /**
   * Declares a graph output. With `source` (a value computed earlier) the output is that value:
   * a node output is renamed in place (later references to `source` resolve to `name`), a graph
   * input or initialiser is passed through an Identity node.
   */
  output(name: string, type: ElemType, dims: Dim[], source?: string): void {
    if (this.outputs.some((o) => o.name === name)) throw new Error(`output '${name}' declared twice`);
    if (source !== undefined && this.resolve(source) !== name) {
      const src = this.resolve(source);
      this.requireValue(src, `output '${name}'`);
      const isNodeOutput = !this.graphInputs.has(src) && !this.initNames.has(src);
      const isGraphOutput = this.outputs.some((o) => o.name === src);
      if (isNodeOutput && !isGraphOutput) {
        this.claim(name, 'output');
        this.values.delete(src);
        this.rename(src, name);
      } else {
        this.node('Identity', [src], {}, { outputs: [name] });
      }
    } else {
      this.requireValue(name, `output '${name}'`);
    }
    this.outputs.push({ name, type, dims: [...dims] });
  }

  /** Adds an initialiser (a named constant weight); returns its name. */
  init(name: string, data: InitData, dims: number[], opts: { type?: ElemType } = {}): string {
    this.claim(name, 'initializer');
    const { type, bytes } = typedArrayBytes(data, opts.type, `initializer '${name}'`);
    const count = dims.reduce((a, b) => a * b, 1);
    if (count !== data.length) {
      throw new Error(
        `initializer '${name}': dims [${dims.join(',')}] hold ${count} elements but data has ${data.length}`,
      );
    }
    this.initNames.add(name);
    this.inits.push({ name, type, dims: [...dims], bytes });
    return name;
  }

  /** Adds an initialiser under a fresh auto-generated name. */
  constant(data: InitData, dims: number[], opts: { type?: ElemType; hint?: string } = {}): string {
    return this.init(this.fresh(opts.hint ?? 'const'), data, dims, opts);
  }

  /** Records an opset import for a custom domain (contrib ops are imported automatically). */
  importDomain(domain: string, version: number): void {
    this.domains.set(domain, version);
  }

  /** Adds a node; returns its output names (auto-generated unless given in opts.outputs). */
  node(
    op: string,
    inputs: string[],
    attrs: Record<string, AttrValue> = {},
    opts: NodeOptions = {},
  ): string[] {
    const domain = opts.domain ?? '';
    const resolved = inputs.map((i) => (i === '' ? '' : this.resolve(i)));
    for (const i of resolved) if (i !== '') this.requireValue(i, `${op} node input`);
    const outputs =
      typeof opts.outputs === 'object'
        ? opts.outputs.map((o) => {
            if (o !== '') this.claim(o, `${op} output`);
            return o;
          })
        : Array.from({ length: opts.outputs ?? 1 }, () => {
            const o = this.fresh(op);
            this.values.add(o);
            return o;
          });
    if (domain !== '' && !this.domains.has(domain)) this.domains.set(domain, 1);
    this.nodes.push({
      op,
      domain,
      name: opts.name ?? this.fresh(`${op}_node`),
      inputs: resolved,
      outputs,
      attrs,
    });
    return outputs;
  }

  /** A single-output node (the common case for the helpers below). */
  op(op: string, inputs: string[], attrs: Record<string, AttrValue> = {}, opts: NodeOptions = {}): string {
    return this.node(op, inputs, attrs, { ...opts, outputs: opts.outputs ?? 1 })[0]!;
  }

  /** An ORT contrib op (com.microsoft domain). */
  contrib(
    op: string,
    inputs: string[],
    attrs: Record<string, AttrValue> = {},
    opts: NodeOptions = {},
  ): string[] {
    return this.node(op, inputs, attrs, { ...opts, domain: MS_DOMAIN });
  }

  metadata(key: string, value: string): void {
    this.meta.set(key, value);
  }

  /** Number of nodes so far (for tests and size reports). */
  get nodeCount(): number {
    return this.nodes.length;
  }

  /** Serialises the model, splitting large initialisers into a separate data blob if asked. */
  encode(opts: EncodeOptions = {}): EncodedModel {
    for (const o of this.outputs) this.requireValue(o.name, `output '${o.name}'`);
    const ext = opts.externalData;
    const align = ext?.align ?? 4096;
    const chunks: { offset: number; bytes: Uint8Array }[] = [];
    let dataLength = 0;
    const initializer = this.inits.map((t) => {
      if (ext && t.bytes.byteLength >= ext.thresholdBytes) {
        const offset = Math.ceil(dataLength / align) * align;
        chunks.push({ offset, bytes: t.bytes });
        dataLength = offset + t.bytes.byteLength;
        return initTensorProto(t.name, t.type, t.dims, null, {
          location: ext.location,
          offset,
          length: t.bytes.byteLength,
        });
      }
      return initTensorProto(t.name, t.type, t.dims, t.bytes, null);
    });
    const graph = onnx.GraphProto.create({
      name: this.name,
      node: this.nodes.map((n) =>
        onnx.NodeProto.create({
          opType: n.op,
          domain: n.domain,
          name: n.name,
          input: n.inputs,
          output: n.outputs,
          attribute: Object.entries(n.attrs).map(([k, v]) => encodeAttribute(k, v, `${n.op} '${n.name}'`)),
        }),
      ),
      initializer,
      input: this.inputs.map(valueInfoProto),
      output: this.outputs.map(valueInfoProto),
    });
    const opsetImport = [onnx.OperatorSetIdProto.create({ domain: '', version: this.opset })];
    for (const [domain, version] of this.domains) {
      opsetImport.push(onnx.OperatorSetIdProto.create({ domain, version }));
    }
    const model = onnx.ModelProto.create({
      irVersion: IR_VERSION,
      opsetImport,
      producerName: this.producerName,
      producerVersion: '0.1.0',
      docString: this.docString,
      graph,
      metadataProps: [...this.meta].map(([key, value]) => onnx.StringStringEntryProto.create({ key, value })),
    });
    const bytes = onnx.ModelProto.encode(model).finish();
    if (bytes.byteLength > PROTOBUF_LIMIT) {
      throw new Error(
        `model '${this.name}' is ${bytes.byteLength} bytes, over protobuf's 2 GiB limit: save with externalData`,
      );
    }
    if (chunks.length === 0) return { model: bytes, data: null, dataChunks: null };
    const dataChunks: Uint8Array[] = [];
    let at = 0;
    for (const c of chunks) {
      if (c.offset > at) dataChunks.push(new Uint8Array(c.offset - at));
      dataChunks.push(c.bytes);
      at = c.offset + c.bytes.byteLength;
    }
    let joined: Uint8Array | null = null;
    return {
      model: bytes,
      dataChunks,
      get data() {
        if (!joined) {
          joined = new Uint8Array(dataLength);
          for (const c of chunks) joined.set(c.bytes, c.offset);
        }
        return joined;
      },
    };
  }

  /**
   * Model bytes. With `externalData`, large initialisers are written (synchronously, atomically)
   * to `externalData.path` and the model refers to that file by its base name, so the model must
   * be saved into the same directory and loaded from a path.
   */
  toBytes(opts: { externalData?: ExternalDataOptions & { path: string } } = {}): Uint8Array {
    if (!opts.externalData) return this.encode().model;
    const { path, ...rest } = opts.externalData;
    const { model, dataChunks } = this.encode({ externalData: { ...rest, location: basename(path) } });
    if (dataChunks) atomicWriteFileSync(path, dataChunks);
    return model;
  }

  /** Writes the model (and its external data file beside it, if any) atomically. */
  async save(path: string, opts: SaveOptions = {}): Promise<void> {
    const ext = opts.externalData;
    const location = ext ? (ext.location ?? `${basename(path)}.data`) : '';
    const { model, dataChunks } = this.encode(ext ? { externalData: { ...ext, location } } : {});
    if (dataChunks) await atomicWriteFile(join(dirname(path), location), dataChunks);
    await atomicWriteFile(path, model);
  }

  // ---- thin op helpers (ai.onnx opset 17 unless noted) ----

  matmul(a: string, b: string): string {
    return this.op('MatMul', [a, b]);
  }
  add(a: string, b: string): string {
    return this.op('Add', [a, b]);
  }
  sub(a: string, b: string): string {
    return this.op('Sub', [a, b]);
  }
  mul(a: string, b: string): string {
    return this.op('Mul', [a, b]);
  }
  div(a: string, b: string): string {
    return this.op('Div', [a, b]);
  }
  sigmoid(x: string): string {
    return this.op('Sigmoid', [x]);
  }
  tanh(x: string): string {
    return this.op('Tanh', [x]);
  }
  relu(x: string): string {
    return this.op('Relu', [x]);
  }
  sqrt(x: string): string {
    return this.op('Sqrt', [x]);
  }
  exp(x: string): string {
    return this.op('Exp', [x]);
  }
  neg(x: string): string {
    return this.op('Neg', [x]);
  }
  /** x * sigmoid(x). */
  silu(x: string): string {
    return this.mul(x, this.sigmoid(x));
  }
  /** Exact GELU: 0.5 x (1 + erf(x / sqrt 2)). */
  gelu(x: string): string {
    const erf = this.op('Erf', [this.mul(x, this.scalar(Math.SQRT1_2))]);
    return this.mul(this.mul(x, this.scalar(0.5)), this.add(erf, this.scalar(1)));
  }
  softmax(x: string, axis = -1): string {
    return this.op('Softmax', [x], { axis });
  }
  /** Gather along `axis` (embedding lookup with axis 0). */
  gather(data: string, indices: string, axis = 0): string {
    return this.op('Gather', [data, indices], { axis });
  }
  concat(xs: string[], axis: number): string {
    return this.op('Concat', xs, { axis });
  }
  transpose(x: string, perm: number[]): string {
    return this.op('Transpose', [x], { perm });
  }
  /** Reshape to a constant shape (0 copies the input dim, -1 is inferred). */
  reshape(x: string, shape: number[]): string {
    return this.op('Reshape', [x, this.int64s(shape, 'shape')]);
  }
  unsqueeze(x: string, axes: number[]): string {
    return this.op('Unsqueeze', [x, this.int64s(axes, 'axes')]);
  }
  squeeze(x: string, axes: number[]): string {
    return this.op('Squeeze', [x, this.int64s(axes, 'axes')]);
  }
  cast(x: string, to: ElemType): string {
    return this.op('Cast', [x], { to: DATA_TYPE[to] });
  }
  /** Slice with constant starts/ends (and optional axes/steps). */
  slice(x: string, starts: number[], ends: number[], axes?: number[], steps?: number[]): string {
    const ins = [x, this.int64s(starts, 'starts'), this.int64s(ends, 'ends')];
    if (axes) ins.push(this.int64s(axes, 'axes'));
    if (steps) ins.push(axes ? '' : this.int64s([], 'axes'), this.int64s(steps, 'steps'));
    return this.op('Slice', ins);
  }
  /** Runtime shape of x as int64 [rank]. */
  shape(x: string): string {
    return this.op('Shape', [x]);
  }
  /** Runtime size of one axis of x as an int64 scalar. */
  dim(x: string, axis: number): string {
    return this.op('Gather', [this.shape(x), this.scalar(axis, 'int64')], { axis: 0 });
  }
  where(cond: string, a: string, b: string): string {
    return this.op('Where', [cond, a, b]);
  }
  /** ReduceMean over constant axes (attribute form; opset 17). */
  reduceMean(x: string, axes: number[], keepdims = true): string {
    return this.op('ReduceMean', [x], { axes, keepdims: keepdims ? 1 : 0 });
  }
  /** LayerNormalization (ai.onnx since opset 17) over the last axis. */
  layerNorm(x: string, scale: string, bias: string | null, epsilon: number, axis = -1): string {
    return this.op('LayerNormalization', bias ? [x, scale, bias] : [x, scale], {
      axis,
      epsilon: float(epsilon),
    });
  }
  /**
   * RMSNorm over the last axis: x / sqrt(mean(x²) + eps) * weight.
   * 'decomposed' (default) uses ai.onnx ops only, in the Pow→ReduceMean→Add→Sqrt→Div→Mul pattern
   * ORT's optimiser fuses into its SimplifiedLayerNormalization kernel, so it is both checker-clean
   * and fast. 'ort' emits SimplifiedLayerNormalization directly: ORT registers it in the ai.onnx
   * domain, which the standard ONNX checker rejects (it is not an ONNX op).
   */
  rmsNorm(x: string, weight: string, epsilon: number, mode: 'decomposed' | 'ort' = 'decomposed'): string {
    if (mode === 'ort') {
      return this.op('SimplifiedLayerNormalization', [x, weight], { axis: -1, epsilon: float(epsilon) });
    }
    const ms = this.reduceMean(this.op('Pow', [x, this.scalar(2)]), [-1]);
    const rms = this.sqrt(this.add(ms, this.scalar(epsilon)));
    return this.mul(this.div(x, rms), weight);
  }
  /**
   * com.microsoft SkipSimplifiedLayerNormalization: sum = x + skip, output = rmsNorm(sum).
   * Returns both, so a residual stream can continue from `sum` without recomputing it.
   * ORT's CPU kernel wants x and skip of rank 3 [B, T, D] (or 2 [N, D]).
   */
  skipRmsNorm(x: string, skip: string, weight: string, epsilon: number): { output: string; sum: string } {
    const [output, , , sum] = this.contrib(
      'SkipSimplifiedLayerNormalization',
      [x, skip, weight],
      { epsilon: float(epsilon) },
      { outputs: [this.fresh('skip_rms_out'), '', '', this.fresh('skip_rms_sum')] },
    );
    return { output: output!, sum: sum! };
  }

  /**
   * com.microsoft MultiHeadAttention. q, k, v are [B, T, N·H] (heads are contiguous H-wide
   * chunks of the hidden axis); the cache is [B, N, P, H] and present is [B, N, P+T, H].
   * `unidirectional` applies the causal mask with the query rows aligned to the end of the keys,
   * which is what prefill (P = 0) and decode (T = 1) with a cache need. Empty past (P = 0) works.
   */
  multiHeadAttention(
    q: string,
    k: string,
    v: string,
    opts: {
      numHeads: number;
      pastKey?: string;
      pastValue?: string;
      unidirectional?: boolean;
      /** Defaults to 1/sqrt(H). */
      scale?: number;
    },
  ): { output: string; presentKey: string | null; presentValue: string | null } {
    const withCache = opts.pastKey !== undefined;
    if (withCache !== (opts.pastValue !== undefined))
      throw new Error('multiHeadAttention: give both pastKey and pastValue');
    const attrs: Record<string, AttrValue> = { num_heads: opts.numHeads };
    if (opts.unidirectional) attrs.unidirectional = 1;
    if (opts.scale !== undefined) attrs.scale = float(opts.scale);
    // ORT input order: query, key, value, bias, key_padding_mask, attention_bias, past_key, past_value.
    const inputs = withCache ? [q, k, v, '', '', '', opts.pastKey!, opts.pastValue!] : [q, k, v];
    const [output, presentKey, presentValue] = this.contrib('MultiHeadAttention', inputs, attrs, {
      outputs: withCache ? 3 : 1,
    });
    return { output: output!, presentKey: presentKey ?? null, presentValue: presentValue ?? null };
  }

  /**
   * com.microsoft GroupQueryAttention (always causal). q [B, T, N·H], k/v [B, T, Nkv·H]; the cache
   * [B, Nkv, M, H] is either the past (M = P, present is [B, Nkv, P+T, H]) or a preallocated
   * buffer of the maximum length that ORT updates in place when the same tensors are fed as past
   * and passed as preallocated present outputs (see Session.run's `fetches`). seqlensK int32 [B]
   * = total length − 1 per row; totalSequenceLength int32 scalar. ORT's CPU kernel requires H to
   * be a multiple of 8 (16 with rotary). With `rotary`, q and k are rotated inside the op (rotate-half unless
   * interleaved) at positions given by the cache length.
   */
  groupQueryAttention(
    q: string,
    k: string,
    v: string,
    opts: {
      numHeads: number;
      kvNumHeads?: number;
      pastKey: string;
      pastValue: string;
      seqlensK: string;
      totalSequenceLength: string;
      rotary?: { cosCache: string; sinCache: string; interleaved?: boolean };
      scale?: number;
    },
  ): { output: string; presentKey: string; presentValue: string } {
    const attrs: Record<string, AttrValue> = {
      num_heads: opts.numHeads,
      kv_num_heads: opts.kvNumHeads ?? opts.numHeads,
    };
    if (opts.scale !== undefined) attrs.scale = float(opts.scale);
    const inputs = [q, k, v, opts.pastKey, opts.pastValue, opts.seqlensK, opts.totalSequenceLength];
    if (opts.rotary) {
      attrs.do_rotary = 1;
      attrs.rotary_interleaved = opts.rotary.interleaved ? 1 : 0;
      inputs.push(opts.rotary.cosCache, opts.rotary.sinCache);
    }
    const [output, presentKey, presentValue] = this.contrib('GroupQueryAttention', inputs, attrs, {
      outputs: 3,
    });
    return { output: output!, presentKey: presentKey!, presentValue: presentValue! };
  }

  /**
   * com.microsoft RotaryEmbedding on x [B, T, N·H] (or [B, N, T, H]): each head's first
   * rotaryDim channels are rotated by angle cos/sinCache[position] ([maxPos, rotaryDim/2]).
   * interleaved = false pairs channel i with i + rotaryDim/2 (GPT-NeoX "rotate half"), true pairs
   * 2i with 2i+1 (GPT-J). positionIds is int64 [B, T], or [1] holding the first position.
   */
  rotaryEmbedding(
    x: string,
    positionIds: string,
    cosCache: string,
    sinCache: string,
    opts: { numHeads: number; interleaved?: boolean; rotaryDim?: number },
  ): string {
    const attrs: Record<string, AttrValue> = {
      num_heads: opts.numHeads,
      interleaved: opts.interleaved ? 1 : 0,
    };
    if (opts.rotaryDim !== undefined) attrs.rotary_embedding_dim = opts.rotaryDim;
    return this.contrib('RotaryEmbedding', [x, positionIds, cosCache, sinCache], attrs)[0]!;
  }

  /** A rank-0 initialiser; equal scalars share one initialiser. */
  scalar(value: number, type: 'float32' | 'int64' = 'float32'): string {
    const data = type === 'int64' ? BigInt64Array.of(BigInt(value)) : Float32Array.of(value);
    return this.sharedConstant(data, [], 'scalar');
  }
  /** An int64 1-D initialiser (shapes, axes, starts/ends); equal lists share one initialiser. */
  int64s(values: number[], hint = 'i64'): string {
    return this.sharedConstant(
      BigInt64Array.from(values, (v) => BigInt(v)),
      [values.length],
      hint,
    );
  }

  // ---- internals ----

  private sharedConstant(data: Float32Array | BigInt64Array, dims: number[], hint: string): string {
    const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    const key = `${data instanceof Float32Array ? 'f' : 'i'}|${dims.join(',')}|${Buffer.from(bytes).toString('hex')}`;
    let name = this.shared.get(key);
    if (name === undefined) {
      name = this.constant(data, dims, { hint });
      this.shared.set(key, name);
    }
    return name;
  }

  private fresh(hint: string): string {
    let name: string;
    do name = `${hint}_${this.counter++}`;
    while (this.values.has(name) || this.aliases.has(name));
    return name;
  }

  private claim(name: string, what: string): void {
    if (name === '') throw new Error(`${what}: empty name`);
    if (this.values.has(name) || this.aliases.has(name)) {
      throw new Error(`${what} '${name}': name already used in graph '${this.name}'`);
    }
    this.values.add(name);
  }

  private resolve(name: string): string {
    return this.aliases.get(name) ?? name;
  }

  private requireValue(name: string, where: string): void {
    if (!this.values.has(name)) {
      throw new Error(
        `${where}: unknown value '${name}' in graph '${this.name}' (not an input, initializer or node output)`,
      );
    }
  }

  private rename(from: string, to: string): void {
    for (const n of this.nodes) {
      n.inputs = n.inputs.map((i) => (i === from ? to : i));
      n.outputs = n.outputs.map((o) => (o === from ? to : o));
    }
    for (const [k, v] of this.aliases) if (v === from) this.aliases.set(k, to);
    this.aliases.set(from, to);
  }
}

/** Marks a number as a float attribute (plain integers are encoded as INT otherwise). */
export function float(value: number): AttrValue {
  return { kind: 'float', value };
}
/** Marks numbers as a FLOATS attribute (a Float32Array is FLOATS already). */
export function floats(values: number[]): AttrValue {
  return { kind: 'floats', value: values };
}
/** A TENSOR attribute (e.g. Constant's `value`). */
export function tensorAttr(data: InitData, dims: number[], type?: ElemType): AttrValue {
  return { kind: 'tensor', data, dims, type };
}

function valueInfoProto(v: ValueInfo) {
  return onnx.ValueInfoProto.create({
    name: v.name,
    type: onnx.TypeProto.create({
      tensorType: onnx.TypeProto.Tensor.create({
        elemType: DATA_TYPE[v.type],
        shape: onnx.TensorShapeProto.create({
          dim: v.dims.map((d) =>
            d === null
              ? onnx.TensorShapeProto.Dimension.create({})
              : typeof d === 'number'
                ? onnx.TensorShapeProto.Dimension.create({ dimValue: d })
                : onnx.TensorShapeProto.Dimension.create({ dimParam: d }),
          ),
        }),
      }),
    }),
  });
}
