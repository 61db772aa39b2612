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

/** How a topic's curated hours are published: plain Hive-partitioned Parquet, or also as an Iceberg v2 table. */
export type TableFormat = 'parquet' | 'iceberg';
const TABLE_FORMATS: readonly TableFormat[] = ['parquet', 'iceberg'];

/** Table format per topic, and for every other topic. */
export interface TableFormats {
  default: TableFormat;
  topics: Record<string, TableFormat>;
}

/**
 * `LAKE_TABLE_FORMAT`: `iceberg` (every topic), or a comma list of `<topic>=<format>` entries, with
 * an optional bare format for the rest (`orders.order-placed.v1=iceberg,orders.order-rejected.v1=iceberg`).
 */
export function parseTableFormats(text: string | undefined): TableFormats | string {
  const formats: TableFormats = { default: 'parquet', topics: {} };
  for (const part of (text ?? '').split(',').map((p) => p.trim()).filter(Boolean)) {
    const at = part.lastIndexOf('=');
    const format = (at < 0 ? part : part.slice(at + 1).trim()).toLowerCase() as TableFormat;
    if (!TABLE_FORMATS.includes(format)) return `unknown table format "${format}" (expected ${TABLE_FORMATS.join(' or ')})`;
    if (at < 0) formats.default = format;
    else if (part.slice(0, at).trim() === '') return `"${part}" names no topic`;
    else formats.topics[part.slice(0, at).trim()] = format;
  }
  return formats;
}

export function tableFormatOf(formats: TableFormats | undefined, topic: string): TableFormat {
  return formats?.topics[topic] ?? formats?.default ?? 'parquet';
}

const compactionEnvironment = z.object({
  LAKE_TABLE_FORMAT: z
    .string()
    .optional()
    .transform((v, ctx) => {
      const parsed = parseTableFormats(v);
      if (typeof parsed === 'string') {
        ctx.addIssue({ code: 'custom', message: `${parsed}; e.g. iceberg, or orders.order-placed.v1=iceberg,orders.order-rejected.v1=iceberg` });
        return z.NEVER;
      }
      return parsed;
    }),
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
  /** Topics whose curated hours are also committed to an Iceberg table (`LAKE_TABLE_FORMAT`); none when absent. */
  tableFormats?: TableFormats;
}

/** Reads `LAKE_COMPACT_TARGET_BYTES` and `LAKE_RAW_RETENTION`; throws ConfigError naming each bad one. */
export function loadCompactionSettings(env: NodeJS.ProcessEnv = process.env): CompactionSettings {
  const parsed = compactionEnvironment.safeParse(env);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((i) => ({ variable: i.path.join('.'), message: i.message })));
  }
  return {
    targetFileBytes: parsed.data.LAKE_COMPACT_TARGET_BYTES,
    rawRetentionMs: parsed.data.LAKE_RAW_RETENTION,
    ...(env.LAKE_TABLE_FORMAT?.trim() ? { tableFormats: parsed.data.LAKE_TABLE_FORMAT } : {}),
  };
}
