// Calibration models for the probes: tiny step graphs with hand-set weights, built with the sampler's
// own step-graph writer (no tfjs), whose use of the Engram memory is known by construction — the
// probes' positive and negative controls (the tests use them; so can anyone checking a probe setup):
//   'retrieval': token/class embeddings, attention and MLP are all zero, so h = α·v(e) and the
//                logits are a function of the retrieved rows alone (donor swaps must move them);
//   'ignores-table': w_v = 0, so the Engram output is 0 whatever the rows; the logits depend on the
//                previous code only (donors and table controls must give KL = 0 exactly).
import { buildHashSpec, hashSpecToJSON } from '@engram-ar/engram';
import {
  MANIFEST_FORMAT,
  type ModelManifest,
  type StepWeights,
  stepIoNames,
  writeStepModel,
} from '@engram-ar/sampler';
import { Rng } from '@engram-ar/tensor/rng';

export type ControlModelKind = 'retrieval' | 'ignores-table';

export interface ControlModelOptions {
  kind: ControlModelKind;
  vocab?: number;
  numClasses?: number;
  height?: number;
  width?: number;
  seed?: number;
  /** Initialisers of at least this many bytes go to external data (the sampler's writer option). */
  externalDataThreshold?: number;
}

/** Writes `dir/model.onnx` + `dir/model.json` (4×4 grids, vocab 6, 2 classes by default). */
export async function writeControlModel(dir: string, o: ControlModelOptions): Promise<ModelManifest> {
  const V = o.vocab ?? 6;
  const C = o.numClasses ?? 2;
  const Hg = o.height ?? 4;
  const Wg = o.width ?? 4;
  const D = 8;
  const nHead = 2;
  const Dh = D / nHead;
  const hm = 8;
  const rng = new Rng(o.seed ?? 1);
  const spec = buildHashSpec({
    layers: [0],
    stencils: [['L', 'U']],
    heads: 2,
    tableRows: 17,
    dHead: 4,
    vocab: V,
  });
  const SK = spec.numStencils * spec.heads;
  const E = SK * spec.config.dHead;
  const zeros = (shape: number[]) => ({ shape, data: new Float32Array(shape.reduce((a, b) => a * b, 1)) });
  const ones = (n: number) => ({ shape: [n], data: new Float32Array(n).fill(1) });
  const rand = (shape: number[], std: number) => ({
    shape,
    data: rng.fillNormal(new Float32Array(shape.reduce((a, b) => a * b, 1)), 0, std),
  });
  const w: StepWeights = {
    tok_emb: o.kind === 'retrieval' ? zeros([V, D]) : rand([V, D], 1),
    cls_emb: zeros([C + 1, D]),
    'blocks.0.attn_norm': ones(D),
    'blocks.0.mlp_norm': ones(D),
    'blocks.0.wq': zeros([D, D]),
    'blocks.0.wk': zeros([D, D]),
    'blocks.0.wv': zeros([D, D]),
    'blocks.0.wo': zeros([D, D]),
    'blocks.0.w1': zeros([D, hm]),
    'blocks.0.w3': zeros([D, hm]),
    'blocks.0.w2': zeros([hm, D]),
    'engram.0.w_k': rand([E, D], 0.5),
    'engram.0.w_v': o.kind === 'retrieval' ? rand([E, D], 0.5) : zeros([E, D]),
    'engram.0.norm_h': ones(D),
    'engram.0.norm_k': ones(D),
    norm_f: ones(D),
    head: rand([D, V], 2),
  };
  const T = Hg * Wg;
  const rope = {
    cos: new Float32Array(T * D).fill(1),
    sin: new Float32Array(T * D),
    block: Dh / 4,
  };
  const engram = {
    config: spec.config as unknown as Record<string, unknown>,
    hash: hashSpecToJSON(spec),
    layers: [0],
    rowsPerLayer: SK,
    dHead: spec.config.dHead,
    tableRows: spec.totalRows,
    conv: null,
  };
  const manifest: ModelManifest = {
    format: MANIFEST_FORMAT,
    onnx: 'model.onnx',
    decode: null,
    grid: { height: Hg, width: Wg },
    vocab: V,
    numClasses: C,
    nullClass: C,
    classTokenOffset: V,
    nLayer: 1,
    nHead,
    headDim: Dh,
    dim: D,
    maxSeq: T,
    engram,
    opset: 17,
    attention: 'plain',
    io: stepIoNames({ nLayer: 1, engram }),
    meta: { controlModel: o.kind },
  };
  const table = rng.split('table').fillNormal(new Float32Array(spec.totalRows * spec.config.dHead));
  return writeStepModel(dir, {
    manifest,
    weights: w,
    rope,
    table,
    normEps: 1e-5,
    externalDataThreshold: o.externalDataThreshold,
  });
}

/** Random code grids [n, H, W] with labels alternating over classes. */
export function randomGrids(n: number, cells: number, vocab: number, classes: number, seed: number) {
  const rng = new Rng(seed);
  const codes = new Int32Array(n * cells);
  for (let i = 0; i < codes.length; i++) codes[i] = rng.int(vocab);
  const labels = Int32Array.from({ length: n }, (_, i) => i % classes);
  return { codes, labels };
}
