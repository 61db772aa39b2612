/**
 * Commits to one Iceberg table whose data files are hour partitions: a fast append of a new hour,
 * or an overwrite that deletes the hour's live files and adds the new ones in one snapshot, so a
 * reader never sees the hour twice or half. Every commit is optimistic: build the new metadata from
 * the current one, let the catalog swap it in if nobody committed meanwhile, else reload and retry.
 */
import { randomUUID } from 'node:crypto';
import type { ObjectStore } from '@app/object-store';
import { CommitConflictError, keyOfUri, tableLocation, type IcebergCatalog, type LoadedTable, type TableRef } from './catalog';
import {
  ADDED,
  DELETED,
  EXISTING,
  decodeManifest,
  decodeManifestList,
  encodeManifest,
  encodeManifestList,
  type DataFile,
  type ManifestEntry,
  type ManifestFile,
  type PartitionSpec,
} from './manifests';
import { assignFieldIds, sameFields, type IcebergSchema, type NestedField } from './schema';
import {
  currentSchema,
  currentSnapshot,
  defaultSpec,
  newSnapshotId,
  newTableMetadata,
  withSchema,
  withSnapshot,
  type Snapshot,
  type TableMetadata,
} from './table-metadata';

/** Hours since the epoch of an hour `YYYY-MM-DDTHH` (the value of Iceberg's `hour` transform). */
export function hourOrdinal(hour: string): number {
  const ms = Date.parse(`${hour}:00:00Z`);
  if (!Number.isFinite(ms)) throw new Error(`not an hour: ${hour}`);
  return ms / 3_600_000;
}

/** The schema a writer must give its files' columns, with the table state it was assigned against. */
export interface PreparedSchema {
  fields: NestedField[];
  lastColumnId: number;
}

/** The schema for `unassigned` fields against the table's current one (ids reused by name path, new ones after last-column-id). */
export function prepareSchema(base: TableMetadata | undefined, unassigned: readonly NestedField[]): PreparedSchema {
  if (!base) return assignFieldIds(unassigned, undefined, 0);
  return assignFieldIds(unassigned, currentSchema(base).fields, base['last-column-id']);
}

/** The schema changed under us in a way that changes ids: the files must be written again. */
export class SchemaConflictError extends Error {
  readonly retriable = true;
  constructor(message: string) {
    super(message);
    this.name = 'SchemaConflictError';
  }
}

export interface HourCommit {
  /** `YYYY-MM-DDTHH`; its files' partition value is hour(partition source) of this hour. */
  hour: string;
  files: DataFile[];
  /** The fields the files were written with (from {@link prepareSchema}). */
  schema: PreparedSchema;
  /** Extra snapshot summary properties (e.g. the compaction run id). */
  summary?: Record<string, string>;
}

export interface IcebergTableOptions {
  store: ObjectStore;
  catalog: IcebergCatalog;
  table: TableRef;
  /** The timestamp field partitioned by `hour(...)`. */
  partitionSource: string;
  now?: () => number;
  maxAttempts?: number;
  /** Table properties for a new table. */
  properties?: Record<string, string>;
}

export interface HourCommitResult {
  snapshotId: bigint;
  operation: 'append' | 'overwrite';
  addedFiles: number;
  deletedFiles: number;
  metadataLocation: string;
  attempts: number;
}

export class IcebergTable {
  private readonly now: () => number;

  constructor(private readonly options: IcebergTableOptions) {
    this.now = options.now ?? Date.now;
  }

  get location(): string {
    return tableLocation(this.options.store, this.options.table);
  }

  load(): Promise<LoadedTable | undefined> {
    return this.options.catalog.load(this.options.table);
  }

  /** Replaces the hour's live files with `commit.files` (append when it has none), retrying on conflicts. */
  async commitHour(commit: HourCommit): Promise<HourCommitResult> {
    const maxAttempts = this.options.maxAttempts ?? 8;
    for (let attempt = 1; ; attempt++) {
      const base = await this.load();
      try {
        return { ...(await this.tryCommit(base, commit)), attempts: attempt };
      } catch (err) {
        if (!(err instanceof CommitConflictError) || attempt >= maxAttempts) throw err;
        await new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(2_000, 50 * 2 ** attempt)));
      }
    }
  }

  private async tryCommit(base: LoadedTable | undefined, commit: HourCommit): Promise<Omit<HourCommitResult, 'attempts'>> {
    const { store, catalog, table, partitionSource } = this.options;
    const now = this.now();
    let metadata: TableMetadata;
    if (!base) {
      metadata = newTableMetadata(this.location, commit.schema.fields, partitionSource, now, this.options.properties);
    } else {
      // Another writer may have evolved the schema since the files were written: their ids must still hold.
      const again = prepareSchema(base.metadata, commit.schema.fields.map(stripIds));
      if (!sameFields(again.fields, commit.schema.fields)) {
        throw new SchemaConflictError(`${table.name}: the table's schema changed while the files were written; compact again`);
      }
      metadata = withSchema(base.metadata, again.fields, again.lastColumnId);
    }
    const schema = currentSchema(metadata);
    const spec = defaultSpec(metadata);
    const partitionName = spec.fields[0].name;
    const ordinal = hourOrdinal(commit.hour);
    const parent = currentSnapshot(metadata);
    const snapshotId = newSnapshotId();
    const sequenceNumber = metadata['last-sequence-number'] + 1n;
    const metadataDir = `${table.prefix}/metadata`;
    const uri = (key: string) => tableLocation(store, { ...table, prefix: key });

    const manifests: ManifestFile[] = [];
    let deletedFiles = 0;
    let deletedRecords = 0n;
    let deletedBytes = 0n;
    if (parent) {
      for (const manifest of decodeManifestList(await store.get(keyOfUri(store, parent['manifest-list'])))) {
        if (manifest.addedFilesCount + manifest.existingFilesCount === 0) continue; // only deletes of an older snapshot
        if (!mayContain(manifest, ordinal)) {
          manifests.push(manifest);
          continue;
        }
        const entries = decodeManifest(await store.get(keyOfUri(store, manifest.manifestPath)), manifest);
        const live = entries.filter((e) => e.status !== DELETED);
        const hit = live.filter((e) => e.file.partition[partitionName] === ordinal);
        if (hit.length === 0) {
          manifests.push(manifest);
          continue;
        }
        const kept = live.filter((e) => e.file.partition[partitionName] !== ordinal).map((e): ManifestEntry => ({ ...e, status: EXISTING }));
        const removed = hit.map((e): ManifestEntry => ({ ...e, status: DELETED, snapshotId }));
        deletedFiles += removed.length;
        for (const e of removed) {
          deletedRecords += e.file.recordCount;
          deletedBytes += e.file.fileSizeInBytes;
        }
        manifests.push(await this.writeManifest(metadataDir, uri, [...kept, ...removed], schema, spec, snapshotId, sequenceNumber));
      }
    }
    const added = commit.files.map((file): ManifestEntry => ({ status: ADDED, snapshotId, sequenceNumber, fileSequenceNumber: sequenceNumber, file: { ...file, partition: { [partitionName]: ordinal } } }));
    if (added.length > 0) manifests.push(await this.writeManifest(metadataDir, uri, added, schema, spec, snapshotId, sequenceNumber));

    const operation = deletedFiles > 0 ? 'overwrite' : 'append';
    const addedRecords = added.reduce((n, e) => n + e.file.recordCount, 0n);
    const addedBytes = added.reduce((n, e) => n + e.file.fileSizeInBytes, 0n);
    const total = (key: string, delta: bigint) => String(BigInt(parent?.summary[key] ?? '0') + delta);
    const listKey = `${metadataDir}/snap-${snapshotId}-1-${randomUUID()}.avro`;
    await store.put(listKey, encodeManifestList(manifests, { snapshotId, parentSnapshotId: parent?.['snapshot-id'], sequenceNumber }), { contentType: 'application/avro' });
    const snapshot: Snapshot = {
      'snapshot-id': snapshotId,
      ...(parent ? { 'parent-snapshot-id': parent['snapshot-id'] } : {}),
      'sequence-number': sequenceNumber,
      'timestamp-ms': now,
      'manifest-list': uri(listKey),
      summary: {
        operation,
        'added-data-files': String(added.length),
        'added-records': String(addedRecords),
        'added-files-size': String(addedBytes),
        ...(deletedFiles > 0 ? { 'deleted-data-files': String(deletedFiles), 'deleted-records': String(deletedRecords), 'removed-files-size': String(deletedBytes) } : {}),
        'changed-partition-count': '1',
        'total-data-files': total('total-data-files', BigInt(added.length - deletedFiles)),
        'total-records': total('total-records', addedRecords - deletedRecords),
        'total-files-size': total('total-files-size', addedBytes - deletedBytes),
        'total-delete-files': '0',
        'total-position-deletes': '0',
        'total-equality-deletes': '0',
        ...commit.summary,
      },
      'schema-id': schema['schema-id'],
    };
    const next = withSnapshot(metadata, snapshot, base?.metadataLocation);
    const loaded = await catalog.commit(table, base, next);
    return { snapshotId, operation, addedFiles: added.length, deletedFiles, metadataLocation: loaded.metadataLocation };
  }

  private async writeManifest(
    dir: string,
    uri: (key: string) => string,
    entries: ManifestEntry[],
    schema: IcebergSchema,
    spec: PartitionSpec,
    snapshotId: bigint,
    sequenceNumber: bigint,
  ): Promise<ManifestFile> {
    const key = `${dir}/${randomUUID()}-m0.avro`;
    const body = encodeManifest(entries, schema, spec);
    await this.options.store.put(key, body, { contentType: 'application/avro' });
    return summarizeManifest(uri(key), BigInt(body.length), entries, spec, snapshotId, sequenceNumber);
  }
}

function stripIds(field: NestedField): NestedField {
  const strip = (type: NestedField['type']): NestedField['type'] => {
    if (typeof type === 'string') return type;
    if (type.type === 'struct') return { type: 'struct', fields: type.fields.map(stripIds) };
    if (type.type === 'list') return { ...type, 'element-id': 0, element: strip(type.element) };
    return { ...type, 'key-id': 0, 'value-id': 0, key: strip(type.key), value: strip(type.value) };
  };
  return { ...field, id: 0, type: strip(field.type) };
}

/** Whether a manifest's partition summary admits the hour (no summary: it may). */
export function mayContain(manifest: ManifestFile, ordinal: number): boolean {
  const summary = manifest.partitions?.[0];
  if (!summary || !summary.lowerBound || !summary.upperBound) return true;
  return summary.lowerBound.readInt32LE() <= ordinal && ordinal <= summary.upperBound.readInt32LE();
}

/** The manifest-list entry of a manifest, with counts and the partition range it covers. */
export function summarizeManifest(path: string, length: bigint, entries: readonly ManifestEntry[], spec: PartitionSpec, snapshotId: bigint, sequenceNumber: bigint): ManifestFile {
  const count = (status: number) => entries.filter((e) => e.status === status);
  const rows = (list: ManifestEntry[]) => list.reduce((n, e) => n + e.file.recordCount, 0n);
  const live = entries.filter((e) => e.status !== DELETED);
  const partitions = spec.fields.map((f) => {
    const values = entries.map((e) => e.file.partition[f.name]);
    const present = values.filter((v): v is number => v !== null && v !== undefined);
    const bound = (v: number | undefined) => {
      if (v === undefined) return null;
      const b = Buffer.alloc(4);
      b.writeInt32LE(v);
      return b;
    };
    return {
      containsNull: present.length < values.length,
      containsNan: null,
      lowerBound: bound(present.length ? Math.min(...present) : undefined),
      upperBound: bound(present.length ? Math.max(...present) : undefined),
    };
  });
  return {
    manifestPath: path,
    manifestLength: length,
    partitionSpecId: spec['spec-id'],
    content: 0,
    sequenceNumber,
    minSequenceNumber: live.length ? live.reduce((m, e) => (e.sequenceNumber < m ? e.sequenceNumber : m), live[0].sequenceNumber) : sequenceNumber,
    addedSnapshotId: snapshotId,
    addedFilesCount: count(ADDED).length,
    existingFilesCount: count(EXISTING).length,
    deletedFilesCount: count(DELETED).length,
    addedRowsCount: rows(count(ADDED)),
    existingRowsCount: rows(count(EXISTING)),
    deletedRowsCount: rows(count(DELETED)),
    partitions,
  };
}
