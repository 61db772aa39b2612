/**
 * file-ingest settings from the environment, validated once with zod; every bad variable is named in a
 * {@link ConfigError} (the app exits 78 at boot, the CLI prints it and exits 78).
 */
import { readFileSync } from 'node:fs';
import { CronExpressionParser } from 'cron-parser';
import { z } from 'zod';
import { ConfigError, configErrorFrom, envByteSize, envInteger, isBlank } from '@app/config';
import { parseLakeUrl } from '@app/object-store';
import { parseByteRate } from './bandwidth-limiter';
import { isValidSourceName, type SyncSourceSpec } from './file-sync';
import { ingestDefaults } from './ingest-defaults';

/** A configured source: where, which files, when, and how fast. */
export interface SourceDefinition extends SyncSourceSpec {
  /** A directory, `file:///dir`, or `sftp://user@host:port/dir`. */
  from: string;
  /** Cron expression (5 or 6 fields, UTC); unset = only on demand (`npm run ingest:files`). */
  schedule?: string;
  privateKeyFile?: string;
  hostKeySha256?: string;
}

export interface IngestSettings {
  lakeUrl: string;
  sources: SourceDefinition[];
  stockCountTopic: string;
  sftpPassword?: string;
  concurrency: number;
  partSizeBytes: number;
}

/** Next run of a cron expression after `after` (UTC); throws on an invalid expression. */
export function nextRunAfter(schedule: string, after: Date): Date {
  return CronExpressionParser.parse(schedule, { currentDate: after, tz: 'UTC' }).next().toDate();
}

const sourceSchema = z.object({
  name: z.string().refine(isValidSourceName, 'lowercase letters, digits, . _ - (at most 64)'),
  from: z.string().min(1),
  include: z.array(z.string().min(1)).default([]),
  exclude: z.array(z.string().min(1)).default([]),
  inventory: z.array(z.string().min(1)).default(ingestDefaults.inventoryPatterns),
  schedule: z
    .string()
    .optional()
    .refine((s) => {
      if (s === undefined) return true;
      try {
        nextRunAfter(s, new Date());
        return true;
      } catch {
        return false;
      }
    }, 'not a valid cron expression'),
  bandwidth: z
    .union([z.number().positive(), z.string()])
    .optional()
    .refine((b) => b === undefined || typeof b === 'number' || parseByteRate(b) !== undefined, 'a rate such as 10MiB/s or bytes per second'),
  privateKeyFile: z.string().optional(),
  hostKeySha256: z.string().optional(),
});

export type SourceInput = z.input<typeof sourceSchema>;

function toDefinition(s: z.output<typeof sourceSchema>): SourceDefinition {
  return {
    name: s.name,
    from: s.from,
    include: s.include,
    exclude: s.exclude,
    inventoryPatterns: s.inventory,
    schedule: s.schedule,
    bandwidthBytesPerSecond: s.bandwidth === undefined ? undefined : typeof s.bandwidth === 'number' ? s.bandwidth : parseByteRate(s.bandwidth),
    privateKeyFile: s.privateKeyFile,
    hostKeySha256: s.hostKeySha256,
  };
}

/** One source from CLI-style input (the same checks as the configured ones). */
export function sourceDefinition(input: SourceInput): SourceDefinition {
  const parsed = sourceSchema.safeParse(input);
  if (!parsed.success) throw new Error(parsed.error.issues.map((i) => `${i.path.join('.') || 'source'}: ${i.message}`).join('; '));
  return toDefinition(parsed.data);
}

const MIB = 1024 * 1024;
const transferEnvironment = z.object({
  FILE_INGEST_CONCURRENCY: envInteger(ingestDefaults.concurrency, 1, 64),
  // S3's part sizes: 5 MiB to 5 GiB.
  FILE_INGEST_PART_SIZE: envByteSize(ingestDefaults.partSizeBytes, 5 * MIB, 5 * 1024 * MIB),
});

/**
 * `FILE_INGEST_SOURCES`: a JSON array of sources, or `@path/to/sources.json`. `LAKE_URL` defaults to
 * the configured bucket. `FILE_INGEST_SFTP_PASSWORD` for SFTP sources without a key file.
 */
export function loadIngestSettings(env: NodeJS.ProcessEnv, defaultBucket: string): IngestSettings {
  const problems: { variable: string; message: string }[] = [];
  const lakeUrl = isBlank(env.LAKE_URL) ? `s3://${defaultBucket}/` : env.LAKE_URL!.trim();
  try {
    parseLakeUrl(lakeUrl);
  } catch (err) {
    problems.push({ variable: 'LAKE_URL', message: (err as Error).message });
  }
  let sources: SourceDefinition[] = [];
  const raw = env.FILE_INGEST_SOURCES?.trim();
  if (raw) {
    try {
      const text = raw.startsWith('@') ? readFileSync(raw.slice(1), 'utf8') : raw;
      const parsed = z.array(sourceSchema).safeParse(JSON.parse(text));
      if (!parsed.success) throw new Error(parsed.error.issues.map((i) => `[${i.path.join('.')}] ${i.message}`).join('; '));
      sources = parsed.data.map(toDefinition);
      const names = sources.map((s) => s.name);
      const dup = names.find((n, i) => names.indexOf(n) !== i);
      if (dup) throw new Error(`source ${dup} is defined twice`);
    } catch (err) {
      problems.push({ variable: 'FILE_INGEST_SOURCES', message: `expected a JSON array of {name, from, include?, exclude?, inventory?, schedule?, bandwidth?} or @file.json: ${(err as Error).message}` });
    }
  }
  const stockCountTopic = isBlank(env.FILE_INGEST_STOCK_TOPIC) ? ingestDefaults.stockCountTopic : env.FILE_INGEST_STOCK_TOPIC!.trim();
  if (!/^[A-Za-z0-9._-]+$/.test(stockCountTopic)) problems.push({ variable: 'FILE_INGEST_STOCK_TOPIC', message: 'not a topic name' });
  const numbers = transferEnvironment.safeParse(env);
  if (!numbers.success) problems.push(...configErrorFrom(numbers.error).problems);
  if (problems.length > 0 || !numbers.success) throw new ConfigError(problems);
  return {
    lakeUrl,
    sources,
    stockCountTopic,
    sftpPassword: env.FILE_INGEST_SFTP_PASSWORD || undefined,
    concurrency: numbers.data.FILE_INGEST_CONCURRENCY,
    partSizeBytes: numbers.data.FILE_INGEST_PART_SIZE,
  };
}
