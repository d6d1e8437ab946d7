// A real SIGKILL in the middle of a run, then a restart: the run must finish, reuse (skip) the stages
// finished before the kill, and resume the rest from their checkpoints.
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadCheckpoint } from '@engram-ar/tensor/safetensors';
import { describe, expect, it } from 'vitest';
import { microArgs } from './micro.js';

const CLI = fileURLToPath(new URL('../src/cli.ts', import.meta.url));

// Longer AR training than the micro default, so the kill lands between two checkpoints of a variant.
const LONGER = ['--set', 'ar.train.steps=40', '--set', 'ar.train.checkpointEvery=4'];

/** PIDs whose parent is `pid` (Linux /proc). */
function childrenOf(pid: number): number[] {
  return readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .filter((d) => {
      try {
        // /proc/<pid>/stat: "pid (comm) state ppid …"; comm may contain spaces, so split after ')'
        const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
        return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid;
      } catch {
        return false;
      }
    })
    .map(Number);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function start(out: string) {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', CLI, 'run', '--preset', 'quickstart', '--out', out, ...microArgs(), ...LONGER],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => {
    stdout += d;
  });
  child.stderr.on('data', (d) => {
    stderr += d;
  });
  const exited = new Promise<number | null>((res) =>
    child.on('exit', (code, signal) => res(signal ? -1 : code)),
  );
  return { child, exited, out: () => stdout, err: () => stderr };
}

describe('engram-ar run: kill and resume', () => {
  it('SIGKILLed mid-training, a restart skips finished stages, resumes the checkpoint and completes', async () => {
    const out = join(await mkdtemp(join(tmpdir(), 'engram-run-')), 'micro');
    const first = start(out);
    let workers: number[] = [];
    const ckpt = join(out, 'train', 'baseline', 'checkpoint.safetensors');
    await new Promise<void>((res, rej) => {
      const timer = setInterval(() => {
        if (existsSync(ckpt)) {
          clearInterval(timer);
          workers = childrenOf(first.child.pid!);
          first.child.kill('SIGKILL');
          res();
        } else if (first.child.exitCode !== null) {
          clearInterval(timer);
          rej(new Error(`run ended before the kill point:\n${first.out()}\n${first.err()}`));
        }
      }, 100);
    });
    expect(await first.exited).toBe(-1);
    // the pool's workers notice the dead parent and exit (no orphan keeps writing checkpoints)
    expect(workers.length).toBeGreaterThan(0);
    for (let i = 0; i < 150 && workers.some(alive); i++) await new Promise((r) => setTimeout(r, 100));
    expect(workers.filter(alive)).toEqual([]);
    expect(existsSync(join(out, 'tokenizer', 'done.json'))).toBe(true);
    expect(existsSync(join(out, 'train', 'baseline', 'done.json'))).toBe(false);
    expect(existsSync(join(out, 'report.html'))).toBe(false);
    const killedAt = ((await loadCheckpoint(ckpt)).sidecar as { step: number }).step;
    expect(killedAt).toBeGreaterThan(0);
    expect(killedAt % 4).toBe(0);

    const second = start(out);
    const code = await second.exited;
    expect(code, second.err()).toBe(0);
    const log = second.out();
    expect(log).toMatch(/data: done earlier/);
    expect(log).toMatch(/tokenizer: done earlier/);
    expect(log).toMatch(/codes: done earlier/);
    const summary = JSON.parse(log.trim().split('\n').at(-1)!) as { skipped: string[]; stages: string[] };
    expect(summary.skipped).toEqual(expect.arrayContaining(['data', 'tokenizer', 'codes']));
    for (const s of [
      'codes',
      'train',
      'sample',
      'metrics',
      'e2-gate-clamp',
      'e3-donor',
      'e4-frozen-table',
      'e5-positive-control',
      'report',
    ])
      expect(summary.stages).toContain(s);
    expect(existsSync(join(out, 'report.html'))).toBe(true);
    const done = JSON.parse(readFileSync(join(out, 'train', 'done.json'), 'utf8'));
    expect(Object.keys(done.metrics)).toEqual(['baseline', 'rho0.5', 'frozen-rho0.5']);
    // The baseline continued from exactly the checkpoint on disk at the kill (whatever moment of a
    // save the kill hit, that file loads) and still ran all 40 steps.
    const baseline = done.metrics.baseline as { resumedFrom: number; steps: number };
    expect(baseline.steps).toBe(40);
    expect(baseline.resumedFrom).toBe(killedAt);
    // A third invocation finds everything done.
    const third = start(out);
    expect(await third.exited).toBe(0);
    const s3 = JSON.parse(third.out().trim().split('\n').at(-1)!) as { skipped: string[]; stages: string[] };
    expect(s3.skipped.sort()).toEqual(s3.stages.sort());
  }, 180_000);
});
