import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const repo = resolve(import.meta.dirname, '../../..');
const cli = join(repo, 'apps/experiments/src/cli.ts');
const run = promisify(execFile);

async function engramAr(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await run(process.execPath, ['--import', 'tsx', cli, ...args], { cwd: repo });
    return { code: 0, ...r };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

describe('engram-ar CLI', () => {
  it('datasets preview mnist writes a PNG grid of the requested size', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'engram-cli-')), 'grid.png');
    const r = await engramAr(
      'datasets',
      'preview',
      'mnist',
      '--out',
      out,
      '--n',
      '16',
      '--cols',
      '4',
      '--scale',
      '1',
      '--split',
      'test',
    );
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('16 of 2000 mnist/test images (28x28x1)');
    const png = readFileSync(out);
    expect(png.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
    expect(png.toString('latin1', 12, 16)).toBe('IHDR');
    // 4 tiles of 28 px with a 2 px border around and between them: 2 + 4·(28 + 2) = 122
    expect([png.readUInt32BE(16), png.readUInt32BE(20)]).toEqual([122, 122]);
    // one line per grid row with 4 labels each
    expect(
      r.stdout
        .trim()
        .split('\n')
        .slice(1)
        .map((l) => l.split('|').length),
    ).toEqual([4, 4, 4, 4]);
  }, 30000);

  it('--help works on every command, and bad input is reported', async () => {
    const helps = await Promise.all(
      [[], ['datasets'], ['datasets', 'list'], ['datasets', 'preview']].map((args) =>
        engramAr(...args, '--help'),
      ),
    );
    for (const r of helps) {
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/^Usage: engram-ar/);
    }
    const list = await engramAr('datasets', 'list', '--json', '--fashion-dir', '/nonexistent/fm');
    const rows = JSON.parse(list.stdout) as { name: string; available: boolean; note: string }[];
    expect(rows.map((x) => x.name)).toEqual(['mnist', 'fashion-mnist', 'folder', 'rule-textures']);
    expect(rows[1]!.available).toBe(false);
    expect(rows[1]!.note).toContain('apt-get install dataset-fashion-mnist');
    const bad = await engramAr('datasets', 'preview', 'cifar', '--out', '/tmp/x.png');
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/value 'cifar' is invalid for argument 'name'/);
    const badN = await engramAr('datasets', 'preview', 'mnist', '--out', '/tmp/x.png', '--n', '0');
    expect(badN.stderr).toMatch(/--n <n>.*expected a positive integer, got '0'/);
  }, 60000);
});
