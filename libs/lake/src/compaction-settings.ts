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

/** Where Iceberg tables are registered: the file-system layout under the table (default) or AWS Glue (Athena). */
export type IcebergCatalogSetting =
  | { kind: 'filesystem' }
  | { kind: 'glue'; database: string; region: string; endpoint?: string; credentials?: { accessKeyId: string; secretAccessKey: string } };

const compactionEnvironment = z.object({
  LAKE_ICEBERG_CATALOG: z.enum(['filesystem', 'glue']).optional(),
  LAKE_GLUE_DATABASE: z
    .string()
    .regex(/^[a-z0-9_]{1,255}$/, 'Glue database names are lower-case letters, digits and _')
    .optional(),
  LAKE_GLUE_ENDPOINT: z.url().optional(),
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
  /** The Iceberg catalog (`LAKE_ICEBERG_CATALOG`); the file-system one when absent. */
  icebergCatalog?: IcebergCatalogSetting;
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
    ...(parsed.data.LAKE_ICEBERG_CATALOG === 'glue' ? { icebergCatalog: glueSetting(env, parsed.data.LAKE_GLUE_DATABASE, parsed.data.LAKE_GLUE_ENDPOINT) } : {}),
  };
}

/**
 * Glue's endpoint and credentials: LAKE_GLUE_ENDPOINT (the local stack serves Glue on its S3 port),
 * the S3 credentials when set, the local stack's for a loopback endpoint, else the AWS default chain.
 */
function glueSetting(env: NodeJS.ProcessEnv, database: string | undefined, endpoint: string | undefined): IcebergCatalogSetting {
  const loopback = endpoint !== undefined && /^https?:\/\/(127\.0\.0\.1|localhost|\[::1\])(:|\/|$)/.test(endpoint);
  const credentials =
    env.S3_ACCESS_KEY_ID && env.S3_SECRET_ACCESS_KEY
      ? { accessKeyId: env.S3_ACCESS_KEY_ID, secretAccessKey: env.S3_SECRET_ACCESS_KEY }
      : loopback
        ? { accessKeyId: 'securecart-local', secretAccessKey: 'securecart-local-secret' }
        : undefined;
  return { kind: 'glue', database: database ?? 'securecart_lake', region: env.AWS_REGION?.trim() || 'us-east-1', ...(endpoint ? { endpoint } : {}), ...(credentials ? { credentials } : {}) };
}
