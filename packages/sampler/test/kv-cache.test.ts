import { expect, it } from 'vitest';
import { HostKvCache } from '../src/kv-cache.js';

it('HostKvCache appends rows at [b, h, length + j, :] and refuses to overflow', () => {
  const c = new HostKvCache(2, 3, 4, 5);
  const rows = (t: number, base: number) => Float32Array.from({ length: 2 * 3 * t * 4 }, (_, i) => base + i);
  c.append(rows(2, 0), rows(2, 1000), 2);
  c.append(rows(1, 500), rows(1, 1500), 1);
  expect(c.length).toBe(3);
  expect(Number(c.lengthTensor().data[0])).toBe(3);
  for (let bh = 0; bh < 6; bh++)
    for (let j = 0; j < 3; j++)
      for (let d = 0; d < 4; d++) {
        const want = j < 2 ? (bh * 2 + j) * 4 + d : 500 + bh * 4 + d;
        expect(c.key[(bh * 5 + j) * 4 + d]).toBe(want);
        expect(c.value[(bh * 5 + j) * 4 + d]).toBe(want + 1000);
      }
  expect(c.keyTensor.dims).toEqual([2, 3, 5, 4]);
  expect(() => c.append(rows(3, 0), rows(3, 0), 3)).toThrow(/exceed 5/);
});
