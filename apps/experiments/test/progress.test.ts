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
    const v = new ProgressView(s.stream, 3600, () => 0);
    for (let i = 1; i <= 100; i++) v.update({ stage: 'train', item: 'a', step: i, total: 100 });
    v.log('hello');
    const lines = s.text().trim().split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(/train\/a .* 1\/100/);
    expect(lines[1]).toMatch(/train\/a .* 100\/100 .*done/);
    expect(lines[2]).toMatch(/hello$/);
    expect(s.text()).not.toContain('\x1b[');
  });

  it('plain mode: a job prints again once more than plainEverySec has passed since its last line', () => {
    const s = sink(false);
    let ms = 0;
    const v = new ProgressView(s.stream, 10, () => ms);
    for (let i = 1; i <= 100; i++) {
      ms = i * 1000; // one step per second
      v.update({ stage: 'train', item: 'a', step: i, total: 100 });
    }
    const steps = s
      .text()
      .trim()
      .split('\n')
      .map((l) => Number(/ (\d+)\/100/.exec(l)![1]));
    // first line at step 1, then every 11 s (strictly more than 10), and the last step
    expect(steps).toEqual([1, 12, 23, 34, 45, 56, 67, 78, 89, 100]);
    expect(s.text()).toMatch(/^\[ {4}1s\] train\/a/); // stamped 1 s after the view was made
  });

  it('TTY mode: redraws the live rows in place (cursor up + clear) and keeps log lines above', () => {
    const s = sink(true);
    let ms = 1000;
    const v = new ProgressView(s.stream, 10, () => ms);
    v.update({ stage: 'train', item: 'a', step: 1, total: 10 }); // first update draws at once
    ms += 100;
    v.update({ stage: 'train', item: 'b', step: 1, total: 10 }); // within the 150 ms redraw interval
    v.log('note');
    v.update({ stage: 'train', item: 'a', step: 10, total: 10 });
    v.close();
    const t = s.text();
    // b's first update came within the redraw interval: only a's row was on screen when the log
    // line arrived, so one row is erased, the note printed, and both rows drawn below it
    expect(t).toBe(
      'train/a                    [##..................] 1/10 ETA 0s\n' +
        '\x1b[1A\x1b[J[    0s] note\n' +
        'train/a                    [##..................] 1/10 ETA 1s\n' +
        'train/b                    [##..................] 1/10 ETA 0s\n' +
        // a's last update erases both live rows and redraws; close() erases what is left
        '\x1b[2A\x1b[Jtrain/a                    [####################] 10/10 done\n' +
        'train/b                    [##..................] 1/10 ETA 0s\n' +
        '\x1b[2A\x1b[J',
    );
  });

  it('TTY mode: an update after the redraw interval draws, so the log line erases every live row', () => {
    const s = sink(true);
    let ms = 0;
    const v = new ProgressView(s.stream, 10, () => ms);
    v.update({ stage: 'train', item: 'a', step: 1, total: 10 });
    ms += 151;
    v.update({ stage: 'train', item: 'b', step: 1, total: 10 });
    ms += 149; // b drew at 151 ms: this one is inside the interval and does not draw
    v.update({ stage: 'train', item: 'b', step: 2, total: 10 });
    v.log('note');
    const t = s.text();
    expect(t).toContain('\x1b[1A\x1b[Jtrain/a ');
    expect(t).toContain('\x1b[2A\x1b[J[    0s] note\n');
    expect(t.match(/train\/b .* 2\/10/g)).toHaveLength(1); // drawn only by the log's redraw
  });
});
