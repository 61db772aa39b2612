import { createHash } from 'node:crypto';
import type { Admin, Producer } from 'kafkajs';
import { ObjectNotFoundError, type ObjectStore } from '@app/object-store';
import {
  HOUR_CLOSE_TOPIC,
  hourStartMillis,
  parseRawSegmentKey,
  rawHourPrefix,
  rawManifestKey,
  type HourCloseReason,
  type HourCloseRequest,
  type PartitionOffsetRange,
  type RawHourManifest,
  type RawSegmentEntry,
} from './manifest';
import { readSegmentHeader } from './raw-segment';

const HOUR_MS = 3_600_000;

export interface CloseHourOptions {
  reason?: HourCloseReason;
  /** Publishes the hour-close request (see {@link hourClosePublisher}); omitted: no request is sent. */
  publish?: (request: HourCloseRequest) => Promise<void>;
  now?: () => Date;
}

export interface CloseHourResult {
  manifestKey: string;
  manifest: RawHourManifest;
  /** False when the existing manifest already listed exactly these files (nothing rewritten). */
  changed: boolean;
  published: boolean;
}

/** Describes one landed segment from its bytes: checksum, and the statistics its header carries. */
export function describeSegment(key: string, file: Buffer): RawSegmentEntry {
  const parsed = parseRawSegmentKey(key);
  if (!parsed) throw new Error(`not a raw segment key: ${key}`);
  const header = readSegmentHeader(file);
  return {
    key,
    rows: header.rows,
    bytes: file.length,
    sha256: createHash('sha256').update(file).digest('hex'),
    minEventTime: new Date(header.minEventTime).toISOString(),
    maxEventTime: new Date(header.maxEventTime).toISOString(),
    partition: parsed.partition,
    firstOffset: header.firstOffset,
    lastOffset: header.lastOffset,
    schemaIds: header.schemaIds,
  };
}

function partitionRanges(files: RawSegmentEntry[]): PartitionOffsetRange[] {
  const byPartition = new Map<number, PartitionOffsetRange>();
  for (const f of files) {
    const r = byPartition.get(f.partition);
    if (!r) {
      byPartition.set(f.partition, { partition: f.partition, firstOffset: f.firstOffset, lastOffset: f.lastOffset, rows: f.rows });
      continue;
    }
    if (BigInt(f.firstOffset) < BigInt(r.firstOffset)) r.firstOffset = f.firstOffset;
    if (BigInt(f.lastOffset) > BigInt(r.lastOffset)) r.lastOffset = f.lastOffset;
    r.rows += f.rows;
  }
  return [...byPartition.values()].sort((a, b) => a.partition - b.partition);
}

/**
 * Closes one hour of a topic now: lists the hour's raw segments, describes each (rows, bytes, sha256,
 * event-time range, offsets, schema ids, read from the segment itself), writes `_manifest.json`, and
 * publishes an hour-close request. Idempotent: when the manifest already lists exactly these files it
 * is left alone (and a request is only sent again for a manual close). Segments that land later (late
 * events) make the next call write the next generation.
 */
export async function closeHour(
  store: ObjectStore,
  topic: string,
  hour: string,
  options: CloseHourOptions = {},
): Promise<CloseHourResult> {
  const reason = options.reason ?? 'manual';
  const manifestKey = rawManifestKey(topic, hour);
  const listed = await store.list(rawHourPrefix(topic, hour));
  const segmentKeys = listed.map((o) => o.key).filter((k) => parseRawSegmentKey(k)?.topic === topic);
  const files: RawSegmentEntry[] = [];
  // A few at a time: hours hold tens of segments, and each is read once.
  for (let i = 0; i < segmentKeys.length; i += 8) {
    const batch = segmentKeys.slice(i, i + 8);
    files.push(...(await Promise.all(batch.map(async (key) => describeSegment(key, await store.get(key))))));
  }
  files.sort((a, b) => (a.key < b.key ? -1 : 1));
  let existing: RawHourManifest | undefined;
  try {
    existing = JSON.parse((await store.get(manifestKey)).toString('utf8')) as RawHourManifest;
  } catch (err) {
    if (!(err instanceof ObjectNotFoundError)) throw err;
  }
  const same =
    existing !== undefined &&
    existing.files.length === files.length &&
    existing.files.every((f, i) => f.key === files[i].key && f.sha256 === files[i].sha256);
  let manifest: RawHourManifest;
  if (same) {
    manifest = existing!;
  } else {
    manifest = {
      version: 1,
      topic,
      hour,
      files,
      rows: files.reduce((n, f) => n + f.rows, 0),
      partitions: partitionRanges(files),
      schemaIds: [...new Set(files.flatMap((f) => f.schemaIds))].sort((a, b) => a - b),
      closedAt: (options.now?.() ?? new Date()).toISOString(),
      reason,
      generation: (existing?.generation ?? 0) + 1,
    };
    await store.put(manifestKey, Buffer.from(JSON.stringify(manifest, null, 2)), { contentType: 'application/json' });
  }
  let published = false;
  if (options.publish && (!same || reason === 'manual')) {
    await options.publish({ topic, hour, manifestKey });
    published = true;
  }
  return { manifestKey, manifest, changed: !same, published };
}

/** Sends hour-close requests to `s3-sink.hour-close`, keyed `<topic>/<hour>` (one partition per hour). */
export function hourClosePublisher(producer: Producer): (request: HourCloseRequest) => Promise<void> {
  return async (request) => {
    await producer.send({
      topic: HOUR_CLOSE_TOPIC,
      messages: [{ key: `${request.topic}/${request.hour}`, value: JSON.stringify(request) }],
    });
  };
}

/** Creates the internal hour-close topic when it does not exist (idempotent; every sink does it at start). */
export async function ensureHourCloseTopic(admin: Admin, partitions = 6): Promise<void> {
  // Asking first keeps kafkajs from logging TOPIC_ALREADY_EXISTS as an error on every start.
  if ((await admin.listTopics()).includes(HOUR_CLOSE_TOPIC)) return;
  await admin.createTopics({
    waitForLeaders: true,
    topics: [{ topic: HOUR_CLOSE_TOPIC, numPartitions: partitions, configEntries: [{ name: 'retention.ms', value: String(7 * 24 * HOUR_MS) }] }],
  });
}

interface PartitionProgress {
  maxEventTime: number;
  lastRecordAt: number;
}

/** A partition another sink instance of the group owns, as it last reported it. */
export interface PeerPartitionProgress {
  maxEventTime: number | null;
  lastRecordAt: number;
  openHours: string[];
}

interface TopicHours {
  partitions: Map<number, PartitionProgress>;
  /** Partitions other instances own (a partition this instance owns is never read from here). */
  peers: Map<number, PeerPartitionProgress>;
  /** Hours with landed segments that are not closed yet. */
  pending: Set<string>;
  /** Hours closed before, with segments landed since (re-close). */
  late: Set<string>;
  closed: Set<string>;
  /** How many partitions the topic has, when known (shared watermarks): partitions nobody reported hold the watermark. */
  partitionCount: number;
}

export interface DueHour {
  topic: string;
  hour: string;
  reason: HourCloseReason;
}

/**
 * Decides when hours close. Per topic: the low watermark is the minimum over the partitions that have
 * delivered records (and are not idle) of each one's maximum event time; an hour closes when it passes
 * hour end + allowed lateness. When every partition of the topic has been quiet for `idleCloseMs`
 * (counted from start too, so a restart does not close hours it has not caught up on), hours that have
 * ended by the wall clock close as idle. Segments landing in a closed hour make it due again (`late`).
 */
export class HourTracker {
  private readonly topics = new Map<string, TopicHours>();

  private readonly lastClosedAt = new Map<string, number>();

  constructor(
    private readonly allowedLatenessMs: number,
    private readonly idleCloseMs: number,
    private readonly startedAt: number,
    /** A closed hour is closed again (late segments) at most this often: a stream of late events must not re-close it every tick. */
    private readonly recloseIntervalMs = 0,
  ) {}

  private topic(name: string): TopicHours {
    let t = this.topics.get(name);
    if (!t) {
      t = { partitions: new Map(), peers: new Map(), pending: new Set(), late: new Set(), closed: new Set(), partitionCount: 0 };
      this.topics.set(name, t);
    }
    return t;
  }

  observe(topic: string, partition: number, eventTime: number, now: number): void {
    const t = this.topic(topic);
    const p = t.partitions.get(partition);
    if (!p) t.partitions.set(partition, { maxEventTime: eventTime, lastRecordAt: now });
    else {
      if (eventTime > p.maxEventTime) p.maxEventTime = eventTime;
      p.lastRecordAt = now;
    }
  }

  /**
   * The partitions this instance owns now. A newly assigned partition holds the watermark back (it may
   * still deliver older events) until it delivers records or stays quiet for `idleCloseMs`; partitions
   * it no longer owns stop counting.
   */
  assign(assigned: Map<string, Set<number>>, now: number): void {
    for (const [name, t] of this.topics) {
      const keep = assigned.get(name);
      for (const p of t.partitions.keys()) if (!keep?.has(p)) t.partitions.delete(p);
    }
    for (const [name, partitions] of assigned) {
      const t = this.topic(name);
      for (const p of partitions) {
        if (!t.partitions.has(p)) t.partitions.set(p, { maxEventTime: Number.NEGATIVE_INFINITY, lastRecordAt: now });
      }
    }
  }

  /** Segments of these hours were committed. */
  landed(topic: string, hours: Iterable<string>): void {
    const t = this.topic(topic);
    for (const h of hours) {
      if (t.closed.has(h)) t.late.add(h);
      else t.pending.add(h);
    }
  }

  /** From a startup listing: hours with segments but no manifest, or segments newer than the manifest. */
  recovered(topic: string, pending: Iterable<string>, late: Iterable<string>, closed: Iterable<string>): void {
    const t = this.topic(topic);
    for (const h of closed) t.closed.add(h);
    for (const h of pending) if (!t.closed.has(h)) t.pending.add(h);
    for (const h of late) t.late.add(h);
  }

  /** What other instances of the group last reported for the partitions of `topic` they own. */
  peers(topic: string, peers: Map<number, PeerPartitionProgress>): void {
    this.topic(topic).peers = peers;
  }

  /**
   * The topic's partition count. A partition neither owned here nor reported by another instance yet
   * (its owner's report not read so far) then holds the watermark back like a newly assigned one,
   * instead of the hour closing on the partitions that happen to be known.
   */
  partitionCount(topic: string, count: number): void {
    const t = this.topic(topic);
    t.partitionCount = Math.max(t.partitionCount, count);
  }

  /** The state of each partition of `topic` this instance owns, to report to the other instances. */
  ownProgress(topic: string): Map<number, { maxEventTime: number | null; lastRecordAt: number }> {
    const out = new Map<number, { maxEventTime: number | null; lastRecordAt: number }>();
    for (const [partition, p] of this.topics.get(topic)?.partitions ?? []) {
      out.set(partition, { maxEventTime: Number.isFinite(p.maxEventTime) ? p.maxEventTime : null, lastRecordAt: p.lastRecordAt });
    }
    return out;
  }

  /** Own partitions, then the partitions only peers own, then the ones nobody has reported (since start). */
  private *allPartitions(t: TopicHours): Iterable<PartitionProgress> {
    yield* t.partitions.values();
    for (const [partition, p] of t.peers) {
      if (!t.partitions.has(partition)) yield { maxEventTime: p.maxEventTime ?? Number.NEGATIVE_INFINITY, lastRecordAt: p.lastRecordAt };
    }
    for (let partition = 0; partition < t.partitionCount; partition++) {
      if (!t.partitions.has(partition) && !t.peers.has(partition)) yield { maxEventTime: Number.NEGATIVE_INFINITY, lastRecordAt: this.startedAt };
    }
  }

  lowWatermark(topic: string, now: number): number | undefined {
    const t = this.topics.get(topic);
    if (!t) return undefined;
    let low: number | undefined;
    for (const p of this.allPartitions(t)) {
      if (now - p.lastRecordAt >= this.idleCloseMs) continue;
      if (low === undefined || p.maxEventTime < low) low = p.maxEventTime;
    }
    return low === Number.NEGATIVE_INFINITY ? undefined : low;
  }

  private idle(t: TopicHours, now: number): boolean {
    let last = this.startedAt;
    for (const p of this.allPartitions(t)) {
      if (p.maxEventTime !== Number.NEGATIVE_INFINITY && p.lastRecordAt > last) last = p.lastRecordAt;
    }
    return now - last >= this.idleCloseMs;
  }

  /** An hour a peer still holds open files of: that peer closes it once it has cut them. */
  private heldByPeer(t: TopicHours, hour: string): boolean {
    for (const [partition, p] of t.peers) if (!t.partitions.has(partition) && p.openHours.includes(hour)) return true;
    return false;
  }

  /** Hours that should close now; `openHours` are hours with files still open in a writer (closable too). */
  due(now: number, openHours: (topic: string) => Iterable<string>): DueHour[] {
    const out: DueHour[] = [];
    for (const [name, t] of this.topics) {
      const low = this.lowWatermark(name, now);
      const idle = this.idle(t, now);
      // Open files of an hour closed before are not forced out: they land by their own triggers and
      // make the hour late then.
      const candidates = new Set([...t.pending, ...[...openHours(name)].filter((h) => !t.closed.has(h))]);
      for (const hour of t.late) {
        if (now - (this.lastClosedAt.get(`${name}/${hour}`) ?? Number.NEGATIVE_INFINITY) >= this.recloseIntervalMs) {
          out.push({ topic: name, hour, reason: 'late' });
        }
      }
      for (const hour of candidates) {
        if (t.late.has(hour) || this.heldByPeer(t, hour)) continue;
        const end = hourStartMillis(hour) + HOUR_MS;
        // An hour closed before and holding new files again is a re-close, whatever passed it now.
        const again = t.closed.has(hour);
        if (low !== undefined && end + this.allowedLatenessMs <= low) out.push({ topic: name, hour, reason: again ? 'late' : 'watermark' });
        else if (idle && end <= now) out.push({ topic: name, hour, reason: again ? 'late' : 'idle' });
      }
    }
    return out.sort((a, b) => (a.hour < b.hour ? -1 : a.hour > b.hour ? 1 : 0));
  }

  /** Marks the hour closed before its manifest is written, so segments landing meanwhile count as late. */
  closing(topic: string, hour: string, now = Date.now()): void {
    this.lastClosedAt.set(`${topic}/${hour}`, now);
    const t = this.topic(topic);
    t.pending.delete(hour);
    t.late.delete(hour);
    t.closed.add(hour);
  }

  /** Closing failed (store down): try again on a later tick. */
  closeFailed(due: DueHour): void {
    const t = this.topic(due.topic);
    if (due.reason === 'late') t.late.add(due.hour);
    else {
      t.closed.delete(due.hour);
      t.pending.add(due.hour);
    }
  }

  isClosed(topic: string, hour: string): boolean {
    return this.topics.get(topic)?.closed.has(hour) ?? false;
  }
}

/**
 * Reads a topic's raw folder once at start: hours with segments but no manifest are pending; hours
 * whose manifest does not list every segment there now are late (closed before, re-close).
 */
export async function scanRawHours(
  store: ObjectStore,
  topic: string,
): Promise<{ pending: string[]; late: string[]; closed: string[] }> {
  const listed = await store.list(`raw/${topic}/`);
  const hours = new Map<string, { manifest: boolean; segments: Set<string> }>();
  for (const o of listed) {
    const m = /^raw\/[^/]+\/dt=(\d{4}-\d{2}-\d{2})\/hour=(\d{2})\/(.+)$/.exec(o.key);
    if (!m) continue;
    const hour = `${m[1]}T${m[2]}`;
    const h = hours.get(hour) ?? { manifest: false, segments: new Set<string>() };
    if (m[3] === '_manifest.json') h.manifest = true;
    else if (parseRawSegmentKey(o.key)) h.segments.add(o.key);
    hours.set(hour, h);
  }
  const pending: string[] = [];
  const late: string[] = [];
  const closed: string[] = [];
  for (const [hour, h] of hours) {
    if (!h.manifest) {
      if (h.segments.size > 0) pending.push(hour);
      continue;
    }
    closed.push(hour);
    const manifest = JSON.parse((await store.get(rawManifestKey(topic, hour))).toString('utf8')) as RawHourManifest;
    const listedInManifest = new Set(manifest.files.map((f) => f.key));
    if ([...h.segments].some((k) => !listedInManifest.has(k))) late.push(hour);
  }
  return { pending, late, closed };
}
