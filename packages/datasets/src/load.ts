// `loadDataset(spec)`: one entry point over every source, the spec validated with zod so a bad config
// names the offending field.
import { z } from 'zod';
import type { DatasetSplits } from './dataset.js';
import { loadFashionMnist } from './fashion-mnist.js';
import { loadFolder } from './folder.js';
import { loadMnist } from './mnist.js';
import { makeRuleTextures, ruleTextureConfigSchema } from './rule-textures.js';

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
  z
    .object({
      name: z.literal('folder'),
      dir: z.string(),
      size: z
        .union([
          z.number().int().positive(),
          z.tuple([z.number().int().positive(), z.number().int().positive()]),
        ])
        .optional(),
      channels: z.union([z.literal(1), z.literal(3)]).optional(),
      testDir: z.string().optional(),
      testCount: count,
      seed,
    })
    .strict(),
  ruleTextureConfigSchema.extend({ name: z.literal('rule-textures') }).strict(),
]);

export type DatasetSpec = z.input<typeof datasetSpecSchema>;

function parseSpec(spec: unknown) {
  const r = datasetSpecSchema.safeParse(spec);
  if (!r.success) {
    const issue = r.error.issues[0]!;
    const path = [...issue.path, ...(issue.code === 'unrecognized_keys' ? issue.keys.slice(0, 1) : [])];
    const name = (spec as { name?: unknown } | null)?.name;
    const message =
      issue.code === 'unrecognized_keys' ? `not a field of the '${String(name)}' spec` : issue.message;
    throw new Error(`loadDataset: spec.${path.join('.') || '(root)'}: ${message}`);
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
    case 'folder':
      return loadFolder(s);
    case 'rule-textures': {
      const { name: _, ...cfg } = s;
      const t = makeRuleTextures(cfg);
      return { train: t.train.rendered, test: t.test.rendered };
    }
  }
}
