/**
 * Iceberg v2 table metadata (`vN.metadata.json`): parsed and written with lossless longs, and the
 * pure steps a commit takes (a new table, a schema change, a new snapshot, a capped metadata log).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { parseLosslessJson, stringifyLosslessJson, toLong } from './lossless-json';
import type { PartitionSpec } from './manifests';
import { maxFieldId, sameFields, type IcebergSchema, type NestedField } from './schema';

export interface Snapshot {
  'snapshot-id': bigint;
  'parent-snapshot-id'?: bigint;
  'sequence-number': bigint;
  'timestamp-ms': number;
  'manifest-list': string;
  summary: Record<string, string> & { operation: string };
  'schema-id'?: number;
}

export interface TableMetadata {
  'format-version': 2;
  'table-uuid': string;
  location: string;
  'last-sequence-number': bigint;
  'last-updated-ms': number;
  'last-column-id': number;
  'current-schema-id': number;
  schemas: IcebergSchema[];
  'default-spec-id': number;
  'partition-specs': PartitionSpec[];
  'last-partition-id': number;
  'default-sort-order-id': number;
  'sort-orders': { 'order-id': number; fields: unknown[] }[];
  properties: Record<string, string>;
  'current-snapshot-id': bigint | null;
  refs: Record<string, { 'snapshot-id': bigint; type: 'branch' | 'tag'; [k: string]: unknown }>;
  snapshots: Snapshot[];
  'snapshot-log': { 'timestamp-ms': number; 'snapshot-id': bigint }[];
  'metadata-log': { 'timestamp-ms': number; 'metadata-file': string }[];
}

/** Metadata files kept in `metadata-log` (Iceberg's `write.metadata.previous-versions-max`). */
export const DEFAULT_PREVIOUS_VERSIONS_MAX = 50;

/** First partition field id (Iceberg's convention: partition ids start at 1000). */
export const FIRST_PARTITION_FIELD_ID = 1000;

export function parseTableMetadata(text: string): TableMetadata {
  const raw = parseLosslessJson(text) as unknown as TableMetadata & Record<string, unknown>;
  if (raw['format-version'] !== 2) throw new Error(`only Iceberg format version 2 is supported, got ${String(raw['format-version'])}`);
  const current = raw['current-snapshot-id'] as unknown;
  const snapshots = (raw.snapshots ?? []).map((s) => ({
    ...s,
    'snapshot-id': toLong(s['snapshot-id']),
    ...(s['parent-snapshot-id'] !== undefined && s['parent-snapshot-id'] !== null ? { 'parent-snapshot-id': toLong(s['parent-snapshot-id']) } : {}),
    'sequence-number': toLong(s['sequence-number'] ?? 0),
    'timestamp-ms': Number(s['timestamp-ms']),
  }));
  const refs: TableMetadata['refs'] = {};
  for (const [name, ref] of Object.entries(raw.refs ?? {})) refs[name] = { ...ref, 'snapshot-id': toLong(ref['snapshot-id']) };
  return {
    ...raw,
    'last-sequence-number': toLong(raw['last-sequence-number'] ?? 0),
    'last-updated-ms': Number(raw['last-updated-ms']),
    'current-snapshot-id': current === null || current === undefined || toLong(current) === -1n ? null : toLong(current),
    snapshots,
    refs,
    'snapshot-log': (raw['snapshot-log'] ?? []).map((e) => ({ 'timestamp-ms': Number(e['timestamp-ms']), 'snapshot-id': toLong(e['snapshot-id']) })),
    'metadata-log': (raw['metadata-log'] ?? []).map((e) => ({ 'timestamp-ms': Number(e['timestamp-ms']), 'metadata-file': e['metadata-file'] })),
    properties: raw.properties ?? {},
  };
}

export function serializeTableMetadata(metadata: TableMetadata): string {
  return stringifyLosslessJson(metadata, 2) + '\n';
}

/** A random positive 63-bit snapshot id (Iceberg's writers draw them the same way). */
export function newSnapshotId(): bigint {
  return randomBytes(8).readBigUInt64BE() & 0x7fff_ffff_ffff_ffffn || 1n;
}

/** A new, empty table with the given (already id-assigned) fields and an hour partition on `partitionSource`. */
export function newTableMetadata(location: string, fields: NestedField[], partitionSource: string, now: number, properties: Record<string, string> = {}): TableMetadata {
  const source = fields.find((f) => f.name === partitionSource);
  if (!source) throw new Error(`the schema has no field ${partitionSource} to partition by`);
  return {
    'format-version': 2,
    'table-uuid': randomUUID(),
    location,
    'last-sequence-number': 0n,
    'last-updated-ms': now,
    'last-column-id': maxFieldId(fields),
    'current-schema-id': 0,
    schemas: [{ type: 'struct', 'schema-id': 0, fields }],
    'default-spec-id': 0,
    'partition-specs': [{ 'spec-id': 0, fields: [{ name: `${partitionSource}_hour`, transform: 'hour', 'source-id': source.id, 'field-id': FIRST_PARTITION_FIELD_ID }] }],
    'last-partition-id': FIRST_PARTITION_FIELD_ID,
    'default-sort-order-id': 0,
    'sort-orders': [{ 'order-id': 0, fields: [] }],
    properties: { 'write.format.default': 'parquet', 'write.parquet.compression-codec': 'zstd', ...properties },
    'current-snapshot-id': null,
    refs: {},
    snapshots: [],
    'snapshot-log': [],
    'metadata-log': [],
  };
}

export function currentSchema(metadata: TableMetadata): IcebergSchema {
  const schema = metadata.schemas.find((s) => s['schema-id'] === metadata['current-schema-id']);
  if (!schema) throw new Error(`table metadata names current schema ${metadata['current-schema-id']}, which it does not hold`);
  return schema;
}

export function currentSnapshot(metadata: TableMetadata): Snapshot | undefined {
  const id = metadata['current-snapshot-id'];
  return id === null ? undefined : metadata.snapshots.find((s) => s['snapshot-id'] === id);
}

export function defaultSpec(metadata: TableMetadata): PartitionSpec {
  const spec = metadata['partition-specs'].find((s) => s['spec-id'] === metadata['default-spec-id']);
  if (!spec) throw new Error('table metadata has no default partition spec');
  return spec;
}

/** The metadata with `fields` as its current schema (a new schema id when they differ from every known one). */
export function withSchema(metadata: TableMetadata, fields: NestedField[], lastColumnId: number): TableMetadata {
  const existing = metadata.schemas.find((s) => sameFields(s.fields, fields));
  if (existing) return { ...metadata, 'current-schema-id': existing['schema-id'], 'last-column-id': Math.max(metadata['last-column-id'], lastColumnId) };
  const id = Math.max(...metadata.schemas.map((s) => s['schema-id'])) + 1;
  return {
    ...metadata,
    schemas: [...metadata.schemas, { type: 'struct', 'schema-id': id, fields }],
    'current-schema-id': id,
    'last-column-id': Math.max(metadata['last-column-id'], lastColumnId),
  };
}

/** The metadata after committing `snapshot` to `main`; `previousFile` (the base's own file) joins the metadata log. */
export function withSnapshot(metadata: TableMetadata, snapshot: Snapshot, previousFile: string | undefined): TableMetadata {
  const max = Number(metadata.properties['write.metadata.previous-versions-max'] ?? DEFAULT_PREVIOUS_VERSIONS_MAX);
  const log = previousFile ? [...metadata['metadata-log'], { 'timestamp-ms': metadata['last-updated-ms'], 'metadata-file': previousFile }] : metadata['metadata-log'];
  return {
    ...metadata,
    'last-sequence-number': snapshot['sequence-number'],
    'last-updated-ms': snapshot['timestamp-ms'],
    'current-snapshot-id': snapshot['snapshot-id'],
    refs: { ...metadata.refs, main: { 'snapshot-id': snapshot['snapshot-id'], type: 'branch' } },
    snapshots: [...metadata.snapshots, snapshot],
    'snapshot-log': [...metadata['snapshot-log'], { 'timestamp-ms': snapshot['timestamp-ms'], 'snapshot-id': snapshot['snapshot-id'] }],
    'metadata-log': log.slice(Math.max(0, log.length - max)),
  };
}
