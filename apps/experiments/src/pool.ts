// A pool of worker processes for the tfjs training tasks: independent tasks (feature net, tokenizer,
// every AR variant) run in parallel, one per core by default. Workers are forked lazily with
// `--import tsx` (they run the TypeScript sources), each initialises its own backend, and report
// progress and results over IPC; big outputs go to files in the task's directory.
import { type ChildProcess, fork } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import type { BackendName } from '@engram-ar/tensor';
import type { Task } from './tasks.js';
import type { WorkerMessage, WorkerRequest } from './worker.js';

export interface PoolProgress {
  step: number;
  total: number;
  loss?: number;
  etaSec?: number;
}

interface Pending {
  id: number;
  priority: number;
  task: Task;
  onProgress?: (p: PoolProgress) => void;
  resolve: (v: { result: unknown; backend: string }) => void;
  reject: (e: Error) => void;
}

interface Slot {
  child: ChildProcess;
  job: Pending | null;
}

const WORKER = fileURLToPath(new URL('./worker.ts', import.meta.url));

export class WorkerPool {
  readonly size: number;
  private readonly slots: Slot[] = [];
  private readonly queue: Pending[] = [];
  private nextId = 0;
  private closed = false;

  constructor(
    size: number,
    private readonly backend: BackendName | 'auto' = 'auto',
  ) {
    this.size = size > 0 ? size : Math.max(1, availableParallelism());
  }

  /**
   * Runs `task` in a free worker (queued until one is). Queued tasks start by `priority` (lower
   * first), then in submission order, so a run puts its critical path ahead of side branches.
   */
  run(
    task: Task,
    onProgress?: (p: PoolProgress) => void,
    priority = 0,
  ): Promise<{ result: unknown; backend: string }> {
    if (this.closed) return Promise.reject(new Error('WorkerPool: closed'));
    return new Promise((resolve, reject) => {
      const job = { id: this.nextId++, priority, task, onProgress, resolve, reject };
      const at = this.queue.findIndex((q) => q.priority > priority);
      if (at < 0) this.queue.push(job);
      else this.queue.splice(at, 0, job);
      this.dispatch();
    });
  }

  /** Kills idle and busy workers; pending tasks are rejected. */
  async close(): Promise<void> {
    this.closed = true;
    for (const p of this.queue.splice(0)) p.reject(new Error('WorkerPool: closed'));
    await Promise.all(
      this.slots.map(
        (s) =>
          new Promise<void>((res) => {
            if (s.child.exitCode !== null || s.child.signalCode !== null) return res();
            s.child.once('exit', () => res());
            s.child.kill();
          }),
      ),
    );
    this.slots.length = 0;
  }

  private spawn(): Slot {
    const child = fork(WORKER, [], {
      execArgv: ['--import', import.meta.resolve('tsx')],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      env: { ...process.env },
    });
    const slot: Slot = { child, job: null };
    child.on('message', (m: WorkerMessage) => {
      const job = slot.job;
      if (!job || m.id !== job.id) return;
      if (m.type === 'progress') job.onProgress?.(m);
      else {
        slot.job = null;
        if (m.type === 'result') job.resolve({ result: m.result, backend: m.backend });
        else job.reject(new Error(`${describe(job.task)}: ${m.message}`));
        this.dispatch();
      }
    });
    child.on('exit', (code, signal) => {
      const i = this.slots.indexOf(slot);
      if (i >= 0) this.slots.splice(i, 1);
      if (slot.job) {
        slot.job.reject(new Error(`${describe(slot.job.task)}: worker exited (${signal ?? `code ${code}`})`));
        slot.job = null;
      }
      if (!this.closed) this.dispatch();
    });
    this.slots.push(slot);
    return slot;
  }

  private dispatch(): void {
    while (this.queue.length > 0) {
      let slot = this.slots.find((s) => s.job === null);
      if (!slot && this.slots.length < this.size) slot = this.spawn();
      if (!slot) return;
      const job = this.queue.shift()!;
      slot.job = job;
      const req: WorkerRequest = { type: 'task', id: job.id, task: job.task, backend: this.backend };
      slot.child.send(req);
    }
  }
}

function describe(t: Task): string {
  return t.kind === 'ar' ? `ar ${t.name}` : t.kind;
}
