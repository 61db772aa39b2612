/**
 * `npm run lake:maintain` settings for the Iceberg tables: defaults are data (Iceberg's own defaults
 * where it has them), the environment is validated with zod and a bad variable is named in a ConfigError.
 */
import { z } from 'zod';
import { ConfigError } from '@app/config';
import { parseDurationMs } from './lake-settings';

export const icebergMaintenanceDefaults = {
  /** Snapshots younger than this stay for time travel (Iceberg's `history.expire.max-snapshot-age-ms`: 5 days). */
  snapshotRetentionMs: 5 * 86_400_000,
  /** The newest snapshots kept whatever their age (`history.expire.min-snapshots-to-keep`). */
  retainLast: 1,
  /** Unreferenced files are orphans only once older than this (Spark's remove_orphan_files: 3 days). */
  orphanGraceMs: 3 * 86_400_000,
  /** The current snapshot's manifests are merged into one from this many (one manifest per committed hour). */
  mergeManifestsMin: 16,
  /** Metadata files kept in the metadata log (`write.metadata.previous-versions-max`). */
  metadataLogMax: 50,
} as const;

export interface IcebergMaintenanceSettings {
  snapshotRetentionMs: number;
  retainLast: number;
  orphanGraceMs: number;
  mergeManifestsMin: number;
  metadataLogMax: number;
}

const duration = (fallback: number) =>
  z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v.trim() === '') return fallback;
      const ms = parseDurationMs(v);
      if (ms === undefined) {
        ctx.addIssue({ code: 'custom', message: 'expected a duration such as 5d, 48h or 90m' });
        return z.NEVER;
      }
      return ms;
    });
const count = (fallback: number, min: number) =>
  z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v.trim() === '') return fallback;
      const n = Number(v);
      if (!Number.isInteger(n) || n < min) {
        ctx.addIssue({ code: 'custom', message: `expected a whole number of at least ${min}` });
        return z.NEVER;
      }
      return n;
    });

const environment = z.object({
  LAKE_ICEBERG_SNAPSHOT_RETENTION: duration(icebergMaintenanceDefaults.snapshotRetentionMs),
  LAKE_ICEBERG_RETAIN_LAST: count(icebergMaintenanceDefaults.retainLast, 1),
  LAKE_ICEBERG_ORPHAN_GRACE: duration(icebergMaintenanceDefaults.orphanGraceMs),
  LAKE_ICEBERG_MERGE_MANIFESTS_MIN: count(icebergMaintenanceDefaults.mergeManifestsMin, 0),
  LAKE_ICEBERG_METADATA_LOG_MAX: count(icebergMaintenanceDefaults.metadataLogMax, 1),
});

export function loadIcebergMaintenanceSettings(env: NodeJS.ProcessEnv = process.env): IcebergMaintenanceSettings {
  const parsed = environment.safeParse(env);
  if (!parsed.success) throw new ConfigError(parsed.error.issues.map((i) => ({ variable: i.path.join('.'), message: i.message })));
  const d = parsed.data;
  return {
    snapshotRetentionMs: d.LAKE_ICEBERG_SNAPSHOT_RETENTION,
    retainLast: d.LAKE_ICEBERG_RETAIN_LAST,
    orphanGraceMs: d.LAKE_ICEBERG_ORPHAN_GRACE,
    mergeManifestsMin: d.LAKE_ICEBERG_MERGE_MANIFESTS_MIN,
    metadataLogMax: d.LAKE_ICEBERG_METADATA_LOG_MAX,
  };
}
