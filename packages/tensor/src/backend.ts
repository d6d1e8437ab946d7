// Backend choice: tfjs-node-gpu → tfjs-node → wasm → cpu, first one that loads wins.
// The node backends are optional dependencies whose install downloads libtensorflow; offline they are present
// without their native addon, and importing them then throws (after registering kernels and printing a wall
// of duplicate-kernel warnings). So we look for the addon file first and only import when it exists.
import { existsSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { registerWasmKernels } from './kernels.js';

export type BackendName = 'tfjs-node-gpu' | 'tfjs-node' | 'wasm' | 'cpu';

export interface InitBackendOptions {
  /** Use exactly this backend (error if it cannot load). The ENGRAM_AR_BACKEND env var overrides this. */
  backend?: BackendName;
  /** Where to report the choice and the reasons for skipping faster backends. Default: stderr. */
  log?: (msg: string) => void;
}

export interface InitBackendResult {
  name: BackendName;
  skipped: { name: BackendName; reason: string }[];
}

const ORDER: BackendName[] = ['tfjs-node-gpu', 'tfjs-node', 'wasm', 'cpu'];
const ENV_VAR = 'ENGRAM_AR_BACKEND';
const require = createRequire(import.meta.url);

function isBackendName(x: string): x is BackendName {
  return (ORDER as string[]).includes(x);
}

/** Throws with the reason when the package or its native addon is missing. */
function checkNodeAddon(pkg: string): void {
  let pkgJson: string;
  try {
    pkgJson = require.resolve(`${pkg}/package.json`);
  } catch {
    throw new Error(`${pkg} is not installed (optional dependency)`);
  }
  const lib = join(dirname(pkgJson), 'lib');
  const found =
    existsSync(lib) &&
    readdirSync(lib).some((d) => d.startsWith('napi-v') && existsSync(join(lib, d, 'tfjs_binding.node')));
  if (!found) {
    throw new Error(
      `${pkg} is installed without its native addon (no ${lib}/napi-v*/tfjs_binding.node; libtensorflow was not downloaded at install)`,
    );
  }
}

async function tryNode(pkg: string): Promise<void> {
  checkNodeAddon(pkg);
  await import(pkg);
  if (!(await tf.setBackend('tensorflow')))
    throw new Error(`${pkg} loaded but the 'tensorflow' backend failed to initialise`);
}

async function tryBuiltin(name: 'wasm' | 'cpu'): Promise<void> {
  if (!(await tf.setBackend(name))) throw new Error(`tf.setBackend('${name}') failed`);
  await tf.ready();
  if (name === 'cpu') {
    // The cpu backend prints a "you are running in Node.js, install tfjs-node" banner on first write; we
    // have already logged why tfjs-node was skipped.
    (tf.findBackend('cpu') as unknown as { firstUse: boolean }).firstUse = false;
  }
}

async function attempt(name: BackendName): Promise<void> {
  if (name === 'tfjs-node-gpu') return tryNode('@tensorflow/tfjs-node-gpu');
  if (name === 'tfjs-node') return tryNode('@tensorflow/tfjs-node');
  return tryBuiltin(name);
}

const TF_NAME: Record<BackendName, string> = {
  'tfjs-node-gpu': 'tensorflow',
  'tfjs-node': 'tensorflow',
  wasm: 'wasm',
  cpu: 'cpu',
};
let current: { request: string; result: InitBackendResult } | null = null;

/**
 * Selects the tfjs backend. Idempotent: a repeated call with the same request returns the first result without
 * re-probing. The ENGRAM_AR_BACKEND env var (if set) beats `opts.backend`; a requested backend that cannot load
 * is an error rather than a silent fallback.
 */
export async function initBackend(opts: InitBackendOptions = {}): Promise<InitBackendResult> {
  const log = opts.log ?? ((msg: string) => process.stderr.write(`[engram-ar/tensor] ${msg}\n`));
  const env = process.env[ENV_VAR];
  if (env !== undefined && env !== '' && !isBackendName(env)) {
    throw new Error(`${ENV_VAR}=${env} is not one of ${ORDER.join(', ')}`);
  }
  const requested = env ? env : opts.backend;
  if (requested !== undefined && !isBackendName(requested)) {
    throw new Error(`initBackend: backend "${requested}" is not one of ${ORDER.join(', ')}`);
  }
  const request = requested ?? 'auto';
  if (current && current.request === request && tf.getBackend() === TF_NAME[current.result.name]) {
    return current.result;
  }
  registerWasmKernels();
  const candidates = requested ? [requested] : ORDER;
  const skipped: InitBackendResult['skipped'] = [];
  for (const name of candidates) {
    try {
      await attempt(name);
    } catch (e) {
      const reason = (e as Error).message.split('\n')[0]!;
      if (requested) throw new Error(`initBackend: requested backend ${name} cannot be used: ${reason}`);
      skipped.push({ name, reason });
      log(`skipped ${name}: ${reason}`);
      continue;
    }
    const why = requested ? (env ? `${ENV_VAR}=${env}` : 'requested') : 'first available';
    const extra =
      name === 'wasm' ? ` (simd: ${await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT')}, single thread)` : '';
    log(`backend ${name}${extra} [${why}]`);
    const result: InitBackendResult = { name, skipped };
    current = { request, result };
    return result;
  }
  throw new Error(
    `initBackend: no backend could be loaded: ${skipped.map((s) => `${s.name}: ${s.reason}`).join('; ')}`,
  );
}
