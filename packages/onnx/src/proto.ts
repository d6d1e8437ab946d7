// Conversions from JS values to onnx-proto messages: tensor data types, initialiser tensors
// (raw_data, little endian, or external data entries) and node attributes.
import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;

export const MS_DOMAIN = 'com.microsoft';

export type ElemType = 'float32' | 'int64' | 'int32' | 'bool' | 'uint8' | 'int8' | 'float16';

/** Typed arrays an initialiser can be built from; Uint16Array holds float16 bit patterns. */
export type InitData = Float32Array | BigInt64Array | Int32Array | Uint8Array | Int8Array | Uint16Array;

/** Explicitly typed attribute values (plain values are typed by `encodeAttribute`'s rules). */
export type TaggedAttr =
  | { kind: 'float'; value: number }
  | { kind: 'floats'; value: number[] }
  | { kind: 'tensor'; data: InitData; dims: number[]; type?: ElemType | undefined };

export type AttrValue = number | number[] | string | string[] | Float32Array | TaggedAttr;

export const DATA_TYPE: Record<ElemType, number> = {
  float32: onnx.TensorProto.DataType.FLOAT,
  uint8: onnx.TensorProto.DataType.UINT8,
  int8: onnx.TensorProto.DataType.INT8,
  int32: onnx.TensorProto.DataType.INT32,
  int64: onnx.TensorProto.DataType.INT64,
  bool: onnx.TensorProto.DataType.BOOL,
  float16: onnx.TensorProto.DataType.FLOAT16,
};

/** Element types each typed array may be stored as (first is the default). */
const ALLOWED: [new (...args: never[]) => InitData, ElemType[]][] = [
  [Float32Array, ['float32']],
  [BigInt64Array, ['int64']],
  [Int32Array, ['int32']],
  [Uint8Array, ['uint8', 'bool']],
  [Int8Array, ['int8']],
  [Uint16Array, ['float16']],
];

const LITTLE_ENDIAN = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;

/** Resolves the element type of `data` and copies its bytes (little endian, as ONNX requires). */
export function typedArrayBytes(
  data: InitData,
  type: ElemType | undefined,
  where: string,
): { type: ElemType; bytes: Uint8Array } {
  if (!LITTLE_ENDIAN) throw new Error(`${where}: big-endian hosts are not supported`);
  const entry = ALLOWED.find(([ctor]) => data instanceof ctor);
  if (!entry) throw new Error(`${where}: unsupported data ${Object.prototype.toString.call(data)}`);
  const resolved = type ?? entry[1][0]!;
  if (!entry[1].includes(resolved)) {
    throw new Error(
      `${where}: ${entry[0].name} cannot hold type '${resolved}' (allowed: ${entry[1].join(', ')})`,
    );
  }
  const bytes = new Uint8Array(data.byteLength);
  bytes.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  return { type: resolved, bytes };
}

export function initTensorProto(
  name: string,
  type: ElemType,
  dims: number[],
  bytes: Uint8Array | null,
  external: { location: string; offset: number; length: number } | null,
) {
  if (external) {
    return onnx.TensorProto.create({
      name,
      dims,
      dataType: DATA_TYPE[type],
      dataLocation: onnx.TensorProto.DataLocation.EXTERNAL,
      externalData: [
        onnx.StringStringEntryProto.create({ key: 'location', value: external.location }),
        onnx.StringStringEntryProto.create({ key: 'offset', value: String(external.offset) }),
        onnx.StringStringEntryProto.create({ key: 'length', value: String(external.length) }),
      ],
    });
  }
  return onnx.TensorProto.create({ name, dims, dataType: DATA_TYPE[type], rawData: bytes! });
}

/**
 * Attributes that ONNX / ORT contrib ops define as FLOAT: a plain integer given for one of these
 * (e.g. `{ alpha: 1 }`) is still encoded as a float, since an INT would be rejected at load.
 */
const FLOAT_ATTRS = new Set([
  'alpha',
  'beta',
  'gamma',
  'epsilon',
  'scale',
  'lambd',
  'bias',
  'ratio',
  'mask_filter_value',
  'value_float',
  'seed',
  'mean',
  'low',
  'high',
  'momentum',
]);
const FLOATS_ATTRS = new Set(['value_floats', 'scales']);

/**
 * Encoding rules: number → INT if integral (FLOAT if non-integral or the name is a known float
 * attribute); number[] → INTS likewise; Float32Array → FLOATS; string → STRING; string[] → STRINGS;
 * `float()`, `floats()`, `tensorAttr()` force the type.
 */
export function encodeAttribute(name: string, v: AttrValue, where: string) {
  const T = onnx.AttributeProto.AttributeType;
  if (typeof v === 'number') {
    if (!Number.isFinite(v) && !FLOAT_ATTRS.has(name))
      throw new Error(`${where}: attribute '${name}' is ${v}`);
    if (Number.isInteger(v) && !FLOAT_ATTRS.has(name)) {
      return onnx.AttributeProto.create({ name, type: T.INT, i: v });
    }
    return onnx.AttributeProto.create({ name, type: T.FLOAT, f: v });
  }
  if (typeof v === 'string') {
    return onnx.AttributeProto.create({ name, type: T.STRING, s: new TextEncoder().encode(v) });
  }
  if (v instanceof Float32Array) {
    return onnx.AttributeProto.create({ name, type: T.FLOATS, floats: Array.from(v) });
  }
  if (Array.isArray(v)) {
    if (v.length > 0 && v.every((x): x is string => typeof x === 'string')) {
      const enc = new TextEncoder();
      return onnx.AttributeProto.create({ name, type: T.STRINGS, strings: v.map((x) => enc.encode(x)) });
    }
    const nums = v as number[];
    if (nums.every((x) => Number.isInteger(x)) && !FLOATS_ATTRS.has(name)) {
      return onnx.AttributeProto.create({ name, type: T.INTS, ints: nums });
    }
    return onnx.AttributeProto.create({ name, type: T.FLOATS, floats: nums });
  }
  switch (v.kind) {
    case 'float':
      return onnx.AttributeProto.create({ name, type: T.FLOAT, f: v.value });
    case 'floats':
      return onnx.AttributeProto.create({ name, type: T.FLOATS, floats: v.value });
    case 'tensor': {
      const { type, bytes } = typedArrayBytes(v.data, v.type, `${where} attribute '${name}'`);
      return onnx.AttributeProto.create({
        name,
        type: T.TENSOR,
        t: initTensorProto('', type, v.dims, bytes, null),
      });
    }
  }
}
