// The lake: raw landing, hour close, compaction, manifests (no Nest).
export {};
export * from './manifest';
export { compactHour, expireRawSegments, HourNotClosedError, CompactionVerificationError } from './compaction';
export type { CompactionOptions, CompactionProgress, CompactionResult, ReaderSchema } from './compaction';
export { RawSegmentDecoder, RawSegmentError } from './compaction-input';
export type { RawRow } from './compaction-input';
export { compactionDefaults, loadCompactionSettings, parseBytes, parseDuration } from './compaction-settings';
export type { CompactionSettings } from './compaction-settings';
export { CURATED_MANIFEST_VERSION, curatedHourPrefix, curatedManifestKey, hourOfKey, readCuratedManifest } from './curated-manifest';
export type { CuratedFile, CuratedManifest, CuratedSource, OffsetRange } from './curated-manifest';
export { LINEAGE_COLUMNS, columnType, eventColumns, tableNameOf } from './parquet-columns';
export { CuratedParquetWriter, traceIdOf } from './parquet-writer';
