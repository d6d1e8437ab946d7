// The probes must run where TensorFlow.js is absent (DESIGN.md §2): walk the static import graph
// from the public entry through workspace packages and fail on any '@tensorflow/*' import.
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

const here = dirname(fileURLToPath(import.meta.url));
const packages = resolve(here, '../..');

function resolveWorkspace(spec: string): string | null {
  const m = /^@engram-ar\/([^/]+)(\/.*)?$/.exec(spec);
  if (!m) return null;
  const pkgDir = join(packages, m[1]!);
  const pkg = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8'));
  const entry = pkg.exports[`.${m[2] ?? ''}`];
  if (!entry) throw new Error(`${spec}: not exported by ${m[1]}`);
  return join(pkgDir, entry.default);
}

it('no module reachable from @engram-ar/probes imports TensorFlow.js', () => {
  const seen = new Set<string>();
  const offenders: string[] = [];
  const stack = [join(here, '../src/index.ts')];
  while (stack.length) {
    const file = stack.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    const src = readFileSync(file, 'utf8');
    for (const [, spec] of src.matchAll(/(?:from|import)\s*\(?\s*'([^']+)'/g)) {
      if (spec!.startsWith('@tensorflow/')) offenders.push(`${file} → ${spec}`);
      else if (spec!.startsWith('.')) stack.push(resolve(dirname(file), spec!.replace(/\.js$/, '.ts')));
      else {
        const ws = resolveWorkspace(spec!);
        if (ws) stack.push(ws);
      }
    }
  }
  expect(offenders).toEqual([]);
  // The walk really crossed into the packages the probes use.
  for (const dep of ['/engram/src/table.ts', '/sampler/src/generate.ts', '/metrics/src/bootstrap.ts'])
    expect([...seen].some((f) => f.includes(dep))).toBe(true);
});
