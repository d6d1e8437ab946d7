import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { initBackend, tf } from '../src/index.js';

const saved = process.env.ENGRAM_AR_BACKEND;
beforeEach(() => {
  delete process.env.ENGRAM_AR_BACKEND;
});
afterEach(() => {
  if (saved === undefined) delete process.env.ENGRAM_AR_BACKEND;
  else process.env.ENGRAM_AR_BACKEND = saved;
});

describe('initBackend', () => {
  it('skips the node backends (no native addon here) with a reason, picks wasm, logs it, and is idempotent', async () => {
    const logs: string[] = [];
    const r = await initBackend({ log: (m) => logs.push(m) });
    expect(r.name).toBe('wasm');
    expect(tf.getBackend()).toBe('wasm');
    expect(r.skipped.map((s) => s.name)).toEqual(['tfjs-node-gpu', 'tfjs-node']);
    for (const s of r.skipped) expect(s.reason).toMatch(/native addon|not installed/);
    expect(logs.filter((l) => l.startsWith('skipped'))).toHaveLength(2);
    expect(logs.at(-1)).toMatch(/^backend wasm \(simd: (true|false), single thread\) \[first available\]$/);
    const again = await initBackend({ log: (m) => logs.push(m) });
    expect(again).toBe(r);
    expect(logs).toHaveLength(3);
  });

  it('honours the option, and the env var over the option', async () => {
    const logs: string[] = [];
    expect((await initBackend({ backend: 'cpu', log: (m) => logs.push(m) })).name).toBe('cpu');
    expect(tf.getBackend()).toBe('cpu');
    process.env.ENGRAM_AR_BACKEND = 'wasm';
    const r = await initBackend({ backend: 'cpu', log: (m) => logs.push(m) });
    expect(r).toEqual({ name: 'wasm', skipped: [] });
    expect(tf.getBackend()).toBe('wasm');
    expect(logs.at(-1)).toMatch(/ENGRAM_AR_BACKEND=wasm/);
  });

  it('rejects unknown names and unavailable requested backends with the reason', async () => {
    process.env.ENGRAM_AR_BACKEND = 'webgpu';
    await expect(initBackend({ log: () => {} })).rejects.toThrow(/ENGRAM_AR_BACKEND=webgpu is not one of/);
    delete process.env.ENGRAM_AR_BACKEND;
    await expect(initBackend({ backend: 'tfjs-node', log: () => {} })).rejects.toThrow(
      /requested backend tfjs-node cannot be used: .*(native addon|not installed)/,
    );
  });

  it('gradients are registered (gather and matMul gradients on wasm match the closed form)', async () => {
    await initBackend({ backend: 'wasm', log: () => {} });
    const g = tf.tidy(() =>
      Array.from(
        tf
          .grad((t: tf.Tensor) => tf.sum(tf.gather(t, tf.tensor1d([0, 2, 2], 'int32'))))(tf.zeros([3, 2]))
          .dataSync(),
      ),
    );
    expect(g).toEqual([1, 1, 0, 0, 2, 2]);
    const a = tf.tensor2d([
      [1, 2],
      [3, 4],
    ]);
    // d/dA sum(A·A) = 1·Aᵀ + Aᵀ·1  →  [[7, 11], [9, 13]]
    expect(
      Array.from(
        tf
          .grad((x: tf.Tensor) => tf.sum(tf.matMul(x, x)))(a)
          .dataSync(),
      ),
    ).toEqual([7, 11, 9, 13]);
  });
});
