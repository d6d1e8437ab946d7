// Drives engram-ar subcommands through commander in-process, for the end-to-end command tests.
import { Command } from 'commander';

/**
 * Registers one command group on a fresh program and parses `args`; returns what it printed on stdout
 * (the record when there is no --out). stderr (progress) and console.error are silenced.
 */
export async function runCommand(register: (program: Command) => void, args: string[]): Promise<string> {
  const program = new Command('engram-ar').exitOverride();
  register(program);
  const { log, error } = console;
  const write = process.stderr.write;
  const lines: string[] = [];
  console.log = (...a: unknown[]) => lines.push(a.join(' '));
  console.error = () => {};
  process.stderr.write = () => true;
  try {
    await program.parseAsync(['node', 'engram-ar', ...args]);
  } finally {
    Object.assign(console, { log, error });
    process.stderr.write = write;
  }
  return lines.join('\n');
}
