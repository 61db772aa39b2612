/**
 * The landing side's contract with compaction and readers: where raw segments live, what an hour's
 * `_manifest.json` says, and the hour-close request published to `s3-sink.hour-close`.
 */

/** Internal topic of hour-close requests (JSON values, key `<topic>/<hour>`), consumed by compaction. */
export const HOUR_CLOSE_TOPIC = 's3-sink.hour-close';

/** Why an hour was closed. `late`: segments landed after an earlier close (re-compaction). */
export type HourCloseReason = 'watermark' | 'idle' | 'manual' | 'late';

/** One raw segment (Avro object container file) as the manifest lists it. */
export interface RawSegmentEntry {
  /** Key relative to the lake root: `raw/<topic>/dt=YYYY-MM-DD/hour=HH/<topic>+<partition>+<startOffset>.avro`. */
  key: string;
  rows: number;
  bytes: number;
  /** Hex sha256 of the whole object. */
  sha256: string;
  /** Event-time range of the rows, ISO-8601 UTC. */
  minEventTime: string;
  maxEventTime: string;
  partition: number;
  /** Kafka offsets of the first and last row (decimal strings; offsets are int64). */
  firstOffset: string;
  lastOffset: string;
  /** Registry ids of the writer schemas of the rows' values (one per file today, sorted). */
  schemaIds: number[];
}

/** Offsets of one source partition that landed in this hour (not contiguous: other hours interleave). */
export interface PartitionOffsetRange {
  partition: number;
  firstOffset: string;
  lastOffset: string;
  rows: number;
}

/** `raw/<topic>/dt=YYYY-MM-DD/hour=HH/_manifest.json`. Readers trust the manifest, never a bare listing. */
export interface RawHourManifest {
  version: 1;
  topic: string;
  /** `YYYY-MM-DDTHH` (UTC). */
  hour: string;
  /** Sorted by key. */
  files: RawSegmentEntry[];
  rows: number;
  partitions: PartitionOffsetRange[];
  schemaIds: number[];
  closedAt: string;
  reason: HourCloseReason;
  /** Increments each time the hour is closed again (late segments); 1 for the first close. */
  generation: number;
}

/** Value of a record on {@link HOUR_CLOSE_TOPIC}. */
export interface HourCloseRequest {
  topic: string;
  /** `YYYY-MM-DDTHH` (UTC). */
  hour: string;
  manifestKey: string;
}

const HOUR_PATTERN = /^(\d{4}-\d{2}-\d{2})T(\d{2})$/;

/** `2026-11-28T05` for an instant (UTC). */
export function hourOf(epochMillis: number): string {
  return new Date(epochMillis).toISOString().slice(0, 13);
}

/** Start of the hour `YYYY-MM-DDTHH` in epoch millis; throws on a malformed hour. */
export function hourStartMillis(hour: string): number {
  const m = HOUR_PATTERN.exec(hour);
  if (!m) throw new Error(`not an hour (YYYY-MM-DDTHH): ${hour}`);
  const millis = Date.parse(`${m[1]}T${m[2]}:00:00Z`);
  // Date.parse rolls over (hour 24 is the next midnight, Feb 30 is March 2): only a calendar hour that
  // reads back the same names a folder.
  if (Number.isNaN(millis) || new Date(millis).toISOString().slice(0, 13) !== `${m[1]}T${m[2]}`) {
    throw new Error(`not an hour (YYYY-MM-DDTHH): ${hour}`);
  }
  return millis;
}

/** `raw/<topic>/dt=YYYY-MM-DD/hour=HH/` */
export function rawHourPrefix(topic: string, hour: string): string {
  hourStartMillis(hour);
  return `raw/${topic}/dt=${hour.slice(0, 10)}/hour=${hour.slice(11, 13)}/`;
}

/** `raw/<topic>/dt=YYYY-MM-DD/hour=HH/_manifest.json` */
export function rawManifestKey(topic: string, hour: string): string {
  return `${rawHourPrefix(topic, hour)}_manifest.json`;
}

/** Offsets are zero-padded to 20 digits (like Kafka Connect) so segment names sort by offset. */
export function rawSegmentKey(topic: string, hour: string, partition: number, startOffset: string | bigint): string {
  return `${rawHourPrefix(topic, hour)}${topic}+${partition}+${String(startOffset).padStart(20, '0')}.avro`;
}

/** Reads topic, hour, partition and start offset back from a raw segment key; undefined for other keys. */
export function parseRawSegmentKey(
  key: string,
): { topic: string; hour: string; partition: number; startOffset: string } | undefined {
  const m = /^raw\/([^/]+)\/dt=(\d{4}-\d{2}-\d{2})\/hour=(\d{2})\/([^/+]+)\+(\d+)\+(\d{20})\.avro$/.exec(key);
  if (!m || m[4] !== m[1]) return undefined;
  return { topic: m[1], hour: `${m[2]}T${m[3]}`, partition: Number(m[5]), startOffset: BigInt(m[6]).toString() };
}
