export {
  type Dim,
  type EncodedModel,
  type EncodeOptions,
  type ExternalDataOptions,
  float,
  floats,
  GraphBuilder,
  type GraphBuilderOptions,
  type NodeOptions,
  type SaveOptions,
  tensorAttr,
} from './builder.js';
export { externalLocations, maybeDumpModel, onnxCheckDir } from './dump.js';
export { KvCacheBuffer, type KvCacheBufferOptions } from './kv-buffer.js';
export { type AttrValue, type ElemType, type InitData, MS_DOMAIN } from './proto.js';
export {
  asF32,
  createSession,
  type FeedValue,
  type InputSpec,
  ort,
  Session,
  type SessionOptions,
  type TensorType,
  tensorBool,
  tensorF32,
  tensorI32,
  tensorI64,
} from './session.js';
export { type MatmulThroughputOptions, matmulGflops } from './throughput.js';
