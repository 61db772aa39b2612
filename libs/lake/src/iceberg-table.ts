/**
 * The curated lake as Iceberg v2 tables (`LAKE_TABLE_FORMAT=iceberg`): one table per topic at
 * `curated/<topic>/`, partitioned by `hour(<event time>)`. Compaction asks for the field ids before
 * it writes Parquet (so the files carry them), then commits the hour: a fast append the first time,
 * an overwrite (the hour's old files out, the new ones in, one snapshot) on re-compaction.
 */
import type { AvroSchema } from '@app/codec';
import {
  DELETED,
  FileSystemCatalog,
  IcebergTable,
  currentSnapshot,
  decodeManifest,
  decodeManifestList,
  defaultSpec,
  duckdbFieldIds,
  hourOrdinal,
  icebergTypeOfAvro,
  keyOfUri,
  manifestMayContainHour,
  parquetMetrics,
  prepareSchema,
  unassignedField,
  type DataFile,
  type HourCommitResult,
  type IcebergCatalog,
  type NestedField,
  type PreparedSchema,
} from '@app/iceberg';
import type { ObjectStore } from '@app/object-store';
import * as avro from 'avsc';

/** Iceberg types of the lineage columns (libs/lake parquet-columns LINEAGE_COLUMNS, same order). */
const LINEAGE_FIELDS: NestedField[] = [
  unassignedField('_partition', 'int', 'Kafka partition the event was read from'),
  unassignedField('_offset', 'long', 'Kafka offset of the event in its partition'),
  unassignedField('_timestamp', 'timestamptz', 'Kafka record timestamp (UTC)'),
  unassignedField('_schema_id', 'int', 'Registry id of the schema the producer wrote with'),
  unassignedField('_trace_id', 'string', 'W3C trace id from the traceparent header'),
  unassignedField('_key', 'binary', 'Kafka record key bytes'),
  unassignedField('_headers', { type: 'map', 'key-id': 0, key: 'string', 'value-id': 0, value: 'string', 'value-required': false }, 'Kafka record headers (UTF-8)'),
];

/** The table's columns for a reader schema: the event's fields, then the lineage columns (the Parquet column order). */
export function curatedIcebergFields(reader: AvroSchema): NestedField[] {
  const type = reader.type;
  if (!(type instanceof avro.types.RecordType)) throw new Error(`a topic's value schema must be a record, got ${type.typeName}`);
  const event = type.fields.map((f) => unassignedField(f.name, icebergTypeOfAvro(f.type), (f as unknown as { doc?: string }).doc));
  return [...event, ...LINEAGE_FIELDS];
}

/** Field ids for one compaction run: the DuckDB `FIELD_IDS` clause and the schema to commit with. */
export interface PreparedIcebergWrite {
  schema: PreparedSchema;
  duckdbFieldIds: string;
}

export interface CommittedFile {
  key: string;
  localPath: string;
  bytes: number;
}

/** What compaction needs from a table format besides Parquet files. */
export interface CuratedTableCommitter {
  prepare(reader: AvroSchema): Promise<PreparedIcebergWrite>;
  commitHour(hour: string, files: readonly CommittedFile[], prepared: PreparedIcebergWrite, summary: Record<string, string>): Promise<HourCommitResult>;
  /** Whether the table's current snapshot has live files in the hour. */
  hasHour(hour: string): Promise<boolean>;
}

export function curatedTableRef(topic: string) {
  return { namespace: 'curated', name: topic, prefix: `curated/${topic}` };
}

export class IcebergCuratedTable implements CuratedTableCommitter {
  private readonly table: IcebergTable;

  constructor(
    private readonly store: ObjectStore,
    topic: string,
    private readonly eventTimeField: string,
    catalog: IcebergCatalog = new FileSystemCatalog(store),
  ) {
    this.table = new IcebergTable({ store, catalog, table: curatedTableRef(topic), partitionSource: eventTimeField });
  }

  async prepare(reader: AvroSchema): Promise<PreparedIcebergWrite> {
    const base = await this.table.load();
    const schema = prepareSchema(base?.metadata, curatedIcebergFields(reader));
    return { schema, duckdbFieldIds: duckdbFieldIds(schema.fields) };
  }

  async commitHour(hour: string, files: readonly CommittedFile[], prepared: PreparedIcebergWrite, summary: Record<string, string>): Promise<HourCommitResult> {
    const dataFiles: DataFile[] = [];
    const source = prepared.schema.fields.find((f) => f.name === this.eventTimeField);
    const hourStartMicros = BigInt(Date.parse(`${hour}:00:00Z`)) * 1000n;
    for (const file of files) {
      const metrics = await parquetMetrics(file.localPath, prepared.schema.fields);
      // The partition value is the hour: every row's event time must lie in it (readers prune by it).
      const lower = source && metrics.lowerBounds.get(source.id)?.readBigInt64LE();
      const upper = source && metrics.upperBounds.get(source.id)?.readBigInt64LE();
      if (lower === undefined || upper === undefined || lower < hourStartMicros || upper >= hourStartMicros + 3_600_000_000n) {
        throw new Error(`${file.key}: event times ${String(lower)}..${String(upper)} (µs) are not all in hour ${hour}; not committed to the Iceberg table`);
      }
      dataFiles.push({
        filePath: this.store.url.replace(/\/?$/, '/') + file.key,
        partition: {},
        recordCount: metrics.recordCount,
        fileSizeInBytes: BigInt(file.bytes),
        valueCounts: metrics.valueCounts,
        nullValueCounts: metrics.nullValueCounts,
        nanValueCounts: metrics.nanValueCounts,
        lowerBounds: metrics.lowerBounds,
        upperBounds: metrics.upperBounds,
      });
    }
    return this.table.commitHour({ hour, files: dataFiles, schema: prepared.schema, summary });
  }

  async exists(): Promise<boolean> {
    return (await this.table.load()) !== undefined;
  }

  async hasHour(hour: string): Promise<boolean> {
    const loaded = await this.table.load();
    const snapshot = loaded && currentSnapshot(loaded.metadata);
    if (!loaded || !snapshot) return false;
    const name = defaultSpec(loaded.metadata).fields[0].name;
    const ordinal = hourOrdinal(hour);
    for (const manifest of decodeManifestList(await this.store.get(keyOfUri(this.store, snapshot['manifest-list'])))) {
      if (!manifestMayContainHour(manifest, ordinal)) continue;
      const entries = decodeManifest(await this.store.get(keyOfUri(this.store, manifest.manifestPath)), manifest);
      if (entries.some((e) => e.status !== DELETED && e.file.partition[name] === ordinal)) return true;
    }
    return false;
  }
}
