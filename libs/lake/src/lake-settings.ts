/**
 * s3-sink landing settings: defaults are data, the environment is validated once with zod and every
 * bad variable is named in a {@link ConfigError} (the service exits 78 at boot).
 */
import { z } from 'zod';
import { ConfigError, envByteSize, envDuration, envInteger, isBlank, parseByteSize, parseDurationMs } from '@app/config';
import { parseLakeUrl } from '@app/object-store';

const MIB = 1024 * 1024;

export const landingDefaults = {
  groupId: 's3-sink',
  eventTimeField: 'occurredAt',
  /** A file (and the partition's window) is cut at this many rows. */
  rotateRecords: 100_000,
  /** ... or this many uncompressed bytes in one file. */
  rotateBytes: 64 * MIB,
  /** ... or when a row's Kafka timestamp is this far past the file's first row (record time, not wall clock). */
  rotateAgeMs: 10 * 60_000,
  /** A partition whose last record is this old (wall clock) is flushed; the cut is recorded in a marker. */
  flushIdleMs: 30_000,
  /** Open files across the process; above it the partition holding the oldest window is flushed. */
  maxOpenFiles: 1_000,
  /** Open files in one partition's window (hours x writer schemas); above it the window is cut. */
  maxPartitionFiles: 250,
  /** Buffered segment bytes across the process; above it the oldest window is flushed. */
  maxBufferBytes: 256 * MIB,
  blockBytes: 256 * 1024,
  deflateLevel: 1,
  allowedLatenessMs: 10 * 60_000,
  idleCloseMs: 5 * 60_000,
  /** A closed hour with late segments is closed (and re-compacted) again at most this often. */
  recloseIntervalMs: 60_000,
  /** How often idle flushes and hour closes are checked. */
  tickMs: 1_000,
  /** Backoff while the store or registry is unavailable: full jitter, doubling up to the max. */
  backoffBaseMs: 500,
  backoffMaxMs: 15_000,
  fromBeginning: true,
  /** Consumer session: a member killed without leaving holds its partitions this long. */
  sessionTimeoutMs: 45_000,
  /** Instances of a group share partition watermarks, so an hour closes on all of a topic's partitions. */
  sharedWatermark: true,
} as const;

export type MaskAction = 'hash' | 'drop';
export type CrashPoint = 'before-upload' | 'mid-upload' | 'after-upload';

export interface LandingSettings {
  lakeUrl: string;
  /** Explicit topic names, or a pattern matched against the broker's topics at start. */
  topics: { names: string[] } | { pattern: RegExp };
  groupId: string;
  eventTimeFields: Record<string, string>;
  masks: Record<string, Record<string, MaskAction>>;
  maskSalt: string;
  rotateRecords: number;
  rotateBytes: number;
  rotateAgeMs: number;
  flushIdleMs: number;
  maxOpenFiles: number;
  maxPartitionFiles: number;
  maxBufferBytes: number;
  blockBytes: number;
  deflateLevel: number;
  allowedLatenessMs: number;
  idleCloseMs: number;
  recloseIntervalMs: number;
  tickMs: number;
  backoffBaseMs: number;
  backoffMaxMs: number;
  fromBeginning: boolean;
  sessionTimeoutMs: number;
  /** Exchange partition watermarks with the group's other instances (`s3-sink.watermarks`). */
  sharedWatermark: boolean;
  /** Test hook: SIGKILL the process at this point of the n-th cut that uploads files. */
  crashAt?: { point: CrashPoint; cut: number };
}

// Durations, sizes and integers are read as every service reads them (@app/config); the parsers stay
// exported here for the lake's other settings and scripts.
export { parseByteSize, parseDurationMs };

const TOPIC = /^[A-Za-z0-9._-]+$/;

const landingEnvironment = z.object({
  LAKE_URL: z.string().optional(),
  SINK_TOPICS: z
    .string()
    .optional()
    .transform((v, ctx): LandingSettings['topics'] | undefined => {
      if (isBlank(v)) return undefined;
      const text = v!.trim();
      if (text.length > 2 && text.startsWith('/') && text.endsWith('/')) {
        try {
          return { pattern: new RegExp(text.slice(1, -1)) };
        } catch (err) {
          ctx.addIssue({ code: 'custom', message: `invalid regular expression: ${(err as Error).message}` });
          return z.NEVER;
        }
      }
      const names = text.split(',').map((s) => s.trim()).filter(Boolean);
      const bad = names.filter((n) => !TOPIC.test(n));
      if (bad.length > 0) {
        ctx.addIssue({ code: 'custom', message: `not topic names: ${bad.join(', ')} (comma list or /regex/)` });
        return z.NEVER;
      }
      return { names };
    }),
  SINK_GROUP_ID: z.string().regex(/^[A-Za-z0-9._-]+$/).optional(),
  SINK_EVENT_TIME_FIELDS: z
    .string()
    .optional()
    .transform((v, ctx) => {
      const out: Record<string, string> = {};
      if (isBlank(v)) return out;
      for (const pair of v!.split(',').map((s) => s.trim()).filter(Boolean)) {
        const m = /^([A-Za-z0-9._-]+)=([A-Za-z_][A-Za-z0-9_]*)$/.exec(pair);
        if (!m) {
          ctx.addIssue({ code: 'custom', message: `expected topic=field[,topic=field], got "${pair}"` });
          return z.NEVER;
        }
        out[m[1]] = m[2];
      }
      return out;
    }),
  SINK_MASK: z
    .string()
    .optional()
    .transform((v, ctx) => {
      const out: Record<string, Record<string, MaskAction>> = {};
      if (isBlank(v)) return out;
      for (const spec of v!.split(';').map((s) => s.trim()).filter(Boolean)) {
        const m = /^([A-Za-z0-9._-]+):(.+)$/.exec(spec);
        const fields: Record<string, MaskAction> = {};
        const ok =
          m !== null &&
          m[2].split(',').every((f) => {
            const fm = /^\s*([A-Za-z_][A-Za-z0-9_]*)=(hash|drop)\s*$/.exec(f);
            if (fm) fields[fm[1]] = fm[2] as MaskAction;
            return fm !== null;
          });
        if (!ok) {
          ctx.addIssue({ code: 'custom', message: `expected topic:field=hash|drop[,field=...][;topic:...], got "${spec}"` });
          return z.NEVER;
        }
        out[m![1]] = fields;
      }
      return out;
    }),
  SINK_MASK_SALT: z.string().optional(),
  SINK_ROTATE_RECORDS: envInteger(landingDefaults.rotateRecords, 1),
  SINK_ROTATE_BYTES: envByteSize(landingDefaults.rotateBytes, 1024),
  SINK_ROTATE_AGE: envDuration(landingDefaults.rotateAgeMs, 1),
  SINK_FLUSH_IDLE: envDuration(landingDefaults.flushIdleMs, 1),
  SINK_MAX_OPEN_FILES: envInteger(landingDefaults.maxOpenFiles, 1),
  SINK_MAX_PARTITION_FILES: envInteger(landingDefaults.maxPartitionFiles, 1),
  SINK_MAX_BUFFER_BYTES: envByteSize(landingDefaults.maxBufferBytes, MIB),
  SINK_DEFLATE_LEVEL: envInteger(landingDefaults.deflateLevel, 0, 9),
  LAKE_ALLOWED_LATENESS: envDuration(landingDefaults.allowedLatenessMs),
  LAKE_IDLE_CLOSE: envDuration(landingDefaults.idleCloseMs, 1),
  LAKE_RECLOSE_INTERVAL: envDuration(landingDefaults.recloseIntervalMs),
  SINK_FROM_BEGINNING: z.enum(['true', 'false']).optional(),
  LAKE_SHARED_WATERMARK: z.enum(['true', 'false']).optional(),
  // The broker accepts 6 s to 30 min by default (group.min/max.session.timeout.ms).
  SINK_SESSION_TIMEOUT: envDuration(landingDefaults.sessionTimeoutMs, 6_000),
  SINK_CRASH_AT: z
    .string()
    .optional()
    .transform((v, ctx): LandingSettings['crashAt'] => {
      if (isBlank(v)) return undefined;
      const m = /^(before-upload|mid-upload|after-upload):(\d+)$/.exec(v!.trim());
      if (!m) {
        ctx.addIssue({ code: 'custom', message: 'expected before-upload|mid-upload|after-upload:<n-th cut>' });
        return z.NEVER;
      }
      return { point: m[1] as CrashPoint, cut: Number(m[2]) };
    }),
});

/**
 * Reads the landing settings from the environment. `defaultLakeUrl` is the platform bucket
 * (`s3://<S3_BUCKET>/`); `catalogTopics` the default for `SINK_TOPICS`.
 */
export function loadLandingSettings(
  env: NodeJS.ProcessEnv,
  defaults: { defaultLakeUrl: string; catalogTopics: string[] },
): LandingSettings {
  const parsed = landingEnvironment.safeParse(env);
  const problems: { variable: string; message: string }[] = [];
  if (!parsed.success) {
    for (const issue of parsed.error.issues) problems.push({ variable: String(issue.path[0]), message: issue.message });
  }
  const lakeUrl = isBlank(env.LAKE_URL) ? defaults.defaultLakeUrl : env.LAKE_URL!.trim();
  try {
    parseLakeUrl(lakeUrl);
  } catch (err) {
    problems.push({ variable: 'LAKE_URL', message: (err as Error).message });
  }
  if (problems.length > 0 || !parsed.success) throw new ConfigError(problems);
  const e = parsed.data;
  return {
    lakeUrl,
    topics: e.SINK_TOPICS ?? { names: defaults.catalogTopics },
    groupId: e.SINK_GROUP_ID ?? landingDefaults.groupId,
    eventTimeFields: e.SINK_EVENT_TIME_FIELDS,
    masks: e.SINK_MASK,
    maskSalt: e.SINK_MASK_SALT ?? '',
    rotateRecords: e.SINK_ROTATE_RECORDS,
    rotateBytes: e.SINK_ROTATE_BYTES,
    rotateAgeMs: e.SINK_ROTATE_AGE,
    flushIdleMs: e.SINK_FLUSH_IDLE,
    maxOpenFiles: e.SINK_MAX_OPEN_FILES,
    maxPartitionFiles: e.SINK_MAX_PARTITION_FILES,
    maxBufferBytes: e.SINK_MAX_BUFFER_BYTES,
    blockBytes: landingDefaults.blockBytes,
    deflateLevel: e.SINK_DEFLATE_LEVEL,
    allowedLatenessMs: e.LAKE_ALLOWED_LATENESS,
    idleCloseMs: e.LAKE_IDLE_CLOSE,
    recloseIntervalMs: e.LAKE_RECLOSE_INTERVAL,
    tickMs: landingDefaults.tickMs,
    backoffBaseMs: landingDefaults.backoffBaseMs,
    backoffMaxMs: landingDefaults.backoffMaxMs,
    fromBeginning: e.SINK_FROM_BEGINNING ? e.SINK_FROM_BEGINNING === 'true' : landingDefaults.fromBeginning,
    sessionTimeoutMs: e.SINK_SESSION_TIMEOUT,
    sharedWatermark: e.LAKE_SHARED_WATERMARK ? e.LAKE_SHARED_WATERMARK === 'true' : landingDefaults.sharedWatermark,
    crashAt: e.SINK_CRASH_AT,
  };
}
