/**
 * Compaction settings: defaults are data (one typed object), environment variables are validated
 * once with zod and a bad one is named in a {@link ConfigError}.
 */
import { z } from 'zod';
import { ConfigError } from '@app/config';
import { parseByteSize, parseDurationMs } from './lake-settings';

const MIB = 1024 * 1024;

export const compactionDefaults = {
  /** Parquet files roll over at about this size (`LAKE_COMPACT_TARGET_BYTES`). */
  targetFileBytes: 256 * MIB,
  /** Raw segments of compacted hours are deleted this long after the hour ended (`LAKE_RAW_RETENTION`). */
  rawRetentionMs: 7 * 24 * 3_600_000,
  eventTimeField: 'occurredAt',
  dedupField: 'eventId',
  /** Part files no manifest names (a crashed run's) are deleted once older than this. */
  orphanGraceMs: 3_600_000,
} as const;

const compactionEnvironment = z.object({
  LAKE_COMPACT_TARGET_BYTES: z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v.trim() === '') return compactionDefaults.targetFileBytes;
      const bytes = parseByteSize(v);
      if (bytes === undefined || bytes < 1024) {
        ctx.addIssue({ code: 'custom', message: 'expected a size of at least 1KiB, e.g. 268435456 or 256MiB' });
        return z.NEVER;
      }
      return bytes;
    }),
  LAKE_RAW_RETENTION: z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v.trim() === '') return compactionDefaults.rawRetentionMs;
      const ms = parseDurationMs(v);
      if (ms === undefined) {
        ctx.addIssue({ code: 'custom', message: 'expected a duration such as 7d, 48h or 90m' });
        return z.NEVER;
      }
      return ms;
    }),
});

export interface CompactionSettings {
  targetFileBytes: number;
  rawRetentionMs: number;
}

/** Reads `LAKE_COMPACT_TARGET_BYTES` and `LAKE_RAW_RETENTION`; throws ConfigError naming each bad one. */
export function loadCompactionSettings(env: NodeJS.ProcessEnv = process.env): CompactionSettings {
  const parsed = compactionEnvironment.safeParse(env);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((i) => ({ variable: i.path.join('.'), message: i.message })));
  }
  return { targetFileBytes: parsed.data.LAKE_COMPACT_TARGET_BYTES, rawRetentionMs: parsed.data.LAKE_RAW_RETENTION };
}
