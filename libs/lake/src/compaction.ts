/**
 * Compaction of one closed hour of one topic: raw Avro segments → deduplicated, event-time sorted,
 * zstd Parquet under `curated/`, switched in by the hour's `_manifest.json` only after the row counts
 * check out, and only then the superseded files deleted. Running it again with the same inputs does
 * nothing; with late segments it rewrites the hour under a new run id.
 */
import { createHash, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { ObjectNotFoundError, type ObjectInfo, type ObjectStore } from '@app/object-store';
import type { AvroSchema } from '@app/codec';
import { RawSegmentDecoder, type RawRow } from './compaction-input';
import {
  CURATED_MANIFEST_VERSION,
  curatedHourPrefix,
  curatedManifestKey,
  hourOfKey,
  readCuratedManifest,
  type CuratedFile,
  type CuratedManifest,
  type CuratedSource,
  type OffsetRange,
} from './curated-manifest';
import { hourStartMillis, rawHourPrefix, rawManifestKey, type RawHourManifest } from './manifest';
import { CuratedParquetWriter } from './parquet-writer';
import { compactionDefaults } from './compaction-settings';
import type { CuratedTableCommitter } from './iceberg-table';
import type { HourCommitResult } from '@app/iceberg';

/** The schema rows are resolved to: the newest one (registry latest, or the catalog's). */
export interface ReaderSchema {
  schema: AvroSchema;
  /** Registry id, when it came from the registry. */
  schemaId?: number;
}

export interface CompactionOptions {
  reader: ReaderSchema;
  eventTimeField?: string;
  dedupField?: string;
  targetFileBytes?: number;
  /** Local scratch space (NDJSON staging when used, DuckDB spill, Parquet before upload). */
  workDir?: string;
  /** NDJSON bytes per chunk loaded into DuckDB while decoding goes on; Infinity loads once at the end. */
  stagingChunkBytes?: number;
  /** How rows reach DuckDB: typed data chunks (default, when the schema allows) or NDJSON (benchmark comparison). */
  staging?: 'chunks' | 'ndjson';
  /** Orphaned part files (of crashed runs) older than this are deleted. */
  orphanGraceMs?: number;
  now?: () => number;
  onProgress?: (event: CompactionProgress) => void;
  /**
   * The table format's commit (Iceberg): the Parquet files get its field ids, the hour is committed
   * before the curated manifest switches, and superseded files stay for the table's older snapshots
   * (lake:maintain removes them once no snapshot references them).
   */
  table?: CuratedTableCommitter;
  /** Compact even when the inputs are unchanged (an hour the table does not have yet). */
  force?: boolean;
}

export type CompactionProgress =
  | { step: 'inputs'; segments: number; lateSegments: number; carriedOverFiles: number }
  | { step: 'decoded'; segment: string; rows: number; done: number; of: number }
  | { step: 'written'; files: number; rows: number; duplicatesDropped: number }
  | { step: 'uploaded'; key: string; bytes: number }
  | { step: 'switched'; manifestKey: string; deleted: number };

export interface CompactionResult {
  status: 'compacted' | 'unchanged';
  manifest: CuratedManifest;
  /** Superseded and orphaned curated files deleted after the switch. */
  deletedKeys: string[];
  /** The table commit, when the topic is an Iceberg table. */
  tableCommit?: HourCommitResult;
  timings: { readMillis: number; decodeMillis: number; writeMillis: number; copyMillis: number; uploadMillis: number };
}

/** The hour has no raw `_manifest.json`: it is not closed yet (close it first: `npm run lake:compact` does). */
export class HourNotClosedError extends Error {
  readonly retriable = false;
  constructor(
    readonly topic: string,
    readonly hour: string,
  ) {
    super(`${topic} ${hour} is not closed (no ${rawManifestKey(topic, hour)}); close it first, e.g. npm run lake:compact -- --topic ${topic} --hour ${hour}`);
    this.name = 'HourNotClosedError';
  }
}

/** The inputs and the output disagree; nothing was switched. */
export class CompactionVerificationError extends Error {
  readonly retriable = false;
  constructor(message: string) {
    super(message);
    this.name = 'CompactionVerificationError';
  }
}

function sameSources(a: readonly CuratedSource[], b: readonly { key: string; bytes: number }[]): boolean {
  if (a.length !== b.length) return false;
  const sizes = new Map(a.map((s) => [s.key, s.bytes]));
  return b.every((s) => sizes.get(s.key) === s.bytes);
}

/** Compacts one closed hour; idempotent (see the module comment). */
export async function compactHour(store: ObjectStore, topic: string, hour: string, options: CompactionOptions): Promise<CompactionResult> {
  const now = options.now ?? Date.now;
  const eventTimeField = options.eventTimeField ?? compactionDefaults.eventTimeField;
  const dedupField = options.dedupField ?? compactionDefaults.dedupField;
  const progress = options.onProgress ?? (() => undefined);
  const rawPrefix = rawHourPrefix(topic, hour);
  const curatedPrefix = curatedHourPrefix(topic, hour);
  const timings = { readMillis: 0, decodeMillis: 0, writeMillis: 0, copyMillis: 0, uploadMillis: 0 };

  let rawManifest: RawHourManifest;
  try {
    rawManifest = JSON.parse((await store.get(rawManifestKey(topic, hour))).toString('utf8')) as RawHourManifest;
  } catch (err) {
    if (err instanceof ObjectNotFoundError) throw new HourNotClosedError(topic, hour);
    throw err;
  }
  const manifestFiles = rawManifest.files ?? [];
  const expectedRows = new Map(manifestFiles.map((f) => [f.key, f.rows]));
  const listed = new Map<string, ObjectInfo>(
    (await store.list(rawPrefix)).filter((o) => o.key.endsWith('.avro')).map((o) => [o.key, o]),
  );
  const previous = await readCuratedManifest(store, topic, hour);
  const previousSources = new Map((previous?.sources ?? []).map((s) => [s.key, s]));
  // Raw segments deleted by retention: their rows survive only in the previous curated files.
  const expired = (previous?.sources ?? []).filter((s) => !listed.has(s.key));
  for (const f of manifestFiles) {
    if (!listed.has(f.key) && !previousSources.has(f.key)) {
      throw new CompactionVerificationError(`${rawPrefix}_manifest.json lists ${f.key}, which does not exist`);
    }
  }
  const present = [...listed.values()].map((o) => ({ key: o.key, bytes: o.size }));
  if (previous && !options.force && sameSources(previous.sources, [...expired, ...present])) {
    return { status: 'unchanged', manifest: previous, deletedKeys: [], timings };
  }

  const carryOver = expired.length > 0 && previous ? previous : undefined;
  const toRead = carryOver ? present.filter((s) => !previousSources.has(s.key)) : present;
  const lateSegments = present.filter((s) => !expectedRows.has(s.key)).length;
  progress({ step: 'inputs', segments: toRead.length, lateSegments, carriedOverFiles: carryOver?.files.length ?? 0 });

  const runId = `${new Date(now()).toISOString().replace(/[-:]/g, '').slice(0, 15)}Z-${randomUUID().slice(0, 8)}`;
  const prepared = options.table ? await options.table.prepare(options.reader.schema) : undefined;
  const writer = new CuratedParquetWriter(options.reader.schema, {
    fieldIds: prepared?.duckdbFieldIds,
    eventTimeField,
    dedupField,
    targetFileBytes: options.targetFileBytes ?? compactionDefaults.targetFileBytes,
    runId,
    workDir: options.workDir,
    stagingChunkBytes: options.stagingChunkBytes,
    staging: options.staging,
  });
  try {
    await writer.open();
    // Columnar staging takes records decoded without logical types; NDJSON staging the logical values.
    const columnar = writer.columnar;
    const decoder = new RawSegmentDecoder(options.reader.schema, { logicalTypes: !columnar });
    const sources: CuratedSource[] = [];
    const schemaIds = new Set<number>();
    const ranges = new Map<number, NumericRange>();
    // The next segment downloads while this one decodes (S3 latency hidden behind the CPU work).
    const fetchSegment = (i: number) => {
      const download = i < toRead.length ? store.get(toRead[i].key) : undefined;
      download?.catch(() => undefined); // awaited below; a failure surfaces there, never unhandled
      return download;
    };
    let next = fetchSegment(0);
    for (const [i, segment] of toRead.entries()) {
      let started = performance.now();
      const bytes = (await next)!;
      next = fetchSegment(i + 1);
      timings.readMillis += performance.now() - started;
      started = performance.now();
      let partition = -1;
      let first = Infinity;
      let last = -Infinity;
      let count = 0;
      const note = (schemaId: number, rowPartition: number, offset: number) => {
        schemaIds.add(schemaId);
        partition = rowPartition;
        if (offset < first) first = offset;
        if (offset > last) last = offset;
        count++;
        addToRange(ranges, rowPartition, offset, offset, 1);
      };
      if (columnar) {
        writer.stageSegment(decoder, segment.key, bytes, (rowPartition, offset, schemaId) => note(schemaId, rowPartition, offset));
        writer.addSourceBytes(bytes.length);
      } else {
        for (const row of decoder.rows(segment.key, bytes) as Generator<RawRow>) {
          writer.add(row);
          note(row.schemaId, row.partition, row.offset);
        }
      }
      timings.decodeMillis += performance.now() - started;
      const source: CuratedSource = {
        key: segment.key,
        bytes: bytes.length,
        rows: count,
        partition,
        firstOffset: count ? String(first) : '',
        lastOffset: count ? String(last) : '',
      };
      const expected = expectedRows.get(segment.key);
      if (expected !== undefined && expected !== source.rows) {
        throw new CompactionVerificationError(`${segment.key} holds ${source.rows} rows, the raw manifest says ${expected}`);
      }
      sources.push(source);
      progress({ step: 'decoded', segment: segment.key, rows: source.rows, done: i + 1, of: toRead.length });
    }

    let started = performance.now();
    const carried = carryOver ? await downloadCuratedFiles(store, carryOver.files, writer) : 0;
    const written = await writer.finish();
    timings.writeMillis = performance.now() - started;
    timings.copyMillis = written.copyMillis;
    const fileRows = written.files.reduce((n, f) => n + f.rows, 0);
    const decodedRows = sources.reduce((n, s) => n + s.rows, 0);
    if (written.inputRows !== decodedRows + carried) {
      throw new CompactionVerificationError(`staged ${written.inputRows} rows, read ${decodedRows} from raw and ${carried} carried over`);
    }
    if (fileRows !== written.distinctRows) {
      throw new CompactionVerificationError(`wrote ${fileRows} rows, expected ${written.distinctRows} distinct events`);
    }
    progress({ step: 'written', files: written.files.length, rows: fileRows, duplicatesDropped: written.inputRows - fileRows });

    started = performance.now();
    const files: CuratedFile[] = [];
    const committed: { key: string; localPath: string; bytes: number }[] = [];
    for (const file of written.files) {
      const body = readFileSync(file.path);
      const digest = createHash('sha256').update(body).digest();
      const key = curatedPrefix + file.name;
      await store.put(key, body, { contentType: 'application/vnd.apache.parquet', sha256Base64: digest.toString('base64') });
      const stored = await store.head(key);
      if (!stored || stored.size !== body.length) {
        throw new CompactionVerificationError(`${key} is ${stored?.size ?? 'missing'} bytes in the store after upload, wrote ${body.length}`);
      }
      committed.push({ key, localPath: file.path, bytes: body.length });
      files.push({
        key,
        rows: file.rows,
        bytes: body.length,
        sha256: digest.toString('hex'),
        minEventTime: file.minEventTime,
        maxEventTime: file.maxEventTime,
      });
      progress({ step: 'uploaded', key, bytes: body.length });
    }
    timings.uploadMillis = performance.now() - started;

    const minOf = (xs: (string | null)[]) => xs.filter((x): x is string => x !== null).sort()[0] ?? null;
    const maxOf = (xs: (string | null)[]) => xs.filter((x): x is string => x !== null).sort().at(-1) ?? null;
    const allSources = carryOver ? [...carryOver.sources, ...sources] : sources;
    if (carryOver) {
      for (const s of carryOver.sources) if (s.rows > 0) addToRange(ranges, s.partition, Number(s.firstOffset), Number(s.lastOffset), s.rows);
      for (const id of carryOver.schemaIds) schemaIds.add(id);
    }
    const manifest: CuratedManifest = {
      version: CURATED_MANIFEST_VERSION,
      topic,
      hour,
      compactionId: runId,
      compactedAt: new Date(now()).toISOString(),
      readerSchemaId: options.reader.schemaId,
      schemaIds: [...schemaIds].sort((a, b) => a - b),
      eventTimeField,
      dedupField,
      inputRows: written.inputRows,
      rows: fileRows,
      duplicatesDropped: written.inputRows - fileRows,
      minEventTime: minOf(files.map((f) => f.minEventTime)),
      maxEventTime: maxOf(files.map((f) => f.maxEventTime)),
      files,
      sources: allSources,
      offsetRanges: [...ranges.values()]
        .sort((a, b) => a.partition - b.partition)
        .map((r): OffsetRange => ({ partition: r.partition, firstOffset: String(r.first), lastOffset: String(r.last), rows: r.rows })),
      ...(carryOver ? { carriedOverRows: carried, expiredSources: expired } : {}),
    };
    // The table commit comes before the manifest: a crash between the two re-compacts the hour, and
    // that overwrite replaces whatever the table holds for it.
    const tableCommit =
      options.table && prepared ? await options.table.commitHour(hour, committed, prepared, { 'securecart.compaction-id': runId }) : undefined;
    const manifestKey = curatedManifestKey(topic, hour);
    await store.put(manifestKey, Buffer.from(JSON.stringify(manifest, null, 2)), { contentType: 'application/json' });

    // Only now may readers lose the old files: the manifest they read names the new ones.
    const keep = new Set(files.map((f) => f.key));
    const grace = options.orphanGraceMs ?? compactionDefaults.orphanGraceMs;
    const superseded = new Set((previous?.files ?? []).map((f) => f.key).filter((k) => !keep.has(k)));
    for (const o of await store.list(curatedPrefix)) {
      const orphan = o.key.endsWith('.parquet') && !keep.has(o.key) && (o.lastModified?.getTime() ?? now()) < now() - grace;
      if (orphan) superseded.add(o.key);
    }
    // Iceberg's older snapshots still reference superseded files (time travel): lake:maintain expires them.
    const deletedKeys = options.table ? [] : [...superseded];
    if (deletedKeys.length > 0) await store.delete(deletedKeys);
    progress({ step: 'switched', manifestKey, deleted: deletedKeys.length });
    return { status: 'compacted', manifest, deletedKeys, tableCommit, timings };
  } finally {
    writer.dispose();
  }
}

interface NumericRange {
  partition: number;
  first: number;
  last: number;
  rows: number;
}

function addToRange(ranges: Map<number, NumericRange>, partition: number, first: number, last: number, rows: number): void {
  const range = ranges.get(partition);
  if (!range) ranges.set(partition, { partition, first, last, rows });
  else {
    if (first < range.first) range.first = first;
    if (last > range.last) range.last = last;
    range.rows += rows;
  }
}

async function downloadCuratedFiles(store: ObjectStore, files: readonly CuratedFile[], writer: CuratedParquetWriter): Promise<number> {
  let rows = 0;
  for (const file of files) {
    const body = await store.get(file.key);
    const digest = createHash('sha256').update(body).digest('hex');
    if (digest !== file.sha256) throw new CompactionVerificationError(`${file.key} does not match its manifest's sha256`);
    rows += await writer.addParquet(body, file.rows);
  }
  return rows;
}

/**
 * Deletes the raw segments of compacted hours that ended more than `retentionMs` ago and that the
 * hour's curated manifest lists (it keeps their lineage). The raw `_manifest.json` stays, so the hour
 * still reads as closed; segments no compaction has read yet stay too. One listing of the topic's raw
 * keys per call, and a manifest read only for hours that have segments to expire.
 */
export async function expireRawSegments(
  store: ObjectStore,
  topic: string,
  retentionMs: number,
  now: () => number = Date.now,
): Promise<{ hours: number; deletedKeys: string[] }> {
  const cutoff = now() - retentionMs;
  const segmentsByHour = new Map<string, Set<string>>();
  for (const o of await store.list(`raw/${topic}/`)) {
    const at = hourOfKey(o.key);
    if (!at || !at.file.endsWith('.avro') || hourStartMillis(at.hour) + 3_600_000 > cutoff) continue;
    const keys = segmentsByHour.get(at.hour) ?? new Set<string>();
    keys.add(o.key);
    segmentsByHour.set(at.hour, keys);
  }
  const deletedKeys: string[] = [];
  let hours = 0;
  for (const [hour, keys] of segmentsByHour) {
    const manifest = await readCuratedManifest(store, topic, hour);
    const expired = (manifest?.sources ?? []).map((s) => s.key).filter((k) => keys.has(k));
    if (expired.length === 0) continue;
    await store.delete(expired);
    deletedKeys.push(...expired);
    hours++;
  }
  return { hours, deletedKeys };
}
