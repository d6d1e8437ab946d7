import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { applyOverrides, PRESETS, parseSetValue, RunConfigSchema, resolveConfig } from '../src/config.js';
import { planVariants } from '../src/run.js';
import { inputsHash, readDone, runUnit, stableStringify } from '../src/stage.js';

describe('run config', () => {
  it('every preset validates', () => {
    for (const name of Object.keys(PRESETS)) expect(resolveConfig(name).preset).toBe(name);
  });

  it('every field of the schema carries a description', () => {
    const missing: string[] = [];
    const walk = (s: unknown, path: string) => {
      const def = (s as { def?: { type: string; shape?: Record<string, unknown>; innerType?: unknown } }).def;
      if (!def) return;
      if (def.type === 'object' && def.shape) {
        for (const [k, v] of Object.entries(def.shape)) {
          const p = path ? `${path}.${k}` : k;
          if (!(v as { description?: string }).description) missing.push(p);
          if (!path.startsWith('tokenizer') && k !== 'tokenizer') walk(v, p);
        }
      } else if (def.innerType) walk(def.innerType, path);
    };
    walk(RunConfigSchema, '');
    expect(missing).toEqual([]);
  });

  it('--set parses JSON values and keeps strings, by dotted path', () => {
    expect(parseSetValue('12')).toBe(12);
    expect(parseSetValue('[0.1,0.2]')).toEqual([0.1, 0.2]);
    expect(parseSetValue('true')).toBe(true);
    expect(parseSetValue('mnist')).toBe('mnist');
    const c = resolveConfig('quickstart', [
      'ar.train.steps=7',
      'ar.rhos=[0.5]',
      'probes.rho=0.5',
      'data.dataset=mnist',
    ]);
    expect(c.ar.train.steps).toBe(7);
    expect(c.ar.rhos).toEqual([0.5]);
    const base = { a: { b: 1 } };
    expect(applyOverrides(base, ['a.c.d=2'])).toEqual({ a: { b: 1, c: { d: 2 } } });
    expect(base).toEqual({ a: { b: 1 } });
  });

  it('errors name the field path', () => {
    expect(() => resolveConfig('quickstart', ['ar.train.steps=0'])).toThrow(/ar\.train\.steps/);
    expect(() => resolveConfig('quickstart', ['sampling.topP=2'])).toThrow(/sampling\.topP/);
    expect(() => resolveConfig('quickstart', ['probes.rho=0.5'])).toThrow(
      /probes\.rho: 0\.5 is not one of ar\.rhos/,
    );
    expect(() => resolveConfig('quickstart', ['ar.bogus=1'])).toThrow(/ar: Unrecognized key.*bogus/);
    expect(() => resolveConfig('quickstart', ['tokenizer.arch.downsample=3'])).toThrow(
      /tokenizer\.arch\.downsample/,
    );
    expect(() => resolveConfig('quickstart', ['ar.train=3', 'x'])).toThrow(/--set x: expected key=value/);
    expect(() => resolveConfig('nope')).toThrow(/unknown preset 'nope'/);
  });
});

describe('variant plan', () => {
  it('solves every preset to its budget: baseline, the ρ sweep and the frozen twin', () => {
    const grids = {
      quickstart: { vocab: 32, height: 7, width: 7, numClasses: 10 },
      small: { vocab: 128, height: 7, width: 7, numClasses: 10 },
      paper: { vocab: 16384, height: 16, width: 16, numClasses: 1000 },
    };
    for (const [name, g] of Object.entries(grids)) {
      const c = resolveConfig(name);
      const v = planVariants(c, g);
      expect(v.map((x) => x.name)).toEqual([
        'baseline',
        ...c.ar.rhos.flatMap((r) => (r === c.probes.rho ? [`rho${r}`, `frozen-rho${r}`] : [`rho${r}`])),
      ]);
      for (const x of v) {
        expect(Math.abs(x.params.total - c.ar.totalParams) / c.ar.totalParams).toBeLessThan(0.02);
        expect(Math.abs(x.params.rho - x.rho) / x.rho).toBeLessThan(0.02);
        expect(x.config.engram === null).toBe(x.rho === 1);
      }
      expect(v.find((x) => x.name.startsWith('frozen-'))!.config).toEqual(
        v.find((x) => x.name === `rho${c.probes.rho}`)!.config,
      );
    }
    // the paper's baseline is LlamaGen GPT-B scale: 12 layers × 768
    const paper = planVariants(resolveConfig('paper'), grids.paper)[0]!;
    expect([paper.config.nLayer, paper.config.dim]).toEqual([12, 768]);
  });
});

describe('stage units', () => {
  it('hashes ignore key order and change with any value', () => {
    expect(stableStringify({ b: 1, a: [1, { d: 2, c: 3 }] })).toBe('{"a":[1,{"c":3,"d":2}],"b":1}');
    expect(inputsHash({ a: 1, b: 2 }, ['x'])).toBe(inputsHash({ b: 2, a: 1 }, ['x']));
    expect(inputsHash({ a: 1, b: 2 }, ['x'])).not.toBe(inputsHash({ a: 1, b: 3 }, ['x']));
    expect(inputsHash({ a: 1 }, ['x'])).not.toBe(inputsHash({ a: 1 }, ['y']));
  });

  it('skips a finished unit with the same hash, reruns and wipes one whose inputs changed', async () => {
    const dir = join(await mkdtemp(join(tmpdir(), 'unit-')), 's');
    let calls = 0;
    const fn = async (d: string) => {
      calls++;
      await writeFile(join(d, `out-${calls}.txt`), 'x');
      return { calls };
    };
    const a = await runUnit(dir, 's', 'h1', fn);
    expect(a.skipped).toBeUndefined();
    const b = await runUnit(dir, 's', 'h1', fn);
    expect(b.skipped).toBe(true);
    expect(b.metrics).toEqual({ calls: 1 });
    expect(calls).toBe(1);
    const c = await runUnit(dir, 's', 'h2', fn);
    expect(c.metrics).toEqual({ calls: 2 });
    await expect(readFile(join(dir, 'out-1.txt'))).rejects.toThrow(/ENOENT/);
    expect(readDone(dir)?.inputsHash).toBe('h2');
  });

  it('a unit killed before done.json keeps its partial outputs when the hash is unchanged', async () => {
    const dir = join(await mkdtemp(join(tmpdir(), 'unit-')), 's');
    await expect(
      runUnit(dir, 's', 'h1', async (d) => {
        await writeFile(join(d, 'checkpoint'), 'step 5');
        throw new Error('killed');
      }),
    ).rejects.toThrow('killed');
    const r = await runUnit(dir, 's', 'h1', async (d) => ({
      resumed: await readFile(join(d, 'checkpoint'), 'utf8'),
    }));
    expect(r.metrics).toEqual({ resumed: 'step 5' });
  });
});
