import { describe, expect, it } from 'vitest';
import { PRESETS, parseTokenizerConfig, presetConfig } from '../src/config.js';

describe('TokenizerConfig', () => {
  it('presets parse and fill training defaults', () => {
    for (const name of Object.keys(PRESETS) as (keyof typeof PRESETS)[]) {
      const c = presetConfig(name);
      expect(c.train.beta).toBe(0.25);
      expect(c.arch.channelMult.length).toBe(Math.log2(c.arch.downsample) + 1);
    }
    expect(presetConfig('small', { channels: 3 }).arch.channels).toBe(3);
  });

  it('names the offending field', () => {
    const base = presetConfig('quickstart');
    expect(() => parseTokenizerConfig({ ...base, arch: { ...base.arch, downsample: 6 } })).toThrow(
      /arch\.downsample: must be a power of two/,
    );
    expect(() => parseTokenizerConfig({ ...base, arch: { ...base.arch, channelMult: [1, 2] } })).toThrow(
      /arch\.channelMult: needs log2\(downsample\) \+ 1 = 3 entries/,
    );
    expect(() => parseTokenizerConfig({ ...base, arch: { ...base.arch, normGroups: 3 } })).toThrow(
      /arch\.channelMult\.0: .* not divisible by normGroups = 3/,
    );
    expect(() => parseTokenizerConfig({ ...base, train: { ...base.train, lr: -1 } })).toThrow(/train\.lr/);
  });
});
