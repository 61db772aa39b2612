// Iceberg v2 tables over the lake's object store: metadata, manifests, catalogs, commits, maintenance (no Nest).
export { parseLosslessJson, stringifyLosslessJson, toLong } from './lossless-json';
export type { JsonValue } from './lossless-json';
export { losslessLong, losslessType, readOcf, writeOcf } from './avro-ocf';
export type { OcfContents } from './avro-ocf';
export { assignFieldIds, duckdbFieldIds, icebergTypeOfAvro, idsByPath, maxFieldId, sameFields, unassignedField } from './schema';
export type { IcebergSchema, IcebergType, ListType, MapType, NestedField, PrimitiveType, StructType } from './schema';
export { ADDED, DELETED, EXISTING, decodeManifest, decodeManifestList, encodeManifest, encodeManifestList, manifestEntrySchema, MANIFEST_FILE_SCHEMA } from './manifests';
export type { DataFile, ManifestEntry, ManifestFile, PartitionField, PartitionSpec } from './manifests';
export { encodeBound, parquetMetrics, twosComplementBigEndian, unscaledDecimal } from './metrics';
export type { ColumnMetrics } from './metrics';
export {
  currentSchema,
  currentSnapshot,
  defaultSpec,
  DEFAULT_PREVIOUS_VERSIONS_MAX,
  FIRST_PARTITION_FIELD_ID,
  newSnapshotId,
  newTableMetadata,
  parseTableMetadata,
  serializeTableMetadata,
  withSchema,
  withSnapshot,
} from './table-metadata';
export type { Snapshot, TableMetadata } from './table-metadata';
export { CommitConflictError, FileSystemCatalog, keyOfUri, tableLocation } from './catalog';
export type { IcebergCatalog, LoadedTable, TableRef } from './catalog';
export { hourOrdinal, IcebergTable, mayContain as manifestMayContainHour, prepareSchema, SchemaConflictError, summarizeManifest } from './table';
export type { HourCommit, HourCommitResult, IcebergTableOptions, PreparedSchema } from './table';
export { maintainTable } from './maintenance';
export type { MaintenanceOptions, MaintenanceResult } from './maintenance';
export { GlueCatalog, glueName, hiveType } from './glue-catalog';
