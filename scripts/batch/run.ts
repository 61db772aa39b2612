// npm run batch:run -- orders-daily [--date YYYY-MM-DD | --from YYYY-MM-DD --to YYYY-MM-DD] [--force]
// Runs the orders-daily workflow (infra/workflows/orders-daily.asl.json) locally, one execution per day,
// printing each step; the run history goes to the lake (npm run batch:status). Without a date it builds
// yesterday (UTC), as the schedule does. Exit code 1 when any day failed.
import { daysBetween, dayStartMillis } from '@app/batch';
import { fail, parseArgs } from '../lake/lake-cli';
import { formatDuration, JOBS, openBatch, ordersDailyRunner } from './batch-cli';

const USAGE =
  'usage: npm run batch:run -- orders-daily [--date YYYY-MM-DD | --from YYYY-MM-DD --to YYYY-MM-DD] [--force] [--poll-seconds N] [--max-polls N]';

async function main(): Promise<void> {
  const { options, positional } = parseArgs(process.argv.slice(2));
  const job = positional[0];
  if (!job || !(JOBS as readonly string[]).includes(job) || options.help) throw new Error(`${USAGE}\njobs: ${JOBS.join(', ')}`);
  const text = (name: string) => (typeof options[name] === 'string' ? (options[name] as string) : undefined);
  let days: (string | undefined)[];
  if (text('date')) {
    dayStartMillis(text('date')!);
    days = [text('date')];
  } else if (text('from') || text('to')) {
    if (!text('from') || !text('to')) throw new Error(`--from and --to go together\n${USAGE}`);
    days = daysBetween(text('from')!, text('to')!);
  } else days = [undefined];
  const cli = openBatch('batch-run');
  const runner = ordersDailyRunner(cli);
  const results: { day: string; status: string; ms?: number; error?: string }[] = [];
  try {
    for (const [i, day] of days.entries()) {
      if (days.length > 1) console.error(`\n[${i + 1}/${days.length}] ${day}`);
      const record = await runner.run({
        day,
        force: options.force === true,
        trigger: days.length > 1 ? 'backfill' : 'manual',
        pollSeconds: text('poll-seconds') ? Number(text('poll-seconds')) : undefined,
        maxPolls: text('max-polls') ? Number(text('max-polls')) : undefined,
      });
      const output = record.output as { day?: string } | undefined;
      results.push({ day: day ?? output?.day ?? '(yesterday)', status: record.status, ms: record.durationMs, error: record.error && `${record.error}: ${record.cause}` });
    }
  } finally {
    await runner.close();
  }
  console.log('');
  for (const r of results) console.log(`${r.day}  ${r.status.padEnd(9)} ${formatDuration(r.ms).padStart(9)}${r.error ? `  ${r.error}` : ''}`);
  const failed = results.filter((r) => r.status !== 'SUCCEEDED').length;
  console.log(`${results.length - failed} of ${results.length} day(s) built; npm run batch:status lists the runs, npm run query -- --tables shows batch_orders_daily / batch_sales_by_day`);
  if (failed) process.exit(1);
}

main().catch((err) => fail('batch:run', err, process.env.LAKE_URL));
