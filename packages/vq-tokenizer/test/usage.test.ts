import { describe, expect, it } from 'vitest';
import { CodeUsage, codeStats } from '../src/usage.js';

describe('CodeUsage', () => {
  it('perplexity is exp(entropy): uniform over m codes gives m', () => {
    const u = new CodeUsage(8, 3);
    expect(u.observe(Int32Array.of(0, 1, 2, 3))).toBeCloseTo(4, 12);
    expect(u.observe(Int32Array.of(5, 5, 5, 5))).toBeCloseTo(1, 12);
  });

  it('declares codes dead after `window` unused steps; reset gives a fresh window; usage ignores restarts', () => {
    const u = new CodeUsage(4, 2);
    u.observe(Int32Array.of(0, 1));
    expect(u.usage()).toBe(0.5);
    expect(u.dead()).toEqual([]);
    u.observe(Int32Array.of(0));
    expect(u.dead()).toEqual([2, 3]);
    expect(u.usage()).toBe(0.5); // code 1 was used one step ago
    u.reset(2);
    u.observe(Int32Array.of(0));
    expect(u.dead()).toEqual([1, 3]);
    expect(u.usage()).toBe(0.25);
    const v = new CodeUsage(4, 2);
    v.load(u.state());
    expect(v.dead()).toEqual(u.dead());
    expect(v.usage()).toBe(u.usage());
  });

  it('codeStats counts the vocabulary used', () => {
    const s = codeStats(Int32Array.of(0, 0, 1, 3), 8);
    expect(s.usage).toBe(3 / 8);
    expect(s.perplexity).toBeCloseTo(Math.exp(-(0.5 * Math.log(0.5) + 2 * 0.25 * Math.log(0.25))), 12);
  });
});
