// Per-code bookkeeping of the quantiser: which codes the batches use, which are dead (unused for
// `restartAfter` consecutive steps), usage over that window and batch perplexity.

export interface CodeUsageState {
  /** Consecutive steps each code went unused since it was last used or restarted. */
  unused: number[];
  /** Steps since each code was last chosen by the quantiser (restarts do not reset it). */
  since: number[];
}

export class CodeUsage {
  private readonly unused: Int32Array;
  private readonly since: Int32Array;

  constructor(
    readonly size: number,
    readonly window: number,
  ) {
    this.unused = new Int32Array(size);
    this.since = new Int32Array(size).fill(window);
  }

  /** Records one batch of codes; returns the batch perplexity exp(H(histogram)). */
  observe(codes: Int32Array): number {
    const counts = new Int32Array(this.size);
    for (let i = 0; i < codes.length; i++) counts[codes[i]!]!++;
    let h = 0;
    for (let k = 0; k < this.size; k++) {
      const c = counts[k]!;
      if (c > 0) {
        const p = c / codes.length;
        h -= p * Math.log(p);
        this.unused[k] = 0;
        this.since[k] = 0;
      } else {
        this.unused[k]!++;
        if (this.since[k]! < this.window) this.since[k]!++;
      }
    }
    return Math.exp(h);
  }

  /** Codes unused for `window` consecutive steps (restart candidates), ascending. */
  dead(): number[] {
    const out: number[] = [];
    for (let k = 0; k < this.size; k++) if (this.unused[k]! >= this.window) out.push(k);
    return out;
  }

  /** A restarted code gets a fresh `window` steps before it can be declared dead again. */
  reset(code: number): void {
    this.unused[code] = 0;
  }

  /** Fraction of codes chosen at least once in the last `window` steps. */
  usage(): number {
    let used = 0;
    for (let k = 0; k < this.size; k++) if (this.since[k]! < this.window) used++;
    return used / this.size;
  }

  state(): CodeUsageState {
    return { unused: Array.from(this.unused), since: Array.from(this.since) };
  }

  load(s: CodeUsageState): void {
    if (s.unused.length !== this.size || s.since.length !== this.size) {
      throw new Error(
        `CodeUsage.load: state has ${s.unused.length}/${s.since.length} codes, expected ${this.size}`,
      );
    }
    this.unused.set(s.unused);
    this.since.set(s.since);
  }
}

/** Code statistics of a whole set of code grids: fraction of the vocabulary used and perplexity. */
export function codeStats(
  codes: Int32Array,
  vocab: number,
): { usage: number; perplexity: number; counts: Int32Array } {
  const counts = new Int32Array(vocab);
  for (let i = 0; i < codes.length; i++) counts[codes[i]!]!++;
  let used = 0;
  let h = 0;
  for (let k = 0; k < vocab; k++) {
    const c = counts[k]!;
    if (c > 0) {
      used++;
      const p = c / codes.length;
      h -= p * Math.log(p);
    }
  }
  return { usage: used / vocab, perplexity: Math.exp(h), counts };
}
