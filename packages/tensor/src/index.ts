// Public API of @engram-ar/tensor. Every package takes `tf` from here so the repo has one tfjs engine with
// gradients, the cpu and wasm backends, and the extra wasm kernels registered.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { registerAllGradients } from './gradients.js';
import { registerWasmKernels } from './kernels.js';

await registerAllGradients();
registerWasmKernels();

export { type BackendName, type InitBackendOptions, type InitBackendResult, initBackend } from './backend.js';
export {
  REGISTERED_WASM_KERNELS,
  REPLACED_WASM_KERNELS,
  registerWasmKernels,
  stockWasmKernel,
} from './kernels.js';
export {
  AdamW,
  type AdamWOptions,
  type AdamWState,
  clipByGlobalNorm,
  type LrScheduleOptions,
  lrSchedule,
  type ParamGroup,
} from './optim.js';
export { Rng, type RngState } from './rng.js';
export {
  atomicWriteFile,
  atomicWriteFileSync,
  CHECKPOINT_DATA_SHA256_KEY,
  CHECKPOINT_SIDECAR_KEY,
  type Dtype,
  decodeSafetensors,
  encodeSafetensors,
  fromFloat16Bits,
  type LoadedCheckpoint,
  loadCheckpoint,
  type NamedTensor,
  readSafetensors,
  saveCheckpoint,
  type TensorData,
  toFloat16Bits,
  writeSafetensors,
} from './safetensors.js';
export { tf };
