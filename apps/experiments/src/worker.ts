// Pool worker process (forked by src/pool.ts with `--import tsx`): initialises its own tfjs backend
// once, then runs one task per 'task' message, reporting progress and the result over IPC. It exits
// when the parent goes away (IPC disconnect, or a closed channel seen at a progress report), so a
// SIGKILLed run leaves no orphan writing checkpoints.
import { type BackendName, initBackend } from '@engram-ar/tensor';
import { runTask, type Task } from './tasks.js';

export type WorkerRequest = { type: 'task'; id: number; task: Task; backend: BackendName | 'auto' };
export type WorkerMessage =
  | { type: 'progress'; id: number; step: number; total: number; loss?: number; etaSec?: number }
  | { type: 'result'; id: number; result: unknown; backend: string }
  | { type: 'error'; id: number; message: string; stack?: string };

let backend: Promise<string> | null = null;

function send(m: WorkerMessage): void {
  process.send?.(m);
}

process.on('disconnect', () => process.exit(0));
process.on('message', async (m: WorkerRequest) => {
  if (m.type !== 'task') return;
  try {
    backend ??= initBackend({ ...(m.backend === 'auto' ? {} : { backend: m.backend }), log: () => {} }).then(
      (r) => r.name,
    );
    const name = await backend;
    const result = await runTask(m.task, (p) => {
      // A training loop may not yield to the event loop for a long time, so 'disconnect' can arrive
      // late: checking the channel at every progress report stops an orphan within one step.
      if (!process.connected) process.exit(0);
      send({ type: 'progress', id: m.id, ...p });
    });
    send({ type: 'result', id: m.id, result, backend: name });
  } catch (e) {
    const err = e as Error;
    send({ type: 'error', id: m.id, message: err.message, stack: err.stack });
  }
});
