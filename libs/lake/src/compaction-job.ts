/**
 * One compaction job as the sink's hour-close consumer and `npm run lake:compact` run it: resolve the
 * newest reader schema, compact the hour, then expire raw segments past retention for the topic.
 */
import type { SchemaRegistryConfig } from '@app/config';
import type { ObjectStore } from '@app/object-store';
import { compactHour, expireRawSegments, type CompactionProgress, type CompactionResult } from './compaction';
import { latestReaderSchema } from './compaction-reader';
import { compactionDefaults, tableFormatOf, type CompactionSettings } from './compaction-settings';
import { IcebergCuratedTable } from './iceberg-table';
import { GlueClient } from '@aws-sdk/client-glue';
import { FileSystemCatalog, GlueCatalog, type IcebergCatalog } from '@app/iceberg';

export interface CompactionJob {
  store: ObjectStore;
  registry: SchemaRegistryConfig;
  settings: CompactionSettings;
  /** Per-topic event-time field (`SINK_EVENT_TIME_FIELDS`); `occurredAt` otherwise. */
  eventTimeFields?: Record<string, string>;
  workDir?: string;
  onProgress?: (event: CompactionProgress) => void;
}

export interface CompactionJobResult extends CompactionResult {
  expiredRawSegments: number;
}

export async function runCompaction(job: CompactionJob, topic: string, hour: string): Promise<CompactionJobResult> {
  const reader = await latestReaderSchema(topic, job.registry);
  const eventTimeField = job.eventTimeFields?.[topic] ?? compactionDefaults.eventTimeField;
  // A topic that already is an Iceberg table stays one even where LAKE_TABLE_FORMAT is not set (e.g. a
  // manual lake:compact): plain compaction would delete files the table's snapshots still reference.
  const iceberg = new IcebergCuratedTable(job.store, topic, eventTimeField, icebergCatalogFor(job.store, job.settings));
  const table = tableFormatOf(job.settings.tableFormats, topic) === 'iceberg' || (await iceberg.exists()) ? iceberg : undefined;
  const compact = (force: boolean) =>
    compactHour(job.store, topic, hour, {
      reader,
      eventTimeField,
      targetFileBytes: job.settings.targetFileBytes,
      workDir: job.workDir,
      onProgress: job.onProgress,
      table,
      force,
    });
  let result = await compact(false);
  // Compacted before the topic became an Iceberg table (or its files lack field ids): write it again into the table.
  if (result.status === 'unchanged' && table && !(await table.hasHour(hour))) result = await compact(true);
  const expired = await expireRawSegments(job.store, topic, job.settings.rawRetentionMs);
  return { ...result, expiredRawSegments: expired.deletedKeys.length };
}

const glueClients = new Map<string, GlueClient>();

/** The catalog LAKE_ICEBERG_CATALOG names (one Glue client per endpoint and region, reused). */
export function icebergCatalogFor(store: ObjectStore, settings: CompactionSettings): IcebergCatalog {
  const catalog = settings.icebergCatalog;
  if (!catalog || catalog.kind === 'filesystem') return new FileSystemCatalog(store);
  const key = `${catalog.region} ${catalog.endpoint ?? ''} ${catalog.credentials?.accessKeyId ?? ''}`;
  let client = glueClients.get(key);
  if (!client) {
    client = new GlueClient({ region: catalog.region, ...(catalog.endpoint ? { endpoint: catalog.endpoint } : {}), ...(catalog.credentials ? { credentials: catalog.credentials } : {}) });
    glueClients.set(key, client);
  }
  return new GlueCatalog(store, client, catalog.database);
}
