// Atomic file writes (temp file in the same directory, fsync, rename) so a crash never leaves a
// half-written model that ORT would fail to parse. The async writer is the repo-wide one; the sync
// one serves GraphBuilder.toBytes({ externalData }), which is synchronous by contract.
import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, openSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

export { atomicWriteFile } from '@engram-ar/tensor/safetensors';

export function atomicWriteFileSync(path: string, data: Uint8Array | Uint8Array[]): void {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    const fd = openSync(tmp, 'w');
    try {
      for (const chunk of Array.isArray(data) ? data : [data]) {
        let off = 0;
        while (off < chunk.byteLength) off += writeSync(fd, chunk, off, chunk.byteLength - off);
      }
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch (e) {
    try {
      unlinkSync(tmp);
    } catch {
      // the temp file was never created or is already renamed
    }
    throw e;
  }
}
