// npm run batch:schedule — stays running and starts the orders-daily workflow at BATCH_SCHEDULE (cron,
// UTC; default 30 1 * * *: yesterday's hours are compacted by then), for the day before the fire time.
// Ctrl-C stops it after the run in flight. On AWS an EventBridge rule with the same expression starts the
// Step Functions state machine instead.
import { CronScheduler, systemClock } from '@app/orchestration';
import { fail } from '../lake/lake-cli';
import { openBatch, ordersDailyRunner } from './batch-cli';

async function main(): Promise<void> {
  const cli = openBatch('batch-schedule');
  const runner = ordersDailyRunner(cli);
  const schedule = cli.settings.schedule;
  const scheduler = new CronScheduler(
    schedule,
    async (fire) => {
      const record = await runner.run({ trigger: 'schedule' });
      console.error(`${new Date(fire).toISOString()} scheduled run ${record.name}: ${record.status}; next at ${new Date(scheduler.nextFire()).toISOString()}`);
    },
    systemClock,
    (err) => console.error(`scheduled run failed to start: ${(err as Error).message}`),
  );
  console.error(`orders-daily on "${schedule.expression}" (UTC), lake ${cli.lakeUrl}; next run at ${new Date(scheduler.nextFire()).toISOString()}`);
  scheduler.start();
  const stop = async () => {
    console.error('stopping after the run in flight');
    await scheduler.stop();
    await runner.close();
    process.exit(0);
  };
  process.once('SIGINT', () => void stop());
  process.once('SIGTERM', () => void stop());
}

main().catch((err) => fail('batch:schedule', err, process.env.LAKE_URL));
