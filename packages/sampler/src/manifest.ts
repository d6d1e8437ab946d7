// model.json: the manifest written beside every exported model.onnx. It is the whole contract
// between the exporter (ar-backbone) and everything that runs the graph (sampler, probes), so
// the sampler validates it with zod before opening a session.
import { readFile } from 'node:fs/promises';
import { z } from 'zod';

export const MANIFEST_FORMAT = 'engram-ar-step/1';

const nat = z.number().int().nonnegative();
const pos = z.number().int().positive();
const u32 = z.number().int().min(0).max(0xffffffff);

/** Mirrors @engram-ar/engram's HashSpecJSON; the sampler re-derives the spec and checks it matches. */
export const HashSpecJsonSchema = z.object({
  seed: z.union([z.number(), z.string()]),
  stencils: z.array(z.union([z.array(z.enum(['L', 'U', 'UL', 'UR'])), z.array(pos)])),
  layers: z.array(nat).min(1),
  heads: pos,
  vocab: pos,
  pad: nat,
  classKeyed: z.boolean(),
  tableRows: pos,
  totalRows: pos,
  /** [Le, S, keyWidth] odd uint32 multipliers, flat. */
  multipliers: z.array(u32),
  /** [Le, S, K] head moduli (distinct primes), flat. */
  primes: z.array(pos),
  /** [Le, S, K] first global row of each head's block, flat. */
  offsets: z.array(nat),
});

export const EngramManifestSchema = z.object({
  /** The engram package's config (validated again by its own schema when the hasher is rebuilt). */
  config: z.record(z.string(), z.unknown()),
  /** The hash constants the table was trained with, checked against a fresh build of `config`. */
  hash: HashSpecJsonSchema,
  /** Backbone layers (0-based) that start with an Engram fusion block, in `engram_rows` order. */
  layers: z.array(nat).min(1),
  /** Row ids per position per Engram layer: S·K, the last dim of `engram_rows`. */
  rowsPerLayer: pos,
  /** Width of one table row. */
  dHead: pos,
  /** Rows of the table initialiser `engram.table` [tableRows, dHead]. */
  tableRows: pos,
  /**
   * Short causal depthwise conv after the gate, or null. When present the graph has an input
   * `conv_state.{l}` [B, (kernel-1)·dilation, dim] per Engram layer l (index into `layers`) and an
   * output `present_conv_state.{l}`: the conv's last (kernel-1)·dilation inputs, zeros before the
   * first token.
   */
  conv: z.object({ kernel: pos, dilation: pos }).nullable(),
});

export const ModelManifestSchema = z
  .object({
    format: z.literal(MANIFEST_FORMAT),
    /** The ONNX file beside this manifest. */
    onnx: z.string().min(1),
    /** External data file of the table (absent when everything is inside the .onnx). */
    externalData: z.string().min(1).optional(),
    /**
     * The fast decode graph beside the step graph (same weights, same external data file) that
     * reads a host-owned KV cache of `maxLength` slots; its I/O are `decodeIoNames(manifest)`.
     */
    decode: z
      .object({ onnx: z.string().min(1), maxLength: pos })
      .nullable()
      .default(null),
    grid: z.object({ height: pos, width: pos }),
    /** Codebook size V: code ids 0..V-1 and logits width. */
    vocab: pos,
    numClasses: pos,
    /** Class id used for the unconditional half of CFG (= numClasses). */
    nullClass: nat,
    /**
     * input_ids value of class c: classTokenOffset + c (so code ids and class tokens share one
     * embedding matrix [vocab + numClasses + 1, dim] in the graph).
     */
    classTokenOffset: nat,
    nLayer: pos,
    nHead: pos,
    headDim: pos,
    dim: pos,
    /** Longest sequence the RoPE tables cover: height·width (class token + all but the last code). */
    maxSeq: pos,
    engram: EngramManifestSchema.nullable(),
    opset: pos,
    /** How attention was lowered: plain ai.onnx ops or com.microsoft contrib ops. */
    attention: z.enum(['plain', 'contrib']),
    io: z.object({
      inputs: z.array(z.string()),
      outputs: z.array(z.string()),
    }),
    /** Free-form provenance (checkpoint path, step, exporter version, …). */
    meta: z.record(z.string(), z.string()).default({}),
  })
  .superRefine((m, ctx) => {
    if (m.nullClass !== m.numClasses)
      ctx.addIssue({
        code: 'custom',
        path: ['nullClass'],
        message: `must equal numClasses (${m.numClasses})`,
      });
    if (m.classTokenOffset < m.vocab)
      ctx.addIssue({ code: 'custom', path: ['classTokenOffset'], message: `must be ≥ vocab (${m.vocab})` });
    if (m.maxSeq < m.grid.height * m.grid.width)
      ctx.addIssue({ code: 'custom', path: ['maxSeq'], message: 'must cover height·width positions' });
    const e = m.engram;
    if (!e) return;
    e.layers.forEach((l, i) => {
      if (l >= m.nLayer)
        ctx.addIssue({
          code: 'custom',
          path: ['engram', 'layers', i],
          message: `layer ${l} ≥ nLayer ${m.nLayer}`,
        });
    });
    if (e.hash.layers.join() !== e.layers.join())
      ctx.addIssue({
        code: 'custom',
        path: ['engram', 'hash', 'layers'],
        message: 'must equal engram.layers',
      });
    if (e.hash.stencils.length * e.hash.heads !== e.rowsPerLayer)
      ctx.addIssue({
        code: 'custom',
        path: ['engram', 'rowsPerLayer'],
        message: 'must equal S·K of the hash',
      });
    if (e.hash.totalRows !== e.tableRows)
      ctx.addIssue({ code: 'custom', path: ['engram', 'tableRows'], message: 'must equal hash.totalRows' });
    if (e.hash.pad !== m.vocab)
      ctx.addIssue({
        code: 'custom',
        path: ['engram', 'hash', 'pad'],
        message: `must equal vocab (${m.vocab})`,
      });
  });

export type EngramManifest = z.output<typeof EngramManifestSchema>;
export type ModelManifest = z.output<typeof ModelManifestSchema>;
export type ModelManifestInput = z.input<typeof ModelManifestSchema>;

/** Validates a manifest; throws one Error listing every problem as `path: message`. */
export function parseManifest(input: unknown): ModelManifest {
  const r = ModelManifestSchema.safeParse(input);
  if (!r.success) {
    const lines = r.error.issues.map((i) => `${i.path.length ? i.path.join('.') : '(root)'}: ${i.message}`);
    throw new Error(`invalid model.json:\n  ${lines.join('\n  ')}`);
  }
  return r.data;
}

export async function readManifest(path: string): Promise<ModelManifest> {
  return parseManifest(JSON.parse(await readFile(path, 'utf8')));
}

/** Number of Engram rows per position per layer (S·K), the last dim of `engram_rows`. */
export function rowsPerLayer(m: ModelManifest): number {
  return m.engram ? m.engram.rowsPerLayer : 0;
}

/** The decode graph's I/O names: the step graph's with host-cache tensors instead of past/present. */
export function decodeIoNames(m: {
  nLayer: number;
  engram: { layers: readonly number[]; conv: unknown } | null;
}): { inputs: string[]; outputs: string[] } {
  const { inputs, outputs } = stepIoNames(m);
  const keep = (n: string) => !n.startsWith('past_key_values.') && !n.startsWith('present.');
  const cacheIn: string[] = [];
  const cacheOut: string[] = [];
  for (let i = 0; i < m.nLayer; i++) {
    cacheIn.push(`key_cache.${i}`, `value_cache.${i}`);
    cacheOut.push(`new_key.${i}`, `new_value.${i}`);
  }
  return {
    inputs: [...inputs.filter(keep), ...cacheIn, 'past_length'],
    outputs: [...outputs.filter(keep), ...cacheOut],
  };
}

/** The step graph's I/O names, in the order the exporter declares them. */
export function stepIoNames(m: {
  nLayer: number;
  engram: { layers: readonly number[]; conv: unknown } | null;
}): { inputs: string[]; outputs: string[] } {
  const inputs = ['input_ids', 'position_ids'];
  const outputs = ['logits'];
  if (m.engram) {
    inputs.push('engram_rows', 'gate_clamp');
    outputs.push('engram_gate');
  }
  for (let i = 0; i < m.nLayer; i++) {
    inputs.push(`past_key_values.${i}.key`, `past_key_values.${i}.value`);
    outputs.push(`present.${i}.key`, `present.${i}.value`);
  }
  if (m.engram?.conv) {
    for (let l = 0; l < m.engram.layers.length; l++) {
      inputs.push(`conv_state.${l}`);
      outputs.push(`present_conv_state.${l}`);
    }
  }
  return { inputs, outputs };
}
