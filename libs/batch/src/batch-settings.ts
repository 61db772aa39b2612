/**
 * Settings of the daily batch (`npm run batch:*`, the scheduler and the Lambda handlers), validated once
 * with zod; every bad variable is named in one ConfigError. Defaults work locally.
 */
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { z } from 'zod';
import { ConfigError } from '@app/config';
import { parseDurationMs } from '@app/lake';
import { CronSchedule } from '@app/orchestration';

/** Defaults are data (STYLE #8). */
export const batchDefaults = {
  /** 01:30 UTC daily: yesterday's last hour has closed (allowed lateness 10 m) and compacted by then. */
  schedule: '30 1 * * *',
  /** Hours of the next day whose final events (confirm/reject/cancel, fraud) still count for a day's orders. */
  lookaheadHours: 1,
  /** A day is ready once its last hour (with the lookahead) ended this long ago and every hour is compacted. */
  readyAfterMs: 10 * 60_000,
  /** Workflow input: seconds between compaction checks, and how many checks before giving up. */
  pollSeconds: 300,
  maxPolls: 24,
  /** Waits in the workflow (Wait, retry intervals) are multiplied by this; 1 in production. */
  timeScale: 1,
  workflowFile: join(__dirname, '../../../infra/workflows/orders-daily.asl.json'),
  runHistoryPrefix: 'batch/_runs/',
};

export interface BatchSettings {
  lakeUrl: string;
  schedule: CronSchedule;
  lookaheadHours: number;
  readyAfterMs: number;
  pollSeconds: number;
  maxPolls: number;
  timeScale: number;
  workDir: string;
  workflowFile: string;
  /** Register the BatchCompleted schema when the registry lacks it (tests with their own topics). */
  autoRegisterSchema: boolean;
}

const blank = (v: string | undefined) => v === undefined || v.trim() === '';

const environment = z.object({
  BATCH_SCHEDULE: z
    .string()
    .optional()
    .transform((v, ctx) => {
      try {
        return new CronSchedule(blank(v) ? batchDefaults.schedule : v!);
      } catch (err) {
        ctx.addIssue({ code: 'custom', message: (err as Error).message });
        return z.NEVER;
      }
    }),
  BATCH_LOOKAHEAD_HOURS: z.coerce.number().int().min(0).max(48).optional(),
  BATCH_READY_AFTER: z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (blank(v)) return batchDefaults.readyAfterMs;
      const ms = parseDurationMs(v!.trim());
      if (ms === undefined) {
        ctx.addIssue({ code: 'custom', message: 'expected a duration such as 10m or 1h' });
        return z.NEVER;
      }
      return ms;
    }),
  BATCH_POLL_SECONDS: z.coerce.number().int().min(1).optional(),
  BATCH_MAX_POLLS: z.coerce.number().int().min(1).optional(),
  BATCH_TIME_SCALE: z.coerce.number().positive().max(1).optional(),
  BATCH_WORK_DIR: z.string().optional(),
  BATCH_WORKFLOW_FILE: z.string().optional(),
  BATCH_AUTO_REGISTER_SCHEMA: z.enum(['true', 'false']).optional(),
});

/** Reads the batch settings; `defaultLakeUrl` is `s3://<S3_BUCKET>/` (LAKE_URL wins, as for the sink). */
export function loadBatchSettings(env: NodeJS.ProcessEnv, defaultLakeUrl: string): BatchSettings {
  const parsed = environment.safeParse(Object.fromEntries(Object.entries(env).map(([k, v]) => [k, blank(v) ? undefined : v])));
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((i) => ({ variable: String(i.path[0]), message: i.message })));
  }
  const e = parsed.data;
  return {
    lakeUrl: blank(env.LAKE_URL) ? defaultLakeUrl : env.LAKE_URL!.trim(),
    schedule: e.BATCH_SCHEDULE,
    lookaheadHours: e.BATCH_LOOKAHEAD_HOURS ?? batchDefaults.lookaheadHours,
    readyAfterMs: e.BATCH_READY_AFTER,
    pollSeconds: e.BATCH_POLL_SECONDS ?? batchDefaults.pollSeconds,
    maxPolls: e.BATCH_MAX_POLLS ?? batchDefaults.maxPolls,
    timeScale: e.BATCH_TIME_SCALE ?? batchDefaults.timeScale,
    workDir: e.BATCH_WORK_DIR ?? join(tmpdir(), 'securecart-batch'),
    workflowFile: e.BATCH_WORKFLOW_FILE ?? batchDefaults.workflowFile,
    autoRegisterSchema: e.BATCH_AUTO_REGISTER_SCHEMA === 'true',
  };
}
