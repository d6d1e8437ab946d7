// Stage bookkeeping of a run folder: every stage (and every variant inside a stage) is a directory
// with `inputs.json` (written when it starts) and `done.json` (written atomically when it finishes).
// The inputs hash is sha256 of the stage's config slice and its upstream hashes; a directory whose
// done.json carries the same hash is skipped, one whose inputs.json carries another hash is wiped
// first (its partial outputs and checkpoints belong to other inputs).
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { atomicWriteFile } from '@engram-ar/tensor/safetensors';

/** JSON with object keys sorted, so equal values hash equally whatever their key order. */
export function stableStringify(v: unknown): string {
  if (v === null || typeof v !== 'object') return JSON.stringify(v) ?? 'null';
  if (Array.isArray(v)) return `[${v.map(stableStringify).join(',')}]`;
  const o = v as Record<string, unknown>;
  return `{${Object.keys(o)
    .filter((k) => o[k] !== undefined)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${stableStringify(o[k])}`)
    .join(',')}}`;
}

export function inputsHash(slice: unknown, upstream: readonly string[] = []): string {
  return createHash('sha256').update(stableStringify({ slice, upstream })).digest('hex').slice(0, 16);
}

export interface Done<M = Record<string, unknown>> {
  stage: string;
  inputsHash: string;
  metrics: M;
  timings: { startedAt: string; finishedAt: string; seconds: number };
  /** True when this invocation found the stage finished and did not run it. */
  skipped?: boolean;
}

export function readDone<M>(dir: string): Done<M> | null {
  const p = join(dir, 'done.json');
  if (!existsSync(p)) return null;
  try {
    return JSON.parse(readFileSync(p, 'utf8')) as Done<M>;
  } catch {
    return null;
  }
}

/**
 * Runs `fn(dir)` unless `dir/done.json` has `hash`; returns the done record (with skipped = true when
 * it was reused). `fn` must be resumable: it may find its own partial outputs from a killed run.
 */
export async function runUnit<M>(
  dir: string,
  stage: string,
  hash: string,
  fn: (dir: string) => Promise<M>,
  hooks: { onSkip?: (d: Done<M>) => void; onStart?: () => void } = {},
): Promise<Done<M>> {
  const done = readDone<M>(dir);
  if (done && done.inputsHash === hash) {
    hooks.onSkip?.(done);
    return { ...done, skipped: true };
  }
  const inputsPath = join(dir, 'inputs.json');
  if (existsSync(inputsPath)) {
    let prev: string | null = null;
    try {
      prev = (JSON.parse(readFileSync(inputsPath, 'utf8')) as { inputsHash?: string }).inputsHash ?? null;
    } catch {
      prev = null;
    }
    if (prev !== hash) await rm(dir, { recursive: true, force: true });
  } else if (done) await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  await atomicWriteFile(inputsPath, `${JSON.stringify({ stage, inputsHash: hash }, null, 2)}\n`);
  hooks.onStart?.();
  const startedAt = new Date();
  const t0 = performance.now();
  const metrics = await fn(dir);
  const record: Done<M> = {
    stage,
    inputsHash: hash,
    metrics,
    timings: {
      startedAt: startedAt.toISOString(),
      finishedAt: new Date().toISOString(),
      seconds: (performance.now() - t0) / 1000,
    },
  };
  await atomicWriteFile(join(dir, 'done.json'), `${JSON.stringify(jsonSafe(record), null, 2)}\n`);
  return record;
}

/** Non-finite numbers → null, typed arrays → arrays (JSON has neither). */
export function jsonSafe(v: unknown): unknown {
  if (typeof v === 'number') return Number.isFinite(v) ? v : null;
  if (ArrayBuffer.isView(v)) return Array.from(v as unknown as ArrayLike<number>, (x) => jsonSafe(x));
  if (Array.isArray(v)) return v.map(jsonSafe);
  if (v && typeof v === 'object')
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, jsonSafe(x)]));
  return v;
}
