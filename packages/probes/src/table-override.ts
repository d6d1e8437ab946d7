// Table controls need the same graph with different Engram rows. The sampler has no table input
// (the table is the initialiser `engram.table` of the step graph), so the probes rewrite that one
// initialiser in the decoded ONNX protobuf and open a session on the new bytes, in memory. External
// data (large tables) is read and inlined, so the rewritten model is self-contained (limit: the
// whole model must then fit in one 2 GiB protobuf).
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { EngramTable, TABLE_TENSOR } from '@engram-ar/engram';
import { createSession, type SessionOptions } from '@engram-ar/onnx';
import type { LoadedModel } from '@engram-ar/sampler';
import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;
type TensorProto = InstanceType<typeof onnx.TensorProto>;

async function decodeModel(model: LoadedModel): Promise<InstanceType<typeof onnx.ModelProto>> {
  const bytes = await readFile(join(model.dir, model.manifest.onnx));
  return onnx.ModelProto.decode(bytes);
}

function findTable(proto: InstanceType<typeof onnx.ModelProto>, model: LoadedModel): TensorProto {
  const t = proto.graph?.initializer?.find((x) => x.name === TABLE_TENSOR) as TensorProto | undefined;
  if (!t) throw new Error(`${model.manifest.onnx}: no initialiser '${TABLE_TENSOR}' (not an Engram model?)`);
  if (t.dataType !== onnx.TensorProto.DataType.FLOAT)
    throw new Error(`${model.manifest.onnx}: '${TABLE_TENSOR}' is not float32`);
  return t;
}

/** Moves an initialiser's external bytes into raw_data. */
async function inline(t: TensorProto, dir: string): Promise<void> {
  if (t.dataLocation !== onnx.TensorProto.DataLocation.EXTERNAL) return;
  const get = (k: string) => t.externalData.find((e) => e.key === k)?.value;
  const location = get('location');
  if (!location) throw new Error(`initialiser '${t.name}': external data without a location`);
  const offset = Number(get('offset') ?? 0);
  const file = await readFile(join(dir, location));
  const length = Number(get('length') ?? file.length - offset);
  t.rawData = new Uint8Array(file.buffer, file.byteOffset + offset, length);
  t.externalData = [];
  t.dataLocation = onnx.TensorProto.DataLocation.DEFAULT;
}

function tableFloats(t: TensorProto): Float32Array {
  if (t.rawData && t.rawData.length > 0) {
    const copy = new Uint8Array(t.rawData); // aligned copy
    return new Float32Array(copy.buffer, 0, copy.length / 4);
  }
  return Float32Array.from(t.floatData);
}

/** The Engram table of an exported model: Float32Array [tableRows, dHead] (a copy). */
export async function readTable(model: LoadedModel): Promise<Float32Array> {
  const proto = await decodeModel(model);
  const t = findTable(proto, model);
  await inline(t, model.dir);
  const data = tableFloats(t);
  const e = model.manifest.engram!;
  if (data.length !== e.tableRows * e.dHead)
    throw new Error(`'${TABLE_TENSOR}': ${data.length} floats, manifest says [${e.tableRows}, ${e.dHead}]`);
  return data;
}

/**
 * The same model with its table replaced by `table` [tableRows, dHead]: a new in-memory session
 * (release it with `session.release()`); manifest, hash and dir are shared with `model`. The
 * result has no decode graph, so the sampler's `generate` uses the step graph with the new table.
 */
export async function withTable(
  model: LoadedModel,
  table: Float32Array,
  opts: SessionOptions = {},
): Promise<LoadedModel> {
  const e = model.manifest.engram;
  if (!e) throw new Error('withTable: the model has no Engram table');
  if (table.length !== e.tableRows * e.dHead)
    throw new Error(`withTable: table has ${table.length} floats, needs [${e.tableRows}, ${e.dHead}]`);
  const proto = await decodeModel(model);
  for (const t of proto.graph?.initializer ?? []) await inline(t as TensorProto, model.dir);
  const t = findTable(proto, model);
  t.floatData = [];
  t.rawData = new Uint8Array(table.buffer, table.byteOffset, table.byteLength);
  const session = await createSession(onnx.ModelProto.encode(proto).finish(), opts);
  // The decode graph (if loaded) still holds the old table: drop it so `generate` runs this session.
  return { ...model, session, decode: null };
}

export type TableControl = 'collapsed' | 'randomised';

/**
 * A table control (DESIGN.md E3) built with engram's own EngramTable methods on a copy of the
 * rows: 'collapsed' = every row of each head block is that block's mean row; 'randomised' = rows
 * redrawn ~ N(mean, std²) of their block, per dimension, from `seed`.
 */
export async function controlTable(
  model: LoadedModel,
  kind: TableControl,
  seed: number | string = 0,
): Promise<Float32Array> {
  if (!model.hash) throw new Error('controlTable: the model has no Engram table');
  const table = new EngramTable(model.hash, { data: await readTable(model) });
  if (kind === 'collapsed') table.collapse();
  else table.randomise(seed);
  return table.data;
}
