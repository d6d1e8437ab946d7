import { mkdirSync, writeFileSync, existsSync } from 'node:fs';
const [dir, name, desc, depsJson = '{}', peersJson = '{}'] = process.argv.slice(2);
const deps = JSON.parse(depsJson);
const peers = JSON.parse(peersJson);
const pkg = {
  name, version: '0.1.0', description: desc, type: 'module', license: 'MIT',
  exports: { '.': { types: './src/index.ts', default: './src/index.ts' } },
  publishConfig: { exports: { '.': { types: './dist/index.d.ts', default: './dist/index.js' } } },
  files: ['dist', 'README.md'],
  scripts: {
    build: 'tsc -p tsconfig.build.json',
    typecheck: 'tsc --noEmit',
    test: 'vitest run',
    bench: 'tsx ../../scripts/run-bench.ts',
  },
  dependencies: deps,
};
if (Object.keys(peers).length) {
  pkg.peerDependencies = peers;
  pkg.peerDependenciesMeta = Object.fromEntries(Object.keys(peers).map((k) => [k, { optional: true }]));
}
mkdirSync(`${dir}/src`, { recursive: true });
mkdirSync(`${dir}/test`, { recursive: true });
writeFileSync(`${dir}/package.json`, JSON.stringify(pkg, null, 2) + '\n');
writeFileSync(`${dir}/tsconfig.json`, JSON.stringify({ extends: '../../tsconfig.base.json', compilerOptions: { noEmit: true }, include: ['src', 'test', 'bench', 'scripts'] }, null, 2) + '\n');
writeFileSync(`${dir}/tsconfig.build.json`, JSON.stringify({ extends: '../../tsconfig.base.json', compilerOptions: { outDir: 'dist', rootDir: 'src', noEmit: false }, include: ['src'] }, null, 2) + '\n');
if (!existsSync(`${dir}/src/index.ts`)) writeFileSync(`${dir}/src/index.ts`, 'export {};\n');
