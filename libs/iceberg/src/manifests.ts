/**
 * Manifests (one Avro file listing data files with their partition and column metrics) and manifest
 * lists (one Avro file per snapshot listing its manifests), in the Iceberg v2 layout: every field
 * carries its reserved `field-id`, int-keyed maps are arrays of key/value records with
 * `logicalType: map`, and the headers carry schema, partition spec, format version and content.
 */
import { readOcf, writeOcf } from './avro-ocf';
import type { IcebergSchema } from './schema';
import { stringifyLosslessJson } from './lossless-json';

export interface PartitionField {
  name: string;
  transform: string;
  'source-id': number;
  'field-id': number;
}
export interface PartitionSpec {
  'spec-id': number;
  fields: PartitionField[];
}

/** Entry status in a manifest. */
export const EXISTING = 0;
export const ADDED = 1;
export const DELETED = 2;

export interface DataFile {
  /** Full URI (`s3://bucket/...` or `file:///...`). */
  filePath: string;
  /** Partition values by partition field name (hour transform: hours since the epoch). */
  partition: Record<string, number | null>;
  recordCount: bigint;
  fileSizeInBytes: bigint;
  columnSizes?: Map<number, bigint>;
  valueCounts?: Map<number, bigint>;
  nullValueCounts?: Map<number, bigint>;
  nanValueCounts?: Map<number, bigint>;
  lowerBounds?: Map<number, Buffer>;
  upperBounds?: Map<number, Buffer>;
}

export interface ManifestEntry {
  status: number;
  snapshotId: bigint;
  sequenceNumber: bigint;
  fileSequenceNumber: bigint;
  file: DataFile;
}

/** One manifest in a manifest list. */
export interface ManifestFile {
  manifestPath: string;
  manifestLength: bigint;
  partitionSpecId: number;
  /** 0: data, 1: deletes. */
  content: number;
  sequenceNumber: bigint;
  minSequenceNumber: bigint;
  addedSnapshotId: bigint;
  addedFilesCount: number;
  existingFilesCount: number;
  deletedFilesCount: number;
  addedRowsCount: bigint;
  existingRowsCount: bigint;
  deletedRowsCount: bigint;
  partitions: { containsNull: boolean; containsNan: boolean | null; lowerBound: Buffer | null; upperBound: Buffer | null }[] | null;
}

const optional = (type: unknown) => ['null', type];

function intMap(name: string, id: number, keyId: number, valueId: number, valueType: string) {
  return {
    name,
    type: optional({
      type: 'array',
      items: { type: 'record', name: `k${keyId}_v${valueId}`, fields: [{ name: 'key', type: 'int', 'field-id': keyId }, { name: 'value', type: valueType, 'field-id': valueId }] },
      logicalType: 'map',
    }),
    default: null,
    'field-id': id,
  };
}

/** The manifest_entry Avro schema for a partition spec (hour-transform fields are optional ints). */
export function manifestEntrySchema(spec: PartitionSpec): object {
  return {
    type: 'record',
    name: 'manifest_entry',
    fields: [
      { name: 'status', type: 'int', 'field-id': 0 },
      { name: 'snapshot_id', type: optional('long'), default: null, 'field-id': 1 },
      { name: 'sequence_number', type: optional('long'), default: null, 'field-id': 3 },
      { name: 'file_sequence_number', type: optional('long'), default: null, 'field-id': 4 },
      {
        name: 'data_file',
        'field-id': 2,
        type: {
          type: 'record',
          name: 'r2',
          fields: [
            { name: 'content', type: 'int', 'field-id': 134 },
            { name: 'file_path', type: 'string', 'field-id': 100 },
            { name: 'file_format', type: 'string', 'field-id': 101 },
            {
              name: 'partition',
              'field-id': 102,
              type: { type: 'record', name: 'r102', fields: spec.fields.map((f) => ({ name: f.name, type: optional('int'), default: null, 'field-id': f['field-id'] })) },
            },
            { name: 'record_count', type: 'long', 'field-id': 103 },
            { name: 'file_size_in_bytes', type: 'long', 'field-id': 104 },
            intMap('column_sizes', 108, 117, 118, 'long'),
            intMap('value_counts', 109, 119, 120, 'long'),
            intMap('null_value_counts', 110, 121, 122, 'long'),
            intMap('nan_value_counts', 137, 138, 139, 'long'),
            intMap('lower_bounds', 125, 126, 127, 'bytes'),
            intMap('upper_bounds', 128, 129, 130, 'bytes'),
            { name: 'key_metadata', type: optional('bytes'), default: null, 'field-id': 131 },
            { name: 'split_offsets', type: optional({ type: 'array', items: 'long', 'element-id': 133 }), default: null, 'field-id': 132 },
            { name: 'equality_ids', type: optional({ type: 'array', items: 'int', 'element-id': 136 }), default: null, 'field-id': 135 },
            { name: 'sort_order_id', type: optional('int'), default: null, 'field-id': 140 },
          ],
        },
      },
    ],
  };
}

export const MANIFEST_FILE_SCHEMA = {
  type: 'record',
  name: 'manifest_file',
  fields: [
    { name: 'manifest_path', type: 'string', 'field-id': 500 },
    { name: 'manifest_length', type: 'long', 'field-id': 501 },
    { name: 'partition_spec_id', type: 'int', 'field-id': 502 },
    { name: 'content', type: 'int', 'field-id': 517 },
    { name: 'sequence_number', type: 'long', 'field-id': 515 },
    { name: 'min_sequence_number', type: 'long', 'field-id': 516 },
    { name: 'added_snapshot_id', type: 'long', 'field-id': 503 },
    { name: 'added_files_count', type: 'int', 'field-id': 504 },
    { name: 'existing_files_count', type: 'int', 'field-id': 505 },
    { name: 'deleted_files_count', type: 'int', 'field-id': 506 },
    { name: 'added_rows_count', type: 'long', 'field-id': 512 },
    { name: 'existing_rows_count', type: 'long', 'field-id': 513 },
    { name: 'deleted_rows_count', type: 'long', 'field-id': 514 },
    {
      name: 'partitions',
      type: optional({
        type: 'array',
        'element-id': 508,
        items: {
          type: 'record',
          name: 'r508',
          fields: [
            { name: 'contains_null', type: 'boolean', 'field-id': 509 },
            { name: 'contains_nan', type: optional('boolean'), default: null, 'field-id': 518 },
            { name: 'lower_bound', type: optional('bytes'), default: null, 'field-id': 510 },
            { name: 'upper_bound', type: optional('bytes'), default: null, 'field-id': 511 },
          ],
        },
      }),
      default: null,
      'field-id': 507,
    },
    { name: 'key_metadata', type: optional('bytes'), default: null, 'field-id': 519 },
  ],
};

const toPairs = <V>(m: Map<number, V> | undefined) => (m ? [...m.entries()].sort((a, b) => a[0] - b[0]).map(([key, value]) => ({ key, value })) : null);
const fromPairs = <V>(pairs: { key: number; value: V }[] | null | undefined) => (pairs ? new Map(pairs.map((p) => [p.key, p.value])) : undefined);

/** The Avro bytes of a manifest of data files. */
export function encodeManifest(entries: readonly ManifestEntry[], schema: IcebergSchema, spec: PartitionSpec): Buffer {
  const records = entries.map((e) => ({
    status: e.status,
    snapshot_id: e.snapshotId,
    sequence_number: e.sequenceNumber,
    file_sequence_number: e.fileSequenceNumber,
    data_file: {
      content: 0,
      file_path: e.file.filePath,
      file_format: 'PARQUET',
      partition: Object.fromEntries(spec.fields.map((f) => [f.name, e.file.partition[f.name] ?? null])),
      record_count: e.file.recordCount,
      file_size_in_bytes: e.file.fileSizeInBytes,
      column_sizes: toPairs(e.file.columnSizes),
      value_counts: toPairs(e.file.valueCounts),
      null_value_counts: toPairs(e.file.nullValueCounts),
      nan_value_counts: toPairs(e.file.nanValueCounts),
      lower_bounds: toPairs(e.file.lowerBounds),
      upper_bounds: toPairs(e.file.upperBounds),
      key_metadata: null,
      split_offsets: null,
      equality_ids: null,
      sort_order_id: null,
    },
  }));
  return writeOcf(manifestEntrySchema(spec), {
    schema: stringifyLosslessJson(schema, 0),
    'schema-id': String(schema['schema-id']),
    'partition-spec': JSON.stringify(spec.fields),
    'partition-spec-id': String(spec['spec-id']),
    'format-version': '2',
    content: 'data',
  }, records);
}

interface RawEntry {
  status: number;
  snapshot_id: bigint | null;
  sequence_number: bigint | null;
  file_sequence_number: bigint | null;
  data_file: {
    file_path: string;
    partition: Record<string, number | null>;
    record_count: bigint;
    file_size_in_bytes: bigint;
    column_sizes?: { key: number; value: bigint }[] | null;
    value_counts?: { key: number; value: bigint }[] | null;
    null_value_counts?: { key: number; value: bigint }[] | null;
    nan_value_counts?: { key: number; value: bigint }[] | null;
    lower_bounds?: { key: number; value: Buffer }[] | null;
    upper_bounds?: { key: number; value: Buffer }[] | null;
  };
}

/**
 * The entries of a manifest; null snapshot ids and sequence numbers are inherited from the manifest
 * list entry that names it (v2 inheritance).
 */
export function decodeManifest(buf: Buffer, listed: Pick<ManifestFile, 'addedSnapshotId' | 'sequenceNumber'>): ManifestEntry[] {
  return readOcf<RawEntry>(buf).records.map((r) => {
    const sequenceNumber = r.sequence_number ?? listed.sequenceNumber;
    return {
      status: r.status,
      snapshotId: r.snapshot_id ?? listed.addedSnapshotId,
      sequenceNumber,
      fileSequenceNumber: r.file_sequence_number ?? sequenceNumber,
      file: {
        filePath: r.data_file.file_path,
        partition: { ...r.data_file.partition },
        recordCount: r.data_file.record_count,
        fileSizeInBytes: r.data_file.file_size_in_bytes,
        columnSizes: fromPairs(r.data_file.column_sizes),
        valueCounts: fromPairs(r.data_file.value_counts),
        nullValueCounts: fromPairs(r.data_file.null_value_counts),
        nanValueCounts: fromPairs(r.data_file.nan_value_counts),
        lowerBounds: fromPairs(r.data_file.lower_bounds),
        upperBounds: fromPairs(r.data_file.upper_bounds),
      },
    };
  });
}

export function encodeManifestList(manifests: readonly ManifestFile[], meta: { snapshotId: bigint; parentSnapshotId?: bigint; sequenceNumber: bigint }): Buffer {
  const records = manifests.map((m) => ({
    manifest_path: m.manifestPath,
    manifest_length: m.manifestLength,
    partition_spec_id: m.partitionSpecId,
    content: m.content,
    sequence_number: m.sequenceNumber,
    min_sequence_number: m.minSequenceNumber,
    added_snapshot_id: m.addedSnapshotId,
    added_files_count: m.addedFilesCount,
    existing_files_count: m.existingFilesCount,
    deleted_files_count: m.deletedFilesCount,
    added_rows_count: m.addedRowsCount,
    existing_rows_count: m.existingRowsCount,
    deleted_rows_count: m.deletedRowsCount,
    partitions: m.partitions?.map((p) => ({ contains_null: p.containsNull, contains_nan: p.containsNan, lower_bound: p.lowerBound, upper_bound: p.upperBound })) ?? null,
    key_metadata: null,
  }));
  return writeOcf(MANIFEST_FILE_SCHEMA, {
    'snapshot-id': meta.snapshotId.toString(),
    'parent-snapshot-id': meta.parentSnapshotId === undefined ? 'null' : meta.parentSnapshotId.toString(),
    'sequence-number': meta.sequenceNumber.toString(),
    'format-version': '2',
  }, records);
}

interface RawManifestFile {
  manifest_path: string;
  manifest_length: bigint;
  partition_spec_id: number;
  content?: number;
  sequence_number?: bigint;
  min_sequence_number?: bigint;
  added_snapshot_id: bigint;
  added_files_count?: number | null;
  existing_files_count?: number | null;
  deleted_files_count?: number | null;
  added_data_files_count?: number | null;
  existing_data_files_count?: number | null;
  deleted_data_files_count?: number | null;
  added_rows_count?: bigint | null;
  existing_rows_count?: bigint | null;
  deleted_rows_count?: bigint | null;
  partitions?: { contains_null: boolean; contains_nan?: boolean | null; lower_bound?: Buffer | null; upper_bound?: Buffer | null }[] | null;
}

export function decodeManifestList(buf: Buffer): ManifestFile[] {
  return readOcf<RawManifestFile>(buf).records.map((r) => ({
    manifestPath: r.manifest_path,
    manifestLength: r.manifest_length,
    partitionSpecId: r.partition_spec_id,
    content: r.content ?? 0,
    sequenceNumber: r.sequence_number ?? 0n,
    minSequenceNumber: r.min_sequence_number ?? 0n,
    addedSnapshotId: r.added_snapshot_id,
    addedFilesCount: r.added_files_count ?? r.added_data_files_count ?? 0,
    existingFilesCount: r.existing_files_count ?? r.existing_data_files_count ?? 0,
    deletedFilesCount: r.deleted_files_count ?? r.deleted_data_files_count ?? 0,
    addedRowsCount: r.added_rows_count ?? 0n,
    existingRowsCount: r.existing_rows_count ?? 0n,
    deletedRowsCount: r.deleted_rows_count ?? 0n,
    partitions: r.partitions?.map((p) => ({ containsNull: p.contains_null, containsNan: p.contains_nan ?? null, lowerBound: p.lower_bound ?? null, upperBound: p.upper_bound ?? null })) ?? null,
  }));
}
