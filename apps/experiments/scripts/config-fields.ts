// Prints the run config's fields (path, quickstart / small / paper values, description) as a markdown
// table, for the README:  npx tsx scripts/config-fields.ts
import { RunConfigSchema, resolveConfig } from '../src/config.js';

type Def = { type: string; shape?: Record<string, unknown>; innerType?: unknown };
const presets = ['quickstart', 'small', 'paper'].map(
  (p) => resolveConfig(p) as unknown as Record<string, unknown>,
);

function get(o: unknown, path: string[]): unknown {
  return path.reduce<unknown>(
    (a, k) => (a && typeof a === 'object' ? (a as Record<string, unknown>)[k] : undefined),
    o,
  );
}

const show = (v: unknown) => {
  if (v === undefined) return '—';
  const s = JSON.stringify(v);
  return s.length > 28 ? `${s.slice(0, 25)}…` : s;
};

const rows: string[] = [];
function walk(schema: unknown, path: string[]): void {
  const def = (schema as { def?: Def }).def;
  if (!def) return;
  if (def.type === 'object' && def.shape) {
    for (const [k, v] of Object.entries(def.shape)) {
      const p = [...path, k];
      const desc = (v as { description?: string }).description ?? '';
      const inner = (v as { def?: Def }).def;
      const isObject =
        inner?.type === 'object' || (inner?.innerType as { def?: Def })?.def?.type === 'object';
      if (isObject) {
        rows.push(`| **${p.join('.')}** | | | | ${desc} |`);
        walk(v, p);
      } else
        rows.push(
          `| \`${p.join('.')}\` | ${presets.map((c) => `\`${show(get(c, p))}\``).join(' | ')} | ${desc} |`,
        );
    }
  } else if (def.innerType) walk(def.innerType, path);
}
walk(RunConfigSchema, []);
console.log('| field | quickstart | small | paper | meaning |\n| --- | --- | --- | --- | --- |');
console.log(rows.join('\n'));
