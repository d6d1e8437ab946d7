// Code-grid files, the input of the AR trainer: `<split>.safetensors` with `codes` I32 [N,h,w] and
// `labels` I32 [N], plus `meta.json` { vocab, numClasses, height, width, dataset, classNames }.
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { atomicWriteFile, readSafetensors, writeSafetensors } from '@engram-ar/tensor/safetensors';
import { z } from 'zod';

export const CodesMetaSchema = z.object({
  vocab: z.number().int().positive(),
  numClasses: z.number().int().positive(),
  height: z.number().int().positive(),
  width: z.number().int().positive(),
  dataset: z.string(),
  classNames: z.array(z.string()).optional(),
  splits: z.array(z.string()).optional(),
});
export type CodesMeta = z.infer<typeof CodesMetaSchema>;

export interface CodeSplit {
  codes: Int32Array; // [N, h, w]
  labels: Int32Array; // [N]
}

export async function writeCodeGrids(
  dir: string,
  splits: Record<string, CodeSplit>,
  meta: CodesMeta,
): Promise<void> {
  await mkdir(dir, { recursive: true });
  const per = meta.height * meta.width;
  for (const [name, s] of Object.entries(splits)) {
    const n = s.labels.length;
    if (s.codes.length !== n * per) {
      throw new Error(`writeCodeGrids: split '${name}' has ${s.codes.length} codes, expected ${n} × ${per}`);
    }
    await writeSafetensors(
      join(dir, `${name}.safetensors`),
      {
        codes: { dtype: 'I32', shape: [n, meta.height, meta.width], data: s.codes },
        labels: { dtype: 'I32', shape: [n], data: s.labels },
      },
      { dataset: meta.dataset, split: name },
    );
  }
  const full = CodesMetaSchema.parse({ ...meta, splits: Object.keys(splits) });
  await atomicWriteFile(join(dir, 'meta.json'), `${JSON.stringify(full, null, 2)}\n`);
}

export async function readCodeGrids(dir: string, split: string): Promise<CodeSplit & { meta: CodesMeta }> {
  const meta = CodesMetaSchema.parse(JSON.parse(await readFile(join(dir, 'meta.json'), 'utf8')));
  const { tensors } = await readSafetensors(join(dir, `${split}.safetensors`));
  const codes = tensors.codes;
  const labels = tensors.labels;
  if (codes?.dtype !== 'I32' || labels?.dtype !== 'I32') {
    throw new Error(`readCodeGrids: ${dir}/${split}.safetensors needs I32 'codes' and 'labels'`);
  }
  return { codes: codes.data as Int32Array, labels: labels.data as Int32Array, meta };
}
