// `engram-ar run --preset … [--out runs/NAME] [--set k=v]…` and `engram-ar quickstart`: the whole study
// (src/run.ts), resumable, with one live progress view.
import { join } from 'node:path';
import type { Command } from 'commander';
import { PRESETS, resolveConfig } from '../config.js';
import { ProgressView } from '../progress.js';
import { loadRun, writeReport } from '../report.js';
import { runStudy } from '../run.js';

interface RunCliOptions {
  preset: string;
  out?: string;
  set: string[];
  printConfig?: boolean;
}

function collect(value: string, prev: string[]): string[] {
  return [...prev, value];
}

async function runCli(o: RunCliOptions): Promise<void> {
  const config = resolveConfig(o.preset, o.set);
  if (o.printConfig) {
    console.log(JSON.stringify(config, null, 2));
    return;
  }
  const out = o.out ?? join('runs', o.preset);
  const view = new ProgressView(process.stdout);
  try {
    const r = await runStudy({ out, config, view });
    view.close();
    const skipped = Object.entries(r.stages)
      .filter(([, d]) => d.skipped)
      .map(([k]) => k);
    console.log(
      JSON.stringify({
        out: r.dir,
        report: join(r.dir, 'report.html'),
        stages: Object.keys(r.stages),
        skipped,
      }),
    );
  } finally {
    view.close();
  }
}

export function registerRunCommands(program: Command): void {
  program
    .command('run')
    .description('run the whole study (E1–E5) as resumable stages in --out, then write report.md/html')
    .option('--preset <name>', `preset (${Object.keys(PRESETS).join(', ')})`, 'quickstart')
    .option('--out <dir>', 'run folder (default runs/<preset>)')
    .option(
      '--set <key=value>',
      'override a config field by dotted path (value parsed as JSON when it parses); repeatable',
      collect,
      [],
    )
    .option('--print-config', 'print the resolved, validated config and exit')
    .action(runCli);

  program
    .command('report')
    .description("re-render report.md / report.html from a run folder's finished stages")
    .argument('<run>', 'run folder (runs/NAME)')
    .action(async (dir: string) => {
      const r = await writeReport(loadRun(dir));
      console.log(JSON.stringify(r));
    });

  program
    .command('quickstart')
    .description('= run --preset quickstart: every stage E1–E5 end to end, tiny (≤ 5 min on 2 cores)')
    .option('--out <dir>', 'run folder', join('runs', 'quickstart'))
    .option('--set <key=value>', 'override a config field (see run --help)', collect, [])
    .action((o: { out: string; set: string[] }) => runCli({ preset: 'quickstart', out: o.out, set: o.set }));
}
