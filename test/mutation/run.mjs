#!/usr/bin/env node
/* global process, console */
// npm run test:mutation [-- [--lib] <lib> ...] — StrykerJS over each lib in turn (the core libs fastest
// first, then the later ones), at a low CPU priority (nice 10, MUTATION_NICE to change) with one test
// runner, then one score line per lib. Not part of CI: on two cores a full run takes far longer than
// the suite.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../..');
const CORE_LIBS = ['config', 'kafka', 'contracts', 'codec'];
/** Libs that joined after the core ones; only their unit-testable files are mutated (stryker.config.mjs). */
const LATER_LIBS = ['runtime', 'lake'];
const ALL_LIBS = [...CORE_LIBS, ...LATER_LIBS];
const TARGET = 80;
const NICENESS = process.env.MUTATION_NICE ?? '10';
// `--lib x` and a bare `x` mean the same; `--lib=x` too.
const requested = process.argv.slice(2).flatMap((arg) => (arg === '--lib' ? [] : [arg.replace(/^--lib=/, '')]));
const libs = requested.length > 0 ? requested : ALL_LIBS;

/** Stryker's own score: killed + timed out over all valid mutants (compile errors excluded). */
function scoreOf(reportPath) {
  const report = JSON.parse(readFileSync(reportPath, 'utf8'));
  const count = { killed: 0, survived: 0, timeout: 0, noCoverage: 0 };
  for (const file of Object.values(report.files)) {
    for (const mutant of file.mutants) {
      if (mutant.status === 'Killed') count.killed++;
      else if (mutant.status === 'Timeout') count.timeout++;
      else if (mutant.status === 'Survived') count.survived++;
      else if (mutant.status === 'NoCoverage') count.noCoverage++;
    }
  }
  const valid = count.killed + count.timeout + count.survived + count.noCoverage;
  return { ...count, valid, score: valid === 0 ? 100 : (100 * (count.killed + count.timeout)) / valid };
}

const unknown = libs.filter((lib) => !ALL_LIBS.includes(lib));
if (unknown.length > 0) {
  console.error(`unknown lib ${unknown.join(', ')}: expected one of ${ALL_LIBS.join(', ')}`);
  process.exit(2);
}

const results = [];
for (const lib of libs) {
  const started = Date.now();
  const run = spawnSync('nice', ['-n', NICENESS, join(ROOT, 'node_modules/.bin/stryker'), 'run', 'stryker.config.mjs'], {
    cwd: ROOT,
    env: { ...process.env, MUTATION_LIB: lib },
    stdio: 'inherit',
  });
  const reportPath = join(ROOT, 'coverage/mutation', `${lib}.json`);
  if (run.status !== 0 || !existsSync(reportPath)) {
    results.push({ lib, failed: `stryker exited ${run.status}` });
    continue;
  }
  results.push({ lib, minutes: (Date.now() - started) / 60_000, ...scoreOf(reportPath) });
}

console.log('\nmutation score per lib (unit tests only):');
for (const r of results) {
  if (r.failed) {
    console.log(`  ${r.lib.padEnd(10)} FAILED (${r.failed})`);
    continue;
  }
  console.log(
    `  ${r.lib.padEnd(10)} ${r.score.toFixed(1).padStart(5)} %  ${r.score >= TARGET ? 'ok ' : 'LOW'}  ` +
      `killed ${r.killed}, timeout ${r.timeout}, survived ${r.survived}, no coverage ${r.noCoverage} ` +
      `(${r.minutes.toFixed(1)} min)`,
  );
}
process.exitCode = results.every((r) => !r.failed && r.score >= TARGET) ? 0 : 1;
