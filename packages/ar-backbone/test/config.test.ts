import { describe, expect, it } from 'vitest';
import { parseGPTConfig } from '../src/config.js';

const ok = { vocab: 16, height: 4, width: 4, numClasses: 3, nLayer: 2, nHead: 2, dim: 16, mlpHidden: 32 };

describe('GPTConfig', () => {
  it('fills defaults (baseline, class dropout 0.1, RoPE base 1e4)', () => {
    const c = parseGPTConfig(ok);
    expect(c.engram).toBeNull();
    expect(c.classDropout).toBe(0.1);
    expect(c.ropeBase).toBe(10000);
  });

  it.each([
    [{ ...ok, vocab: 1 }, /vocab/],
    [{ ...ok, dim: 17 }, /dim: dim 17 must be divisible by nHead 2/],
    [{ ...ok, dim: 24, nHead: 4 }, /nHead: head dim 6/],
    [{ ...ok, classDropout: 2 }, /classDropout/],
    [
      { ...ok, engram: { layers: [2], vocab: 16, tableRows: 10, dHead: 4 } },
      /engram\.layers\.0: Engram layer 2 does not exist/,
    ],
    [
      { ...ok, engram: { layers: [0], vocab: 15, tableRows: 10, dHead: 4 } },
      /engram\.vocab: Engram vocab 15/,
    ],
    [{ ...ok, engram: { layers: [0], vocab: 16, dHead: 4 } }, /engram\.tableRows/],
  ])('names the bad field: %#', (input, message) => {
    expect(() => parseGPTConfig(input)).toThrow(message);
  });
});
