// Engram for a language model: 1D stencils {t-1} and {t-1, t-2} over token ids.
// Run: cd packages/engram && npx tsx examples/text.ts
import { buildHashSpec, EngramTable, rowsForNextToken, rowsForSequences } from '@engram-ar/engram';

const spec = buildHashSpec({
  layers: [1, 5],
  stencils: [[1], [1, 2]],
  heads: 2,
  tableRows: 50_000,
  dHead: 4,
  vocab: 32_000,
});
const tokens = new Int32Array([17, 99, 17, 99, 5]); // position t predicts token t, keyed by tokens t-1, t-2
const ids = rowsForSequences(spec, tokens, [1, tokens.length]); // [1, T, Le, S·K]
const R = spec.rowsPerPosition;
const at = (t: number) => Array.from(ids.subarray(t * R, (t + 1) * R)).join(' ');
console.log('t=2 (prev 99, 17):', at(2));
console.log('t=4 (prev 99, 17):', at(4), '← same bigram, same rows');
console.log('next-token rows agree:', Array.from(rowsForNextToken(spec, tokens, 4)).join(' ') === at(4));
const table = new EngramTable(spec);
console.log(
  `table: ${table.rows} rows × ${table.dHead}, e per (token, layer): ${spec.numStencils * spec.heads * table.dHead} floats`,
);
