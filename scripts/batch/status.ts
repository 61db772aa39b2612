// npm run batch:status [-- --limit 20] [-- --run <execution name>] [-- --json]
// The run history the local workflow runs keep in the lake (batch/_runs/): one line per run with its
// state, duration and failure, newest first; --run shows one run step by step.
import { describeEvent, ORDERS_DAILY_JOB } from '@app/batch';
import { RunHistory, type RunRecord } from '@app/orchestration';
import { fail, formatTable, openLake, parseArgs } from '../lake/lake-cli';
import { formatDuration } from './batch-cli';

function dayOf(run: RunRecord): string {
  return (run.output as { day?: string } | undefined)?.day ?? (run.input as { day?: string }).day ?? '(yesterday)';
}

async function main(): Promise<void> {
  const { options } = parseArgs(process.argv.slice(2));
  const { store, lakeUrl } = openLake('batch-status');
  const history = new RunHistory(store, 'batch/_runs/');
  const limit = typeof options.limit === 'string' ? Number(options.limit) : 20;
  const runs = await history.list(typeof options.job === 'string' ? options.job : ORDERS_DAILY_JOB, typeof options.run === 'string' ? 1000 : limit);
  if (typeof options.run === 'string') {
    const run = runs.find((r) => r.name === options.run);
    if (!run) throw new Error(`no run named ${options.run} in ${lakeUrl}batch/_runs/`);
    if (options.json) return void console.log(JSON.stringify(run, null, 2));
    console.log(`${run.name}  ${run.status}  day ${dayOf(run)}  ${run.trigger}  started ${run.startedAt}  ${formatDuration(run.durationMs)}`);
    for (const e of run.events) {
      const line = describeEvent(e);
      if (line) console.log(`${e.at.slice(11, 23)} ${line}`);
    }
    return;
  }
  if (options.json) {
    for (const run of runs) console.log(JSON.stringify({ ...run, events: undefined }));
    return;
  }
  if (runs.length === 0) {
    console.log(`no runs yet in ${lakeUrl}batch/_runs/ (npm run batch:run -- orders-daily --date YYYY-MM-DD)`);
    return;
  }
  const now = Date.now();
  console.log(
    formatTable(
      ['run', 'day', 'status', 'trigger', 'started', 'duration', 'failed attempts', 'step / error'],
      runs.map((r) => [
        r.name,
        dayOf(r),
        r.status,
        r.trigger,
        r.startedAt.replace('T', ' ').slice(0, 19),
        r.status === 'RUNNING' ? `${formatDuration(now - Date.parse(r.startedAt))} so far` : formatDuration(r.durationMs),
        r.failedAttempts,
        r.status === 'FAILED' ? `${failedStep(r)}: ${causeOf(r)}` : r.status === 'RUNNING' ? `in ${r.state}` : '',
      ]),
    ),
  );
  const failed = runs.filter((r) => r.status === 'FAILED').length;
  console.log(`\n${runs.length} run(s) shown, ${failed} failed; details: npm run batch:status -- --run <run>`);
}

/** The step whose error ended the run (the one caught), not the Fail state. */
function failedStep(run: RunRecord): string {
  const caught = [...run.events].reverse().find((e) => e.type === 'ErrorCaught');
  return caught && 'state' in caught ? `${caught.state} ${caught.error}` : (run.error ?? 'failed');
}

function causeOf(run: RunRecord): string {
  const failedTask = [...run.events].reverse().find((e) => e.type === 'TaskFailed');
  return failedTask && failedTask.type === 'TaskFailed' ? failedTask.cause.split('\n')[0].slice(0, 120) : (run.cause ?? '');
}

main().catch((err) => fail('batch:status', err, process.env.LAKE_URL));
