// One live view of a run: a line per active job (stage, variant, step/total, loss, ETA) redrawn in
// place on a TTY; on anything else (CI logs, files) plain lines, throttled per job.

export interface ProgressUpdate {
  /** Stage folder name (e.g. 'train', 'sample'). */
  stage: string;
  /** Variant or sub-task ('' for the whole stage). */
  item?: string;
  step: number;
  total: number;
  loss?: number;
  etaSec?: number;
  note?: string;
}

interface Row extends ProgressUpdate {
  startedAt: number;
  lastPlain: number;
}

function fmtDuration(sec: number | undefined): string {
  if (sec === undefined || !Number.isFinite(sec)) return '?';
  const s = Math.max(0, Math.round(sec));
  return s >= 60 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s` : `${s}s`;
}

export function formatRow(u: ProgressUpdate, elapsedSec: number, width = 20): string {
  const frac = u.total > 0 ? Math.min(1, u.step / u.total) : 0;
  const fill = Math.round(frac * width);
  const eta = u.etaSec ?? (frac > 0 && frac < 1 ? (elapsedSec / frac) * (1 - frac) : undefined);
  const name = u.item ? `${u.stage}/${u.item}` : u.stage;
  return (
    `${name.padEnd(26)} [${'#'.repeat(fill)}${'.'.repeat(width - fill)}] ${u.step}/${u.total}` +
    `${u.loss !== undefined ? ` loss ${u.loss.toFixed(4)}` : ''}` +
    `${frac < 1 ? ` ETA ${fmtDuration(eta)}` : ' done'}${u.note ? ` ${u.note}` : ''}`
  );
}

/** TTY mode: minimum milliseconds between two redraws (a job's last update always redraws). */
const REDRAW_EVERY_MS = 150;

export class ProgressView {
  private readonly rows = new Map<string, Row>();
  private drawn = 0;
  private lastDraw = Number.NEGATIVE_INFINITY;
  private readonly t0: number;

  constructor(
    private readonly out: NodeJS.WritableStream & { isTTY?: boolean; columns?: number } = process.stdout,
    /** Plain mode: seconds between two lines of the same job (first and last always print). */
    private readonly plainEverySec = 10,
    /** Milliseconds on a monotonic clock; the redraw throttle and timestamps read only this (tests pass a fake). */
    private readonly now: () => number = () => performance.now(),
  ) {
    this.t0 = now();
  }

  get tty(): boolean {
    return !!this.out.isTTY;
  }

  update(u: ProgressUpdate): void {
    const key = `${u.stage}/${u.item ?? ''}`;
    const now = this.now();
    const prev = this.rows.get(key);
    const row: Row = { ...u, startedAt: prev?.startedAt ?? now, lastPlain: prev?.lastPlain ?? 0 };
    this.rows.set(key, row);
    const done = u.step >= u.total;
    if (this.tty) {
      if (done || now - this.lastDraw > REDRAW_EVERY_MS) this.draw();
      if (done) this.rows.delete(key);
      return;
    }
    if (!prev || done || now - row.lastPlain > this.plainEverySec * 1000) {
      row.lastPlain = now;
      this.out.write(`${this.stamp()} ${formatRow(u, (now - row.startedAt) / 1000)}\n`);
    }
    if (done) this.rows.delete(key);
  }

  /** A log line above the live rows (or a plain line). */
  log(msg: string): void {
    if (this.tty) {
      this.clear();
      this.out.write(`${this.stamp()} ${msg}\n`);
      this.draw();
    } else this.out.write(`${this.stamp()} ${msg}\n`);
  }

  /** Removes the live rows (call before exiting). */
  close(): void {
    if (this.tty) this.clear();
  }

  private stamp(): string {
    return `[${fmtDuration((this.now() - this.t0) / 1000).padStart(6)}]`;
  }

  private clear(): void {
    if (this.drawn > 0) this.out.write(`\x1b[${this.drawn}A\x1b[J`);
    this.drawn = 0;
  }

  private draw(): void {
    const now = this.now();
    this.lastDraw = now;
    this.clear();
    const cols = this.out.columns ?? 120;
    const lines = [...this.rows.values()].map((r) =>
      formatRow(r, (now - r.startedAt) / 1000).slice(0, cols - 1),
    );
    if (lines.length) this.out.write(`${lines.join('\n')}\n`);
    this.drawn = lines.length;
  }
}
