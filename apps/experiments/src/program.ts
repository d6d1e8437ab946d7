// The `engram-ar` command tree. Each command group lives in src/commands/<group>.ts and registers
// itself here, so later stages (tokenizer, ar, sample, probes, …) add a file and one line.
import { Command } from 'commander';
import { registerArCommands } from './commands/ar.js';
import { registerDatasetsCommands } from './commands/datasets.js';
import { registerMetricsCommands } from './commands/metrics.js';
import { registerProbeCommands } from './commands/probe.js';
import { registerRunCommands } from './commands/run.js';
import { registerSampleCommands } from './commands/sample.js';
import { registerTokenizerCommands } from './commands/tokenizer.js';

export function createProgram(): Command {
  const program = new Command('engram-ar')
    .description('Engram memory for autoregressive image generation: data, training, sampling, probes')
    .showHelpAfterError()
    .configureHelp({ sortSubcommands: true });
  registerArCommands(program);
  registerDatasetsCommands(program);
  registerMetricsCommands(program);
  registerProbeCommands(program);
  registerRunCommands(program);
  registerSampleCommands(program);
  registerTokenizerCommands(program);
  return program;
}
