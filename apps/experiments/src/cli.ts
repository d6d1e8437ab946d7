// Entry point of the `engram-ar` CLI (`pnpm engram-ar …` runs this file with tsx).
import { createProgram } from './program.js';

try {
  await createProgram().parseAsync(process.argv);
} catch (e) {
  console.error(`engram-ar: ${(e as Error).message}`);
  process.exitCode = 1;
}
