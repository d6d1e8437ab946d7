// report.md + a self-contained report.html (plots as inline SVG rendered by vega-lite/vega in
// headless 'none' renderer mode, images as PNG data URIs) from a run folder's stage records.
import { existsSync, readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { atomicWriteFile } from '@engram-ar/tensor/safetensors';
import * as vega from 'vega';
import * as vl from 'vega-lite';
import type { RunConfig } from './config.js';
import type { Done } from './stage.js';

interface VariantInfo {
  name: string;
  rho: number;
  frozen: boolean;
}

export interface ReportInput {
  dir: string;
  config: RunConfig;
  stages: Record<string, Done<unknown>>;
  variants: readonly VariantInfo[];
}

interface CI {
  mean?: number | null;
  value?: number | null;
  low?: number | null;
  high?: number | null;
}
type Interval = { low: number; high: number };

interface MetricsRow {
  label: string;
  count: number;
  fid: number;
  fidCI?: Interval;
  is?: number;
  isCI?: Interval;
  precision?: number;
  recall?: number;
  classConsistency?: number;
}

interface TrainRow {
  finalBitsPerCode: number;
  trainSeconds: number;
  steps: number;
  rho: number;
  params: { backbone: number; memory: number; total: number; rho: number };
  flopsPerCode: number;
  backend?: string;
  config: { nLayer: number; dim: number; mlpHidden: number; engram: { tableRows: number } | null };
}

const fmt = (x: number | null | undefined, d = 3): string =>
  x === null || x === undefined || !Number.isFinite(x) ? 'n/a' : Number(x.toPrecision(d)).toString();
const fmtCI = (m: number | null | undefined, lo?: number | null, hi?: number | null, d = 3) =>
  lo === undefined || lo === null || hi === undefined || hi === null
    ? fmt(m, d)
    : `${fmt(m, d)} [${fmt(lo, d)}, ${fmt(hi, d)}]`;
const fmtInt = (x: number) => Math.round(x).toLocaleString('en-US');

function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** Renders a vega-lite spec to an SVG string (no DOM, no canvas). */
export async function renderSvg(spec: vl.TopLevelSpec): Promise<string> {
  const compiled = vl.compile({
    ...spec,
    config: { font: 'sans-serif', ...(spec.config ?? {}) },
  } as vl.TopLevelSpec);
  const view = new vega.View(vega.parse(compiled.spec), { renderer: 'none' });
  const svg = await view.toSVG();
  view.finalize();
  return svg;
}

const SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json';

interface Plot {
  id: string;
  title: string;
  svg: string;
}

interface Table {
  head: string[];
  rows: string[][];
}

interface Section {
  title: string;
  text: string[];
  tables: Table[];
  plots: Plot[];
  images: { title: string; path: string }[];
}

function mdTable(t: Table): string {
  return [
    `| ${t.head.join(' | ')} |`,
    `| ${t.head.map(() => '---').join(' | ')} |`,
    ...t.rows.map((r) => `| ${r.join(' | ')} |`),
  ].join('\n');
}

function htmlTable(t: Table): string {
  return `<table><thead><tr>${t.head.map((h) => `<th>${escapeHtml(h)}</th>`).join('')}</tr></thead><tbody>${t.rows
    .map((r) => `<tr>${r.map((c) => `<td>${escapeHtml(c)}</td>`).join('')}</tr>`)
    .join('')}</tbody></table>`;
}

/**
 * Version of an installed package: its package.json, found upward from the entry resolved from this
 * app (or from `from`, a package that depends on it).
 */
function packageVersion(name: string, from?: string): string | null {
  try {
    const base = from
      ? pathToFileURL(join(dirname(fileURLToPath(import.meta.resolve(from))), 'x.js')).href
      : undefined;
    let dir = dirname(base ? createRequire(base).resolve(name) : fileURLToPath(import.meta.resolve(name)));
    for (;;) {
      const p = join(dir, 'package.json');
      if (existsSync(p)) {
        const j = JSON.parse(readFileSync(p, 'utf8')) as { name?: string; version?: string };
        if (j.name === name) return j.version ?? null;
      }
      const up = dirname(dir);
      if (up === dir) return null;
      dir = up;
    }
  } catch {
    return null;
  }
}

function versions(): Record<string, string> {
  const out: Record<string, string> = { node: process.version };
  for (const p of [
    '@engram-ar/experiments',
    '@engram-ar/ar-backbone',
    '@engram-ar/sampler',
    '@engram-ar/probes',
    'onnxruntime-node',
    'vega',
    'vega-lite',
  ]) {
    const v = packageVersion(p, p === 'onnxruntime-node' ? '@engram-ar/onnx' : undefined);
    if (v) out[p] = v;
  }
  return out;
}

/** A probe record's FID entry (keyed by the metric's label; older records used 'fid'). */
function sampleFid(samples: Record<string, CI> | null, label: string): string {
  const f = samples?.[label] ?? samples?.fid;
  if (!f) return '—';
  const x = ciOf(f);
  return fmtCI(x.m, x.lo, x.hi);
}

function ciOf(x: CI | null | undefined): { m: number | null; lo: number | null; hi: number | null } {
  return { m: x?.mean ?? x?.value ?? null, lo: x?.low ?? null, hi: x?.high ?? null };
}

export async function buildSections(input: ReportInput): Promise<Section[]> {
  const { stages, config: c } = input;
  const sections: Section[] = [];
  const train = stages.train?.metrics as Record<string, TrainRow> | undefined;
  const metrics = stages.metrics?.metrics as Record<string, MetricsRow> | undefined;
  const label = metrics ? (Object.values(metrics)[0]?.label ?? 'classifier-FID') : 'classifier-FID';

  // ── E1 ──
  if (train && metrics) {
    const rows = input.variants.map((v) => ({ v, t: train[v.name]!, m: metrics[v.name]! }));
    const table: Table = {
      head: [
        'variant',
        'ρ',
        'params (backbone + table)',
        'layers × dim',
        'FLOPs/code',
        `${label} [95% CI]`,
        'IS [95% CI]',
        'precision',
        'recall',
        'class consistency',
        'held-out NLL (bits/code)',
      ],
      rows: rows.map(({ v, t, m }) => [
        v.name,
        fmt(t.params.rho, 3),
        `${fmtInt(t.params.total)} (${fmtInt(t.params.backbone)} + ${fmtInt(t.params.memory)})`,
        `${t.config.nLayer} × ${t.config.dim}`,
        fmtInt(t.flopsPerCode),
        fmtCI(m.fid, m.fidCI?.low, m.fidCI?.high),
        fmtCI(m.is, m.isCI?.low, m.isCI?.high),
        fmt(m.precision),
        fmt(m.recall),
        fmt(m.classConsistency),
        fmt(t.finalBitsPerCode, 4),
      ]),
    };
    const base = rows.find((r) => r.v.name === 'baseline');
    const points = rows
      .filter((r) => r.v.name !== 'baseline')
      .map((r) => ({
        // the frozen twin shares its variant's ρ: drawn a little to the right so both stay visible
        rho: r.t.params.rho + (r.v.frozen ? 0.015 : 0),
        fid: r.m.fid,
        low: r.m.fidCI?.low ?? r.m.fid,
        high: r.m.fidCI?.high ?? r.m.fid,
        kind: r.v.frozen ? 'frozen table' : 'Engram',
      }));
    // the baseline line must not sit on the axis: pad the domain around every point, CI and the baseline
    const ys = [...points.flatMap((p) => [p.low, p.high]), ...(base ? [base.m.fid] : [])];
    const span = Math.max(...ys) - Math.min(...ys) || 1;
    const fidDomain = [Math.max(0, Math.min(...ys) - 0.08 * span), Math.max(...ys) + 0.08 * span];
    const layers: unknown[] = [
      {
        data: { values: points },
        mark: { type: 'rule' },
        encoding: {
          x: {
            field: 'rho',
            type: 'quantitative',
            title: 'ρ = backbone / total params',
            scale: { domain: [0, 1] },
          },
          y: { field: 'low', type: 'quantitative', title: label, scale: { zero: false, domain: fidDomain } },
          y2: { field: 'high' },
          color: { field: 'kind', type: 'nominal', title: null },
        },
      },
      {
        data: { values: points },
        mark: { type: 'point', filled: true, size: 70 },
        encoding: {
          x: { field: 'rho', type: 'quantitative' },
          y: { field: 'fid', type: 'quantitative' },
          color: { field: 'kind', type: 'nominal', title: null },
        },
      },
    ];
    if (base)
      layers.push({
        data: { values: [{ fid: base.m.fid, label: `baseline ${fmt(base.m.fid)}` }] },
        mark: { type: 'rule', strokeDash: [6, 4], color: 'black' },
        encoding: { y: { field: 'fid', type: 'quantitative' } },
      });
    const svg = await renderSvg({
      $schema: SCHEMA,
      title: `E1: ${label} vs ρ (dashed: baseline, ρ = 1)`,
      width: 420,
      height: 260,
      layer: layers,
    } as vl.TopLevelSpec);
    const worse = base
      ? rows.filter((r) => r.v.name !== 'baseline' && !r.v.frozen && r.m.fid > base.m.fid).length
      : 0;
    const engramCount = rows.filter((r) => r.v.name !== 'baseline' && !r.v.frozen).length;
    sections.push({
      title: 'E1 — budget sweep',
      text: [
        `Every variant is solved to ${fmtInt(c.ar.totalParams)} total parameters; ρ is the backbone share (the table counts as memory).`,
        `${label} is computed with ${label === 'FID' ? 'the given Inception extractor' : 'features of a small CNN classifier trained on the real train split'}, ${c.sampling.n} samples per variant, 95 % bootstrap CIs (${c.metrics.bootstrap} replicates).`,
        base
          ? `${worse} of ${engramCount} Engram variants have a higher ${label} than the baseline (${fmt(base.m.fid)}).`
          : '',
      ].filter(Boolean),
      tables: [table],
      plots: [{ id: 'e1', title: `${label} vs ρ`, svg }],
      images: [],
    });
  }

  // ── E2 ──
  const e2 = stages['e2-gate-clamp']?.metrics as
    | {
        variant: string;
        settings: {
          name: string;
          clamp: number | null;
          bitsPerCode: CI;
          deltaVsLearned: CI | null;
          pVsLearned: number | null;
          samples: Record<string, CI> | null;
        }[];
        gates: { layer: number; mean: number; std: number }[];
      }
    | undefined;
  if (e2) {
    const learned = e2.settings.find((s) => s.clamp === null);
    const pts = e2.settings
      .filter((s) => s.clamp !== null)
      .map((s) => {
        const b = ciOf(s.bitsPerCode);
        return { g: s.clamp, bits: b.m, low: b.lo ?? b.m, high: b.hi ?? b.m };
      });
    const lb = ciOf(learned?.bitsPerCode);
    const svg = await renderSvg({
      $schema: SCHEMA,
      title: `E2: gate clamp on ${e2.variant} (dashed: learned gate)`,
      width: 420,
      height: 260,
      layer: [
        {
          data: { values: pts },
          mark: { type: 'line', point: true },
          encoding: {
            x: { field: 'g', type: 'quantitative', title: 'clamped gate g' },
            y: {
              field: 'bits',
              type: 'quantitative',
              title: 'held-out NLL (bits/code)',
              scale: { zero: false },
            },
          },
        },
        {
          data: { values: pts },
          mark: 'rule',
          encoding: {
            x: { field: 'g', type: 'quantitative' },
            y: { field: 'low', type: 'quantitative' },
            y2: { field: 'high' },
          },
        },
        ...(lb.m !== null
          ? [
              {
                data: { values: [{ bits: lb.m }] },
                mark: { type: 'rule', strokeDash: [6, 4], color: 'black' },
                encoding: { y: { field: 'bits', type: 'quantitative' } },
              },
            ]
          : []),
      ],
    } as vl.TopLevelSpec);
    const hasSamples = e2.settings.some((s) => s.samples);
    sections.push({
      title: 'E2 — gate clamp',
      text: [
        `Every Engram gate of ${e2.variant} replaced by a constant g; held-out NLL on the same grids, paired Δ vs the learned gate with a permutation test.`,
        `Learned gate: ${e2.gates.map((x) => `layer ${x.layer} mean ${fmt(x.mean)} ± ${fmt(x.std)}`).join('; ')}.`,
      ],
      tables: [
        {
          head: [
            'gate',
            'bits/code [95% CI]',
            'Δ vs learned [95% CI]',
            'p',
            ...(hasSamples ? [label, 'IS'] : []),
          ],
          rows: e2.settings.map((s) => {
            const b = ciOf(s.bitsPerCode);
            const d = ciOf(s.deltaVsLearned);
            return [
              s.name,
              fmtCI(b.m, b.lo, b.hi, 4),
              s.deltaVsLearned ? fmtCI(d.m, d.lo, d.hi, 3) : '—',
              s.pVsLearned === null ? '—' : fmt(s.pVsLearned, 3),
              ...(hasSamples
                ? [sampleFid(s.samples, label), s.samples?.is ? fmt(ciOf(s.samples.is).m) : '—']
                : []),
            ];
          }),
        },
      ],
      plots: [{ id: 'e2', title: 'gate clamp', svg }],
      images: [],
    });
  }

  // ── E3 ──
  const e3 = stages['e3-donor']?.metrics as
    | {
        variant: string;
        conditions: { name: string; kind: string; kl: CI; js: CI; rowsChanged: number }[];
        comparisons: { a: string; b: string; metric: string; pValue: number; cohensD: number | null }[];
        ratios: { numerator: string; denominator: string; ratio: CI }[];
      }
    | undefined;
  if (e3) sections.push(await donorSection('E3 — donor probe', e3.variant, e3));

  // ── E4 ──
  const e4 = stages['e4-frozen-table']?.metrics as
    | {
        learned: string;
        frozen: string;
        learnedBitsPerCode: CI;
        frozenBitsPerCode: CI;
        deltaBitsPerCode: CI;
        pBitsPerCode: number;
        learnedFid: number;
        frozenFid: number;
        deltaFid: number;
        learnedIs: number | null;
        frozenIs: number | null;
        deltaIs: number | null;
      }
    | undefined;
  if (e4) {
    const d = ciOf(e4.deltaBitsPerCode);
    const svg = await renderSvg({
      $schema: SCHEMA,
      title: 'E4: learned vs frozen-N(0,1) table',
      data: {
        values: [
          { model: 'learned', metric: label, value: e4.learnedFid },
          { model: 'frozen', metric: label, value: e4.frozenFid },
          ...(e4.learnedIs !== null && e4.frozenIs !== null
            ? [
                { model: 'learned', metric: 'IS', value: e4.learnedIs },
                { model: 'frozen', metric: 'IS', value: e4.frozenIs },
              ]
            : []),
        ],
      },
      facet: { column: { field: 'metric', type: 'nominal', title: null } },
      spec: {
        width: 160,
        height: 200,
        mark: 'bar',
        encoding: {
          x: { field: 'model', type: 'nominal', title: null },
          y: { field: 'value', type: 'quantitative', title: null },
          color: { field: 'model', type: 'nominal', legend: null },
        },
      },
      resolve: { scale: { y: 'independent' } },
    } as vl.TopLevelSpec);
    sections.push({
      title: 'E4 — frozen-noise table',
      text: [
        `${e4.frozen} is ${e4.learned} trained from scratch with the same seed schedule and its table frozen to N(0, 1).`,
      ],
      tables: [
        {
          head: ['quantity', 'learned', 'frozen', 'Δ (frozen − learned)'],
          rows: [
            [label, fmt(e4.learnedFid), fmt(e4.frozenFid), fmt(e4.deltaFid)],
            ['IS', fmt(e4.learnedIs), fmt(e4.frozenIs), fmt(e4.deltaIs)],
            [
              'held-out bits/code',
              fmt(ciOf(e4.learnedBitsPerCode).m, 4),
              fmt(ciOf(e4.frozenBitsPerCode).m, 4),
              `${fmtCI(d.m, d.lo, d.hi)} (p = ${fmt(e4.pBitsPerCode)})`,
            ],
          ],
        },
      ],
      plots: [{ id: 'e4', title: 'learned vs frozen', svg }],
      images: [],
    });
  }

  // ── E5 ──
  const e5 = stages['e5-positive-control']?.metrics as
    | {
        engramBitsPerCode: number;
        baselineBitsPerCode: number;
        uniformBitsPerCode: number;
        verdict: {
          matchedVsRandomP: number | null;
          minControlRatio: number | null;
          retrievalDetected: boolean;
          criteria: { pBelow: number; ratioAtLeast: number };
        };
        gateClamp: { name: string; clamp: number | null; bitsPerCode: CI }[];
        donor: { name: string; kind: string; kl: CI; js?: CI }[];
        comparisons: { a: string; b: string; pValue: number; metric?: string; cohensD?: number | null }[];
        ratios: { numerator: string; denominator: string; ratio: CI }[];
      }
    | undefined;
  if (e5) {
    const bitsSvg = await renderSvg({
      $schema: SCHEMA,
      title: 'E5: rule textures, held-out bits/code',
      width: 220,
      height: 200,
      data: {
        values: [
          { model: 'Engram {L,U}', bits: e5.engramBitsPerCode },
          { model: 'baseline', bits: e5.baselineBitsPerCode },
          { model: 'uniform', bits: e5.uniformBitsPerCode },
        ],
      },
      mark: 'bar',
      encoding: {
        x: { field: 'model', type: 'nominal', title: null, sort: null },
        y: { field: 'bits', type: 'quantitative', title: 'bits/code' },
        color: { field: 'model', type: 'nominal', legend: null },
      },
    } as vl.TopLevelSpec);
    const donor = await donorSection(
      'E5 — positive control (rule textures)',
      'the rule-texture Engram model',
      {
        conditions: e5.donor.map((x) => ({ ...x, js: x.js ?? {}, rowsChanged: Number.NaN })),
        comparisons: e5.comparisons.map((x) => ({
          ...x,
          metric: x.metric ?? 'kl',
          cohensD: x.cohensD ?? null,
        })),
        ratios: e5.ratios,
      },
    );
    const v = e5.verdict;
    donor.text = [
      `A synthetic dataset where each code is, with probability 1 − ε, a fixed per-class function of its (L, U) neighbours: an order-2 Engram can retrieve it. The same E2/E3 probes run on it.`,
      `Held-out bits/code: Engram ${fmt(e5.engramBitsPerCode, 4)}, baseline ${fmt(e5.baselineBitsPerCode, 4)}, uniform ${fmt(e5.uniformBitsPerCode, 4)}.`,
      `Verdict: matched vs random donors p = ${fmt(v.matchedVsRandomP)}, smallest control/donor KL ratio ${fmt(v.minControlRatio)} → retrieval ${v.retrievalDetected ? 'DETECTED' : 'not detected'} (criteria p < ${v.criteria.pBelow}, ratio ≥ ${v.criteria.ratioAtLeast}).`,
    ];
    donor.tables.push({
      head: ['gate', 'bits/code [95% CI]'],
      rows: e5.gateClamp.map((s) => {
        const b = ciOf(s.bitsPerCode);
        return [s.name, fmtCI(b.m, b.lo, b.hi, 4)];
      }),
    });
    donor.plots.unshift({ id: 'e5-bits', title: 'rule textures bits/code', svg: bitsSvg });
    sections.push(donor);
  }

  // ── samples ──
  const images: { title: string; path: string }[] = [];
  const real = join(input.dir, 'data', 'real.png');
  if (existsSync(real)) images.push({ title: 'real test images (a row per class)', path: real });
  for (const v of input.variants) {
    const p = join(input.dir, 'sample', v.name, 'grid.png');
    if (existsSync(p)) images.push({ title: `${v.name} (a row per class)`, path: p });
  }
  if (images.length)
    sections.push({
      title: 'Samples',
      text: [
        `${c.sampling.gridPerClass} samples per class, one row per class, CFG ${c.sampling.cfgScale}, temperature ${c.sampling.temperature}.`,
      ],
      tables: [],
      plots: [],
      images,
    });

  // ── run details ──
  const timing: Table = {
    head: ['stage', 'seconds', 'finished', 'inputs hash'],
    rows: Object.entries(input.stages)
      .filter(([k]) => k !== 'report')
      .map(([k, d]) => [k, d.timings.seconds.toFixed(1), d.timings.finishedAt, d.inputsHash]),
  };
  const backends = train ? [...new Set(Object.values(train).map((t) => t.backend ?? '?'))] : [];
  const tok = stages.tokenizer?.metrics as
    | {
        steps: number;
        eval?: { psnr: number; usage: number; perplexity: number; vocab: number; images: number };
      }
    | undefined;
  const fnet = stages['feature-net']?.metrics as { label: string; testAccuracy: number | null } | undefined;
  const ver = versions();
  sections.push({
    title: 'Run',
    text: [
      `Preset ${c.preset}; training backend ${backends.join(', ') || 'n/a'}; ${Object.entries(ver)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ')}.`,
      tok?.eval
        ? `Tokenizer: ${tok.steps} steps, ${tok.eval.vocab} codes; on ${tok.eval.images} test images PSNR ${fmt(tok.eval.psnr)} dB, codebook usage ${fmt(100 * tok.eval.usage)} %, perplexity ${fmt(tok.eval.perplexity)}.`
        : '',
      fnet
        ? `Feature extractor: ${fnet.label === 'FID' ? 'Inception (given)' : `small CNN classifier, test accuracy ${fmt(100 * (fnet.testAccuracy ?? Number.NaN))} %`}.`
        : '',
      'Stage timings are those of the invocation that ran the stage (resumed runs reuse finished stages).',
    ].filter(Boolean),
    tables: [timing],
    plots: [],
    images: [],
  });
  return sections;
}

async function donorSection(
  title: string,
  variant: string,
  e3: {
    conditions: { name: string; kind: string; kl: CI; js: CI; rowsChanged: number }[];
    comparisons: { a: string; b: string; metric: string; pValue: number; cohensD: number | null }[];
    ratios: { numerator: string; denominator: string; ratio: CI }[];
  },
): Promise<Section> {
  const floor = 1e-12;
  const bars = e3.conditions.map((x) => {
    const k = ciOf(x.kl);
    const m = Math.max(k.m ?? floor, floor);
    return {
      name: x.name,
      kind: x.kind,
      kl: m,
      low: Math.max(k.lo ?? m, floor),
      high: Math.max(k.hi ?? m, floor),
    };
  });
  // Bars on a log axis need a finite base: they start at the bottom of the domain, not at 0.
  const lo = Math.min(...bars.map((b) => b.low));
  const hi = Math.max(...bars.map((b) => b.high));
  const base = 10 ** Math.floor(Math.log10(lo / 2));
  const top = 10 ** Math.ceil(Math.log10(hi * 1.5));
  const svg = await renderSvg({
    $schema: SCHEMA,
    title: `${title.split(' — ')[0]}: KL(p_true ‖ p_probe) per position, mean with 95 % CI (log axis)`,
    width: 420,
    height: 240,
    data: { values: bars },
    layer: [
      {
        mark: 'bar',
        encoding: {
          x: { field: 'name', type: 'nominal', title: null, sort: null },
          y: {
            field: 'kl',
            type: 'quantitative',
            title: 'KL (nats)',
            scale: { type: 'log', domain: [base, top] },
          },
          y2: { datum: base },
          color: { field: 'kind', type: 'nominal', title: null },
        },
      },
      {
        mark: { type: 'rule', color: 'black', strokeWidth: 2 },
        encoding: {
          x: { field: 'name', type: 'nominal', sort: null },
          y: { field: 'low', type: 'quantitative' },
          y2: { field: 'high' },
        },
      },
    ],
  } as vl.TopLevelSpec);
  return {
    title,
    text: [
      `Backbone reads the true codes, the hash reads a donor's (matched = nearest same-class by Hamming distance, adversarial = farthest, random same-class, cross-class); controls keep the true rows but collapse or randomise the table. Probed: ${variant}.`,
    ],
    tables: [
      {
        head: ['condition', 'kind', 'KL [95% CI]', 'JS [95% CI]'],
        rows: e3.conditions.map((x) => {
          const k = ciOf(x.kl);
          const j = ciOf(x.js);
          return [x.name, x.kind, fmtCI(k.m, k.lo, k.hi), j.m === null ? '—' : fmtCI(j.m, j.lo, j.hi)];
        }),
      },
      {
        head: ['comparison', 'p (permutation)', "Cohen's d"],
        rows: e3.comparisons.map((x) => [`${x.a} vs ${x.b} (${x.metric})`, fmt(x.pValue), fmt(x.cohensD)]),
      },
      {
        head: ['ratio of mean KL', 'value [95% CI]'],
        rows: e3.ratios.map((x) => {
          const r = ciOf(x.ratio);
          return [`${x.numerator} / ${x.denominator}`, fmtCI(r.m, r.lo, r.hi)];
        }),
      },
    ],
    plots: [{ id: title.startsWith('E5') ? 'e5-kl' : 'e3', title: 'donor KL', svg }],
    images: [],
  };
}

const CSS = `body{font-family:sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}
table{border-collapse:collapse;margin:1em 0;font-size:13px}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}
th{background:#f3f3f3}td:first-child,th:first-child{text-align:left}figure{display:inline-block;margin:0.5em 1em 0.5em 0;vertical-align:top}
figcaption{font-size:12px;color:#555}pre{background:#f7f7f7;padding:1em;overflow:auto;font-size:12px}img{image-rendering:pixelated}`;

/** Writes report.md (+ report/*.svg) and the self-contained report.html into `input.dir`. */
export async function writeReport(
  input: ReportInput,
): Promise<{ md: string; html: string; plots: number; images: number }> {
  const sections = await buildSections(input);
  const dir = input.dir;
  const title = `engram-ar report — ${input.config.preset}`;
  const md: string[] = [`# ${title}`, '', `Run folder: \`${dir}\``, ''];
  const html: string[] = [
    `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title><style>${CSS}</style></head><body>`,
    `<h1>${escapeHtml(title)}</h1>`,
  ];
  let plots = 0;
  let images = 0;
  await mkdir(join(dir, 'report'), { recursive: true });
  for (const s of sections) {
    md.push(`## ${s.title}`, '', ...s.text.flatMap((t) => [t, '']));
    html.push(`<h2>${escapeHtml(s.title)}</h2>`, ...s.text.map((t) => `<p>${escapeHtml(t)}</p>`));
    for (const t of s.tables) {
      md.push(mdTable(t), '');
      html.push(htmlTable(t));
    }
    for (const p of s.plots) {
      const file = join(dir, 'report', `${p.id}.svg`);
      await atomicWriteFile(file, p.svg);
      md.push(`![${p.title}](${relative(dir, file)})`, '');
      html.push(`<figure>${p.svg}</figure>`);
      plots++;
    }
    for (const im of s.images) {
      const b64 = readFileSync(im.path).toString('base64');
      md.push(`**${im.title}**`, '', `![${im.title}](${relative(dir, im.path)})`, '');
      html.push(
        `<figure><img alt="${escapeHtml(im.title)}" src="data:image/png;base64,${b64}"><figcaption>${escapeHtml(im.title)}</figcaption></figure>`,
      );
      images++;
    }
  }
  const cfg = JSON.stringify(input.config, null, 2);
  md.push('## Config', '', '```json', cfg, '```', '');
  html.push('<h2>Config</h2>', `<pre>${escapeHtml(cfg)}</pre>`, '</body></html>');
  const mdPath = join(dir, 'report.md');
  const htmlPath = join(dir, 'report.html');
  await atomicWriteFile(mdPath, md.join('\n'));
  await atomicWriteFile(htmlPath, html.join('\n'));
  return { md: mdPath, html: htmlPath, plots, images };
}

/** Stage folders of a run, in pipeline order. */
export const STAGES = [
  'data',
  'feature-net',
  'tokenizer',
  'codes',
  'train',
  'sample',
  'metrics',
  'e2-gate-clamp',
  'e3-donor',
  'e4-frozen-table',
  'e5-positive-control',
] as const;

/** Reads a run folder's config.json and finished stages (for re-rendering a report). */
export function loadRun(dir: string): ReportInput {
  const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as RunConfig;
  const stages: Record<string, Done<unknown>> = {};
  for (const s of STAGES) {
    const p = join(dir, s, 'done.json');
    if (existsSync(p)) stages[s] = JSON.parse(readFileSync(p, 'utf8')) as Done<unknown>;
  }
  const train = (stages.train?.metrics ?? {}) as Record<string, { rho: number }>;
  const variants = Object.entries(train).map(([name, t]) => ({
    name,
    rho: t.rho,
    frozen: name.startsWith('frozen-'),
  }));
  return { dir, config, stages, variants };
}
