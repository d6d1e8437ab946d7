import { describe, expect, it } from 'vitest';
import { countFlops, countParams, denseParams, solveRho } from '../src/accounting.js';
import { parseGPTConfig } from '../src/config.js';

describe('countParams', () => {
  it('LlamaGen GPT-B counts 110.9M ± 0.5 %', () => {
    const c = parseGPTConfig({
      vocab: 16384,
      height: 16,
      width: 16,
      numClasses: 1000,
      nLayer: 12,
      nHead: 12,
      dim: 768,
      mlpHidden: 2048,
    });
    const p = countParams(c);
    expect(Math.abs(p.total - 110.9e6) / 110.9e6).toBeLessThan(0.005);
    // closed form: 2·V·d + (C+1)·d + L·(4d² + 3·d·h + 2d) + d
    expect(p.total).toBe(
      2 * 16384 * 768 + 1001 * 768 + 12 * (4 * 768 * 768 + 3 * 768 * 2048 + 2 * 768) + 768,
    );
    expect(p.memory).toBe(0);
    expect(p.rho).toBe(1);
  });

  it('closed-form dense count equals the sum over weight specs (with and without Engram/conv)', () => {
    const base = {
      vocab: 37,
      height: 3,
      width: 5,
      numClasses: 4,
      nLayer: 3,
      nHead: 2,
      dim: 24,
      mlpHidden: 40,
    };
    for (const engram of [
      null,
      { layers: [0, 2], vocab: 37, tableRows: 11, dHead: 6, heads: 3 },
      { layers: [1], vocab: 37, tableRows: 11, dHead: 6, heads: 2, conv: { enabled: true, kernel: 3 } },
    ]) {
      const c = parseGPTConfig({ ...base, engram });
      expect(denseParams(c)).toBe(countParams(c).backbone);
    }
  });

  it('FLOPs per code follow the closed form', () => {
    const c = parseGPTConfig({
      vocab: 64,
      height: 2,
      width: 3,
      numClasses: 2,
      nLayer: 2,
      nHead: 2,
      dim: 16,
      mlpHidden: 40,
    });
    const T = 6;
    const proj = 2 * (4 * 16 * 16 + 3 * 16 * 40);
    const f = countFlops(c);
    expect(f.perCode).toBeCloseTo(2 * proj + 2 * 16 * 64 + 2 * 4 * 16 * ((T + 1) / 2), 6);
    expect(f.trainPerPosition).toBeCloseTo(3 * (2 * proj + 2 * 16 * 64 + 2 * 4 * 16 * T), 6);
  });
});

describe('solveRho', () => {
  const base = { vocab: 512, height: 7, width: 7, numClasses: 10 };
  const engram = {
    stencils: [
      ['L', 'U'],
      ['L', 'U', 'UL'],
    ] as ('L' | 'U' | 'UL')[][],
    heads: 4,
    dHead: 32,
  };
  for (const totalParams of [2e6, 8e6, 30e6, 120e6]) {
    for (const rho of [0.17, 0.3, 0.5, 0.7, 0.9, 1]) {
      it(`hits total ${totalParams / 1e6}M, rho ${rho} within 2 %`, () => {
        const r = solveRho({ ...base, totalParams, rho, engram });
        const p = countParams(r.config);
        expect(p).toEqual(r.params);
        expect(Math.abs(p.total - totalParams) / totalParams).toBeLessThan(0.02);
        expect(Math.abs(p.rho - rho) / rho).toBeLessThan(0.02);
        expect(r.config.engram === null).toBe(rho === 1);
      });
    }
  }
  it('names an impossible budget', () => {
    expect(() => solveRho({ ...base, totalParams: 1e4, rho: 0.5, engram })).toThrow(/no shape/);
  });
});
