import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { formatRow, ProgressView } from '../src/progress.js';

function sink(tty: boolean) {
  let text = '';
  const s = new Writable({
    write(chunk, _enc, cb) {
      text += chunk;
      cb();
    },
  }) as Writable & { isTTY?: boolean; columns?: number };
  s.isTTY = tty;
  s.columns = 100;
  return { stream: s, text: () => text };
}

describe('progress view', () => {
  it('formats stage/variant, bar, step/total, loss and ETA', () => {
    const row = formatRow(
      { stage: 'train', item: 'rho0.3', step: 50, total: 200, loss: 2.5, etaSec: 75 },
      10,
    );
    expect(row).toMatch(/^train\/rho0\.3 +\[#####\.{15}\] 50\/200 loss 2\.5000 ETA 1m15s$/);
    expect(formatRow({ stage: 'codes', step: 2, total: 2 }, 1)).toMatch(/2\/2 done$/);
  });

  it('plain mode: one line per job at start and end, throttled in between', () => {
    const s = sink(false);
    const v = new ProgressView(s.stream, 3600);
    for (let i = 1; i <= 100; i++) v.update({ stage: 'train', item: 'a', step: i, total: 100 });
    v.log('hello');
    const lines = s.text().trim().split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(/train\/a .* 1\/100/);
    expect(lines[1]).toMatch(/train\/a .* 100\/100 .*done/);
    expect(lines[2]).toMatch(/hello$/);
    expect(s.text()).not.toContain('\x1b[');
  });

  it('TTY mode: redraws the live rows in place (cursor up + clear) and keeps log lines above', () => {
    const s = sink(true);
    const v = new ProgressView(s.stream);
    v.update({ stage: 'train', item: 'a', step: 1, total: 10 });
    v.update({ stage: 'train', item: 'b', step: 1, total: 10 });
    v.log('note');
    v.update({ stage: 'train', item: 'a', step: 10, total: 10 });
    v.close();
    const t = s.text();
    // b's first update came within the redraw interval: only a's row was on screen when the log
    // line arrived, so one row is erased, the note printed, and both rows drawn below it
    expect(t).toContain('\x1b[1A\x1b[J[    0s] note\n');
    // a's last update erases both live rows and redraws
    expect(t).toContain('\x1b[2A\x1b[Jtrain/a ');
    expect(t).toMatch(/train\/a .* 10\/10 done/);
  });
});
