// The report of a recorded quickstart run (test/fixtures/quickstart-run: the stages' done.json files and
// sample grids, no training) rendered to report.md / report.html and opened in headless Chromium,
// which must show every plot and image without a console error.
import { cp, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadRun, renderSvg, writeReport } from '../src/report.js';
import { checkPage, launch } from './browser.js';

const FIXTURE = fileURLToPath(new URL('./fixtures/quickstart-run', import.meta.url));

let dir: string;
let browser: Browser;

beforeAll(async () => {
  dir = join(await mkdtemp(join(tmpdir(), 'engram-report-')), 'run');
  await cp(FIXTURE, dir, { recursive: true });
  browser = await launch();
}, 60_000);

afterAll(async () => {
  await browser?.close();
});

describe('report', () => {
  it('renders vega-lite to SVG headless', async () => {
    const svg = await renderSvg({
      $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
      data: {
        values: [
          { x: 1, y: 10 },
          { x: 2, y: 1000 },
        ],
      },
      mark: 'point',
      encoding: {
        x: { field: 'x', type: 'quantitative' },
        y: { field: 'y', type: 'quantitative', scale: { type: 'log' } },
      },
    });
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg).toContain('1,000'); // a log-axis tick label
  });

  it('writes report.md and a self-contained report.html that Chromium shows without errors', async () => {
    const r = await writeReport(loadRun(dir));
    expect(r.plots).toBe(6); // E1, E2, E3, E4, E5 bits, E5 KL
    expect(r.images).toBe(5); // real + 4 variants
    const md = await readFile(r.md, 'utf8');
    for (const h of [
      'E1 — budget sweep',
      'E2 — gate clamp',
      'E3 — donor probe',
      'E4 — frozen-noise table',
      'E5 — positive control',
    ])
      expect(md).toContain(`## ${h}`);
    expect(md).toContain('classifier-FID [95% CI]');
    // the E1 row of the baseline carries the recorded numbers
    const m = JSON.parse(await readFile(join(dir, 'metrics', 'done.json'), 'utf8')).metrics.baseline;
    expect(md).toContain(`| baseline | 1 |`);
    expect(md).toContain(String(Number(m.fid.toPrecision(3))));
    const html = await readFile(r.html, 'utf8');
    expect(html).not.toMatch(/(src|href)="(?!data:)[^"#]/); // nothing outside the file
    const page = await checkPage(browser, r.html);
    expect(page.consoleErrors).toEqual([]);
    expect(page.brokenImages).toEqual([]);
    expect(page.images).toBe(5);
    expect(page.svgs).toBeGreaterThanOrEqual(6);
    expect(page.title).toBe('engram-ar report — quickstart');
  }, 60_000);

  it('the page check catches a broken image and a script error', async () => {
    const bad = join(dir, 'bad.html');
    await writeFile(
      bad,
      '<!doctype html><html><head><title>x</title></head><body><img alt="missing" src="data:image/png;base64,AAAA"><script>throw new Error("boom")</script></body></html>',
    );
    const page = await checkPage(browser, bad);
    expect(page.brokenImages).toEqual(['missing']);
    expect(page.consoleErrors.join('\n')).toMatch(/boom/);
  }, 30_000);
});
