// Static import graph of a workspace module, for the tests that prove a package's public entry never
// reaches TensorFlow.js (sampler, probes; DESIGN.md §2). Follows relative imports and @engram-ar/*
// specifiers (through each package's exports map); every other specifier is recorded, not followed.
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const packages = resolve(dirname(fileURLToPath(import.meta.url)), '../packages');

function resolveWorkspace(spec: string): string | null {
  const m = /^@engram-ar\/([^/]+)(\/.*)?$/.exec(spec);
  if (!m) return null;
  const pkgDir = join(packages, m[1]!);
  const pkg = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8'));
  const entry = pkg.exports[`.${m[2] ?? ''}`];
  if (!entry) throw new Error(`${spec}: not exported by ${m[1]}`);
  return join(pkgDir, entry.default);
}

export interface ImportGraph {
  /** Every module reached, the entry included (absolute .ts paths). */
  files: Set<string>;
  /** Imports not followed (npm packages, node: builtins), in the order they were met. */
  external: { file: string; spec: string }[];
}

export function importGraph(entry: string): ImportGraph {
  const files = new Set<string>();
  const external: ImportGraph['external'] = [];
  const stack = [entry];
  while (stack.length) {
    const file = stack.pop()!;
    if (files.has(file)) continue;
    files.add(file);
    const src = readFileSync(file, 'utf8');
    for (const [, spec] of src.matchAll(/(?:from|import)\s*\(?\s*'([^']+)'/g)) {
      if (spec!.startsWith('.')) {
        stack.push(resolve(dirname(file), spec!.replace(/\.js$/, '.ts')));
        continue;
      }
      const ws = resolveWorkspace(spec!);
      if (ws) stack.push(ws);
      else external.push({ file, spec: spec! });
    }
  }
  return { files, external };
}
