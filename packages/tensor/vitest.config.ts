import { defineConfig } from 'vitest/config';

// The machine is shared by many jobs; the cpu-backend references in the kernel tests can take a few seconds
// under load, so the default 5 s per-test timeout is too tight to be a meaningful failure signal.
export default defineConfig({ test: { testTimeout: 30_000 } });
