/**
 * The curated side of the lake: `curated/<topic>/dt=YYYY-MM-DD/hour=HH/part-<run>-<n>.parquet` plus the
 * hour's `_manifest.json`. Readers trust the manifest, never a listing: files that are not in it are
 * either a compaction still in flight or superseded ones about to be deleted.
 */
import { ObjectNotFoundError, type ObjectStore } from '@app/object-store';
import { hourStartMillis } from './manifest';

export const CURATED_MANIFEST_VERSION = 1;

/** `curated/<topic>/dt=YYYY-MM-DD/hour=HH/` for an hour `YYYY-MM-DDTHH` (UTC). */
export function curatedHourPrefix(topic: string, hour: string): string {
  hourStartMillis(hour);
  return `curated/${topic}/dt=${hour.slice(0, 10)}/hour=${hour.slice(11, 13)}/`;
}

/** Topic, hour and file name of a key under `raw/` or `curated/`, or undefined. */
export function hourOfKey(key: string): { area: 'raw' | 'curated'; topic: string; hour: string; file: string } | undefined {
  const match = /^(raw|curated)\/([^/]+)\/dt=(\d{4}-\d{2}-\d{2})\/hour=(\d{2})\/([^/]+)$/.exec(key);
  return match ? { area: match[1] as 'raw' | 'curated', topic: match[2], hour: `${match[3]}T${match[4]}`, file: match[5] } : undefined;
}

export function curatedManifestKey(topic: string, hour: string): string {
  return `${curatedHourPrefix(topic, hour)}_manifest.json`;
}

export interface CuratedFile {
  /** Key relative to the lake root. */
  key: string;
  rows: number;
  bytes: number;
  /** Hex sha256 of the file's bytes. */
  sha256: string;
  minEventTime: string | null;
  maxEventTime: string | null;
}

/** A raw segment the compaction read. */
export interface CuratedSource {
  key: string;
  bytes: number;
  rows: number;
  partition: number;
  /** Kafka offsets of the first and last row (decimal strings, as in the raw manifest). */
  firstOffset: string;
  lastOffset: string;
}

export interface OffsetRange {
  partition: number;
  firstOffset: string;
  lastOffset: string;
  rows: number;
}

export interface CuratedManifest {
  version: number;
  topic: string;
  hour: string;
  /** The run that wrote the files (part of their names); a re-compaction has a new one. */
  compactionId: string;
  compactedAt: string;
  /** Registry id of the reader schema the rows were resolved to (undefined: the catalog's own). */
  readerSchemaId?: number;
  /** Writer schema ids among the rows. */
  schemaIds: number[];
  eventTimeField: string;
  dedupField: string;
  /** Rows read from the sources (duplicates included). */
  inputRows: number;
  /** Rows in the files: the distinct events. */
  rows: number;
  duplicatesDropped: number;
  minEventTime: string | null;
  maxEventTime: string | null;
  files: CuratedFile[];
  sources: CuratedSource[];
  /** Kafka offsets covered, per partition (of the rows read). */
  offsetRanges: OffsetRange[];
  /**
   * Rows carried over from the previous compaction's files because their raw segments had expired
   * (`LAKE_RAW_RETENTION`); their sources are listed in `expiredSources`.
   */
  carriedOverRows?: number;
  expiredSources?: CuratedSource[];
}

/** The hour's curated manifest, or undefined when the hour was never compacted. */
export async function readCuratedManifest(store: ObjectStore, topic: string, hour: string): Promise<CuratedManifest | undefined> {
  try {
    return JSON.parse((await store.get(curatedManifestKey(topic, hour))).toString('utf8')) as CuratedManifest;
  } catch (err) {
    if (err instanceof ObjectNotFoundError) return undefined;
    throw err;
  }
}
