// `loadDataset(spec)`: one entry point over every source, the spec validated with zod so a bad config
// names the offending field.
import { z } from 'zod';
import type { DatasetSplits } from './dataset.js';
import { loadFashionMnist } from './fashion-mnist.js';
import { loadMnist } from './mnist.js';

const seed = z.union([z.number().int(), z.string()]).optional();
const count = z.number().int().nonnegative().optional();

export const datasetSpecSchema = z.discriminatedUnion('name', [
  z.object({ name: z.literal('mnist'), seed, testCount: count, trainCount: count }).strict(),
  z
    .object({
      name: z.literal('fashion-mnist'),
      dir: z.string().optional(),
      seed,
      testCount: count,
      trainCount: count,
    })
    .strict(),
]);

export type DatasetSpec = z.input<typeof datasetSpecSchema>;

function parseSpec(spec: unknown) {
  const r = datasetSpecSchema.safeParse(spec);
  if (!r.success) {
    const issue = r.error.issues[0]!;
    throw new Error(`loadDataset: spec.${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  return r.data;
}

export async function loadDataset(spec: DatasetSpec): Promise<DatasetSplits> {
  const s = parseSpec(spec);
  switch (s.name) {
    case 'mnist':
      return loadMnist(s);
    case 'fashion-mnist':
      return loadFashionMnist(s);
  }
}
