import type { Consumer, EachBatchPayload, IHeaders, Kafka, KafkaMessage, Producer } from 'kafkajs';
import { HEADER_LENGTH } from '@app/codec';
import type { SchemaRegistryConfig } from '@app/config';
import { installReadCommittedFilter } from '@app/kafka';
import type { Logger } from '@app/logging';
import { ObjectExistsError, ObjectNotFoundError, type ObjectStore } from '@app/object-store';
import { DLQ_HEADERS, dlqTopicOf } from '@app/runtime';
import { closeHour, ensureHourCloseTopic, hourClosePublisher, HourTracker, scanRawHours, type DueHour } from './hour-close';
import type { CrashPoint, LandingSettings } from './lake-settings';
import { HOUR_CLOSE_TOPIC, hourOf } from './manifest';
import { LandingPlans, type LandingPlan } from './sink-schemas';
import type { SinkMetrics } from './sink-metrics';
import { WatermarkExchange } from './watermark-exchange';
import { recordOffset, type RecordOffset } from './raw-segment';
import { cutMarkerKey, markerListsFiles, PartitionWriter, TaskSlots, WRITER_STATES, type CutMarker, type RefusedReplay, type WriterState } from './sink-partition-writer';

export interface LandingSinkDeps {
  kafka: Kafka;
  store: ObjectStore;
  registry: SchemaRegistryConfig;
  settings: LandingSettings;
  logger: Logger;
  metrics?: SinkMetrics;
  /** Service name written into DLQ headers. */
  service?: string;
  /** Test hook: called at `settings.crashAt` (the app passes one that SIGKILLs the process). */
  crash?: (point: CrashPoint) => void;
  now?: () => number;
}

/** One writer's state as `/sink/writers` and logs show it. */
export interface WriterStatus {
  topic: string;
  partition: number;
  state: WriterState;
  windowStart?: string;
  lastOffset?: string;
  openFiles: number;
  bufferedBytes: number;
  replayingTo?: string;
  /** The cut marker whose window this partition refuses to replay (its keys differ): needs an operator. */
  refusedMarker?: string;
}

/** A replayed window would upload other keys than its cut marker lists: uploading them could land its records twice. */
export class CutMarkerMismatchError extends Error {
  constructor(readonly refused: RefusedReplay) {
    super(
      `window ${refused.marker.from}..${refused.marker.to} would upload [${refused.replayFiles.join(', ')}], its cut marker ${refused.markerKey} lists [${(refused.marker.files ?? []).join(', ')}]`,
    );
    this.name = 'CutMarkerMismatchError';
  }
}

function isRetriable(err: unknown): boolean {
  return (err as { retriable?: unknown } | null)?.retriable === true;
}

function errorName(err: unknown): string {
  return err instanceof Error ? err.name || err.constructor.name : typeof err;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const HOUR_MS = 3_600_000;

/** How the sink's consumer fetches (exported so the benchmark's kafkajs-alone baseline fetches alike). */
export const landingFetch = {
  // kafkajs waits up to 5 s for a fetch to fill by default: a latency trap at low rates.
  maxWaitTimeInMs: 500,
  maxBytesPerPartition: 4 * 1024 * 1024,
  // Partitions are independent (one lock per writer): while one waits on S3, others consume.
  partitionsConsumedConcurrently: 4,
} as const;
/** Segment uploads at once, process-wide: enough to keep S3 busy, few enough to bound the files held. */
const UPLOAD_CONCURRENCY = 8;
/** The writers map's key of a topic-partition (NUL cannot occur in a topic name). */
const writerKey = (topic: string, partition: number): string => `${topic}\u0000${partition}`;

/** Uploads one cut has queued or running at once (within the process-wide slots). */
const CUT_UPLOAD_WORKERS = 4;

/**
 * The s3-sink's landing loop: consumes the topics, writes every record exactly once into hourly raw
 * segments, commits offsets only after the segments are uploaded, and closes hours.
 *
 * Exactly once: a partition's window (records since its last commit) is flushed as a whole (a *cut*),
 * then the offset after its last record is committed, so every committed offset is a window boundary
 * and a replay starts from the same empty state. Segment names come from the first record of each
 * (hour, schema) group in the window, so a replay names them the same. Triggers that depend only on the
 * records (row count, bytes, age in Kafka record time, open files per partition) cut at the same record
 * on replay; triggers that depend on timing (idle flush, memory pressure, shutdown, hour close) are
 * recorded first in a cut marker (`_sink/cuts/...`, written with If-None-Match) that a replay of that
 * window reads and obeys. Segments are written with If-None-Match too: an existing key holds the same
 * bytes (same records, same key-derived sync marker), so "already there" counts as uploaded.
 */
export class LandingSink {
  private readonly writers = new Map<string, PartitionWriter>();
  private readonly plans: LandingPlans;
  private readonly tracker: HourTracker;
  private readonly now: () => number;
  private consumer?: Consumer;
  private producer?: Producer;
  private watermarks?: WatermarkExchange;
  private tickTimer?: NodeJS.Timeout;
  private ticking = false;
  private closing: Promise<void> = Promise.resolve();
  private readonly closeQueue: DueHour[] = [];
  private openFiles = 0;
  private bufferedBytes = 0;
  private cutsWithFiles = 0;
  private topics: string[] = [];
  private readonly unscanned = new Set<string>();
  private stopped = false;
  private firstRecordAt?: number;
  private lastCommitAt?: number;
  private lastRecordReadAt?: number;
  private joinedAt?: number;
  private recordsCommitted = 0;
  private readonly hourLabels = new Map<number, string>();
  /** Segment uploads in flight across all partitions (each holds its built file until S3 answers). */
  private readonly uploadSlots = new TaskSlots(UPLOAD_CONCURRENCY);

  constructor(private readonly deps: LandingSinkDeps) {
    const s = deps.settings;
    this.now = deps.now ?? Date.now;
    this.plans = new LandingPlans(deps.registry, s.eventTimeFields, 'occurredAt', s.masks, s.maskSalt);
    this.tracker = new HourTracker(s.allowedLatenessMs, s.idleCloseMs, this.now(), s.recloseIntervalMs);
  }

  /** The topics being landed (resolved at start). */
  get subscribedTopics(): readonly string[] {
    return this.topics;
  }

  async start(): Promise<void> {
    const { kafka, settings, logger } = this.deps;
    const admin = kafka.admin();
    await admin.connect();
    try {
      const existing = new Set(await admin.listTopics());
      const wanted =
        'names' in settings.topics
          ? settings.topics.names
          : [...existing].filter(
              (t) =>
                (settings.topics as { pattern: RegExp }).pattern.test(t) &&
                !t.startsWith('__') &&
                !t.endsWith('.dlq') &&
                !t.startsWith('s3-sink.'),
            );
      const missing = wanted.filter((t) => !existing.has(t));
      if (missing.length > 0) logger.warn('sink topics missing, not landed until a restart', { missing });
      this.topics = wanted.filter((t) => existing.has(t)).sort();
      if (!existing.has(HOUR_CLOSE_TOPIC)) await ensureHourCloseTopic(admin);
      if (settings.sharedWatermark && this.topics.length > 0) {
        // Every partition counts towards the low watermark, also one whose owner has not reported yet.
        const { topics: metadata } = await admin.fetchTopicMetadata({ topics: this.topics });
        for (const m of metadata) this.tracker.partitionCount(m.name, m.partitions.length);
      }
      const dlqs = this.topics.map(dlqTopicOf).filter((t) => !existing.has(t));
      if (dlqs.length > 0) {
        await admin.createTopics({ waitForLeaders: true, topics: dlqs.map((topic) => ({ topic, numPartitions: 3 })) });
      }
    } finally {
      await admin.disconnect();
    }
    for (const t of this.topics) this.unscanned.add(t);
    this.producer = kafka.producer({ idempotent: true, allowAutoTopicCreation: false });
    await this.producer.connect();
    if (settings.sharedWatermark && this.topics.length > 0) {
      this.watermarks = new WatermarkExchange(kafka, settings.groupId, logger);
      await this.watermarks.start(this.producer);
    }
    // The consumer keeps the service alive; a sink that crashed without stop() must not hold the process.
    this.tickTimer = setInterval(() => void this.tick(), settings.tickMs);
    this.tickTimer.unref();
    if (this.topics.length === 0) {
      logger.warn('no topics to land');
      return;
    }
    // Producers write the landed topics transactionally: their aborted records must not land.
    installReadCommittedFilter();
    const consumer = kafka.consumer({
      groupId: settings.groupId,
      sessionTimeout: settings.sessionTimeoutMs,
      heartbeatInterval: Math.min(3_000, Math.floor(settings.sessionTimeoutMs / 3)),
      maxWaitTimeInMs: landingFetch.maxWaitTimeInMs,
      maxBytesPerPartition: landingFetch.maxBytesPerPartition,
      allowAutoTopicCreation: false,
    });
    this.consumer = consumer;
    consumer.on(consumer.events.GROUP_JOIN, (event) => this.onAssignment(event.payload.memberAssignment));
    await consumer.connect();
    await consumer.subscribe({ topics: this.topics, fromBeginning: settings.fromBeginning });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: landingFetch.partitionsConsumedConcurrently,
      eachBatch: (payload) => this.writerFor(payload.batch.topic, payload.batch.partition).lock.run(() => this.onBatch(payload)),
    });
    logger.info('landing', { topics: this.topics, lake: this.deps.store.url, group: settings.groupId });
  }

  /** Flushes and commits every open window it can, then leaves the group. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    const stoppingAt = this.now();
    // Hour closes not started yet are left to the next start, whose scan of raw/ finds every hour landed
    // but not closed: a sink catching up may have dozens queued, and a shutdown must not wait for them.
    const closesLeft = this.closeQueue.splice(0).length;
    const windows = [...this.writers.values()].filter((w) => w.state === 'WRITING' && w.windowOpen && !w.marker).length;
    this.deps.logger.info('stopping: flushing open windows', { windows, hourClosesLeftForNextStart: closesLeft });
    clearInterval(this.tickTimer);
    for (const w of this.writers.values()) {
      clearTimeout(w.resumeTimer);
      clearTimeout(w.idleTimer);
    }
    const consumer = this.consumer;
    if (consumer) {
      // A graceful stop commits what it holds, so the next owner replays less; a crash is fine too.
      // All at once: one by one, many open windows would outlast the shutdown grace period.
      await Promise.all(
        [...this.writers.values()].map((w) =>
          w.lock.run(async () => {
            if (w.state === 'WRITING' && w.windowOpen && !w.marker) await this.cut(w, 'shutdown');
          }),
        ),
      );
      await consumer.disconnect();
    }
    await this.closing;
    await this.watermarks?.stop();
    await this.producer?.disconnect();
    this.deps.logger.info('stopped', { seconds: (this.now() - stoppingAt) / 1000 });
  }

  /** Wall-clock progress (benchmarks): first group join, first and last record read, last commit, rows committed in segments. */
  progress(): { joinedAt?: number; firstRecordAt?: number; lastRecordAt?: number; lastCommitAt?: number; recordsCommitted: number } {
    return {
      joinedAt: this.joinedAt,
      firstRecordAt: this.firstRecordAt,
      lastRecordAt: this.lastRecordReadAt,
      lastCommitAt: this.lastCommitAt,
      recordsCommitted: this.recordsCommitted,
    };
  }

  /** The partitions this instance owns now, per topic. */
  ownedPartitions(): Record<string, number[]> {
    return Object.fromEntries(this.topics.map((t) => [t, [...this.tracker.ownProgress(t).keys()].sort((a, b) => a - b)]));
  }

  /** The low watermark this instance closes `topic`'s hours by (event time, ms). */
  lowWatermark(topic: string): number | undefined {
    return this.tracker.lowWatermark(topic, this.now());
  }

  /** Writer states, for `/sink/writers` and tests. */
  writerStatus(): WriterStatus[] {
    return [...this.writers.values()]
      .map((w) => ({
        topic: w.topic,
        partition: w.partition,
        state: w.state,
        windowStart: w.windowStart?.toString(),
        lastOffset: w.lastOffset?.toString(),
        openFiles: w.segments.size,
        bufferedBytes: w.bufferedBytes,
        replayingTo: w.marker?.to,
        refusedMarker: w.refusedReplay?.markerKey,
      }))
      .sort((a, b) => (a.topic === b.topic ? a.partition - b.partition : a.topic < b.topic ? -1 : 1));
  }

  private writerFor(topic: string, partition: number): PartitionWriter {
    const key = writerKey(topic, partition);
    let w = this.writers.get(key);
    if (!w) {
      const onTransition = (writer: PartitionWriter, from: WriterState, to: WriterState) => {
        const m = this.deps.metrics;
        if (!m) return;
        m.writerTransitions.inc({ from, to });
        m.writerState.set({ topic: writer.topic, partition: String(writer.partition), state: from }, 0);
        m.writerState.set({ topic: writer.topic, partition: String(writer.partition), state: to }, 1);
      };
      const writer: PartitionWriter = new PartitionWriter(topic, partition, onTransition, {
        blockBytes: this.deps.settings.blockBytes,
        deflateLevel: this.deps.settings.deflateLevel,
        // The second core deflates: the landing loop is this process's only busy JS thread.
        deflateOffThread: true,
        // A block compressed off-thread now holds fewer bytes (a dropped window's blocks report nothing).
        onBufferedChange: (delta) => {
          writer.bufferedBytes += delta;
          this.bufferedBytes += delta;
          this.updateGauges();
        },
      });
      w = writer;
      this.deps.metrics?.writerState.set({ topic, partition: String(partition), state: 'IDLE' }, 1);
      this.writers.set(key, w);
    }
    return w;
  }

  /** Drops a writer's window, keeping the process-wide counters right. */
  private dropWindow(w: PartitionWriter): void {
    this.openFiles -= w.segments.size;
    this.bufferedBytes -= w.clearWindow();
    this.updateGauges();
  }

  private updateGauges(): void {
    this.deps.metrics?.openFiles.set(this.openFiles);
    this.deps.metrics?.bufferedBytes.set(this.bufferedBytes);
  }

  /**
   * After every (re)join Kafka replays each assigned partition from its committed offset: start clean.
   * The resets are queued on the writers' locks synchronously, before any batch of the new generation.
   */
  private onAssignment(assignment: Record<string, number[]>): void {
    this.joinedAt ??= this.now();
    const assigned = new Map<string, Set<number>>();
    for (const [topic, partitions] of Object.entries(assignment)) assigned.set(topic, new Set(partitions));
    for (const [key, w] of this.writers) {
      const keep = assigned.get(w.topic)?.has(w.partition) ?? false;
      if (!keep) this.writers.delete(key);
      void w.lock.run(async () => {
        if (keep) w.holdForReplay();
        this.dropWindow(w);
        w.needsMarkerLookup = true;
        if (w.state !== 'BACKING_OFF') w.transition('IDLE');
        clearTimeout(w.idleTimer);
        if (!keep) {
          clearTimeout(w.resumeTimer);
          // kafkajs keeps a paused partition paused across rebalances: were it assigned back, nothing
          // would resume it (the timer that would have is gone with this writer).
          if (w.state === 'BACKING_OFF') this.consumer?.resume([{ topic: w.topic, partitions: [w.partition] }]);
          for (const state of WRITER_STATES) {
            this.deps.metrics?.writerState.remove({ topic: w.topic, partition: String(w.partition), state });
          }
        }
      });
    }
    this.tracker.assign(assigned, this.now());
    if (this.deps.settings.sharedWatermark) {
      // Partitions added since start show up in an assignment first.
      for (const [topic, partitions] of assigned) this.tracker.partitionCount(topic, Math.max(-1, ...partitions) + 1);
    }
    this.deps.logger.info('partitions assigned', { assignment });
  }

  private async onBatch({ batch, resolveOffset, heartbeat, isRunning, isStale }: EachBatchPayload): Promise<void> {
    const w = this.writerFor(batch.topic, batch.partition);
    if (w.state === 'BACKING_OFF' || this.stopped) return;
    let n = 0;
    let resolved: string | undefined;
    // Only this writer's own code seeks its partition (and then stops the loop), and only while the
    // loop has yielded can anything else run: staleness is checked after a yield and every 256 records.
    let yielded = false;
    // The wall clock once per run of records without a yield (a clock read per record was ~4 % of the loop).
    let now = this.now();
    for (const message of batch.messages) {
      if (!isRunning() || this.stopped || ((yielded || (n & 255) === 0) && isStale())) break;
      if (yielded) now = this.now();
      yielded = false;
      let landed = this.onRecord(w, message, now);
      if (landed instanceof Promise) {
        yielded = true;
        landed = await landed;
      }
      if (!landed) break;
      // Resolving the newest offset resolves every earlier one: kafkajs fetches on from there.
      resolved = message.offset;
      if (++n % 2_000 === 0) {
        resolveOffset(resolved);
        await heartbeat();
        yielded = true;
      }
    }
    if (resolved !== undefined) {
      resolveOffset(resolved);
      this.lastRecordReadAt = this.now();
    }
    this.armIdleFlush(w);
    this.deps.metrics?.lag.set({ topic: batch.topic, partition: String(batch.partition) }, Number(batch.offsetLag()));
    await heartbeat();
  }

  /**
   * Lands one record; false when the partition stopped (backing off, or replaying an earlier cut).
   * Synchronous on the common path (window open, plan known, no cut): no promise per record.
   */
  private onRecord(w: PartitionWriter, message: KafkaMessage, now: number): boolean | Promise<boolean> {
    const offset = recordOffset(message.offset);
    const timestamp = Number(message.timestamp);
    this.firstRecordAt ??= now;
    if (!w.windowOpen || (w.marker && offset > BigInt(w.marker.to))) return this.openWindowFor(w, message, offset, timestamp, now);
    return this.landRecord(w, message, offset, timestamp, now);
  }

  /** The record starts a window (after a cut, an assignment or a failure), or ends a replayed one early. */
  private async openWindowFor(w: PartitionWriter, message: KafkaMessage, offset: RecordOffset, timestamp: number, now: number): Promise<boolean> {
    if (w.marker && w.windowOpen && offset > BigInt(w.marker.to)) {
      // The marked last record is gone (compacted away): the window ends before this one, as it did then.
      if (!(await this.cut(w, 'marker'))) return false;
    }
    if (!w.windowOpen) {
      if (w.needsMarkerLookup) {
        w.transition('RECOVERING');
        try {
          w.marker = await this.readMarker(w.topic, w.partition, BigInt(offset));
        } catch (err) {
          this.backoff(w, BigInt(offset), err);
          return false;
        }
        w.needsMarkerLookup = false;
        const refused = w.refusedReplay;
        if (refused && w.marker && JSON.stringify(w.marker) === JSON.stringify(refused.marker)) {
          // The same marker, the same records, the same settings: the same refusal, without landing them again.
          this.refuseReplay(w, refused);
          return false;
        }
        w.refusedReplay = undefined;
        if (w.marker) this.deps.logger.info('replaying a cut window', { topic: w.topic, partition: w.partition, from: w.marker.from, to: w.marker.to });
      }
      w.openWindow(BigInt(offset), timestamp, now);
      w.transition('WRITING');
    }
    return this.landRecord(w, message, offset, timestamp, now);
  }

  private landRecord(w: PartitionWriter, message: KafkaMessage, offset: RecordOffset, timestamp: number, now: number): boolean | Promise<boolean> {
    let planned: LandingPlan | Promise<LandingPlan>;
    try {
      const schemaId = this.plans.schemaIdOf(message.value);
      const last = w.lastPlan;
      planned = last !== undefined && last.schemaId === schemaId ? last : this.plans.planFor(w.topic, schemaId);
    } catch (err) {
      return this.unlandable(w, message, offset, now, err);
    }
    if (planned instanceof Promise) {
      return planned.then(
        (plan) => this.landWithPlan(w, message, offset, timestamp, now, plan),
        (err: unknown) => this.unlandable(w, message, offset, now, err),
      );
    }
    return this.landWithPlan(w, message, offset, timestamp, now, planned);
  }

  private landWithPlan(
    w: PartitionWriter,
    message: KafkaMessage,
    offset: RecordOffset,
    timestamp: number,
    now: number,
    plan: LandingPlan,
  ): boolean | Promise<boolean> {
    w.lastPlan = plan;
    let eventTime: number;
    let landed = message.value!;
    // The body is read and landed in place, after the framing header (no view per record), unless masked.
    let bodyStart = HEADER_LENGTH;
    try {
      eventTime = plan.eventTime(landed, HEADER_LENGTH);
      if (plan.landedValue) {
        landed = plan.landedValue(landed.subarray(HEADER_LENGTH));
        bodyStart = 0;
      }
    } catch (err) {
      return this.unlandable(w, message, offset, now, err);
    }
    const hour = this.hourLabel(eventTime);
    const filesBefore = w.segments.size;
    const segment = w.segmentFor(hour, plan.schemaId, offset, plan.wrapperSchemaJson, plan.maskedFields);
    this.openFiles += w.segments.size - filesBefore;
    const before = segment.builder.bufferedBytes;
    segment.builder.append(
      { partition: w.partition, offset, timestamp, key: message.key ?? null, headers: message.headers as IHeaders, schemaId: plan.schemaId },
      landed,
      eventTime,
      bodyStart,
    );
    const grown = segment.builder.bufferedBytes - before;
    w.bufferedBytes += grown;
    this.bufferedBytes += grown;
    w.lastOffset = offset;
    if (w.replayThrough !== undefined) w.replayed(offset);
    w.lastRecordAt = now;
    this.tracker.observe(w.topic, w.partition, eventTime, now);
    return this.afterRecord(w, offset, timestamp, segment.builder.stats);
  }

  /** A record whose event time or schema cannot be read: to the DLQ, or back off if that is a passing failure. */
  private async unlandable(w: PartitionWriter, message: KafkaMessage, offset: RecordOffset, now: number, err: unknown): Promise<boolean> {
    if (isRetriable(err)) {
      this.backoff(w, w.windowStart!, err);
      return false;
    }
    if (w.deadLetteredThrough === undefined || offset > w.deadLetteredThrough) {
      try {
        await this.deadLetter(w, message, err);
      } catch (dlqErr) {
        this.backoff(w, w.windowStart!, dlqErr);
        return false;
      }
      w.deadLetteredThrough = offset;
    }
    w.lastOffset = offset;
    if (w.replayThrough !== undefined) w.replayed(offset);
    w.lastRecordAt = now;
    return this.afterRecord(w, offset, Number(message.timestamp));
  }

  /** `YYYY-MM-DDTHH` of an event time; cached, since consecutive records mostly share their hour. */
  private hourLabel(eventTime: number): string {
    const index = Math.floor(eventTime / HOUR_MS);
    let label = this.hourLabels.get(index);
    if (label === undefined) {
      if (this.hourLabels.size >= 10_000) this.hourLabels.clear();
      label = hourOf(index * HOUR_MS);
      this.hourLabels.set(index, label);
    }
    return label;
  }

  /** Decides whether the window ends at this record. */
  private afterRecord(
    w: PartitionWriter,
    offset: RecordOffset,
    timestamp: number,
    stats?: { rows: number; rawBytes: number },
  ): boolean | Promise<boolean> {
    const s = this.deps.settings;
    if (w.marker) return offset >= BigInt(w.marker.to) ? this.cut(w, 'marker') : true;
    // Deterministic triggers: functions of the window's records only, so a replay cuts at the same record.
    let reason: string | undefined;
    if (stats && stats.rows >= s.rotateRecords) reason = 'records';
    else if (stats && stats.rawBytes >= s.rotateBytes) reason = 'bytes';
    else if (timestamp - w.windowFirstTimestamp >= s.rotateAgeMs) reason = 'age';
    else if (w.segments.size >= s.maxPartitionFiles) reason = 'partition-files';
    if (reason) return this.cut(w, reason);
    if (this.overCap()) return this.relieveMemory(w);
    return true;
  }

  private overCap(): boolean {
    const s = this.deps.settings;
    return this.openFiles > s.maxOpenFiles || this.bufferedBytes > s.maxBufferBytes;
  }

  /**
   * Over the process-wide cap: flush the oldest window (recorded in its marker, so replays agree). The
   * caller holds `current`'s lock; another writer's cut is queued on that writer's lock (never awaited
   * here, so two writers can never wait on each other).
   */
  private async relieveMemory(current?: PartitionWriter): Promise<boolean> {
    let oldest: PartitionWriter | undefined;
    for (const w of this.writers.values()) {
      if (w.state !== 'WRITING' || !w.windowOpen || w.marker || w.segments.size === 0 || w.reliefQueued) continue;
      if (!oldest || w.windowOpenedAt < oldest.windowOpenedAt) oldest = w;
    }
    if (!oldest) return true;
    if (oldest === current) return this.cut(oldest, 'memory');
    const other = oldest;
    other.reliefQueued = true;
    const relieved = other.lock.run(async () => {
      other.reliefQueued = false;
      if (other.state === 'WRITING' && other.windowOpen && !other.marker && this.overCap()) await this.cut(other, 'memory');
    });
    if (!current) await relieved;
    return true;
  }

  private crashPoint(point: CrashPoint, cut: number): void {
    const at = this.deps.settings.crashAt;
    if (at && at.point === point && at.cut === cut) {
      this.deps.logger.warn('test crash hook', { point, cut });
      this.deps.crash?.(point);
    }
  }

  /**
   * Flushes the writer's whole window: cut marker (unless replaying one), every open segment with
   * If-None-Match, then the offset after the window's last record. False when the partition backs off.
   */
  private async cut(w: PartitionWriter, reason: string): Promise<boolean> {
    const { store, metrics, logger } = this.deps;
    const from = w.windowStart!;
    const to = w.lastOffset === undefined ? from : BigInt(w.lastOffset);
    const segments = [...w.segments.values()];
    if (w.lastOffset === undefined) {
      // Nothing read yet in this window.
      this.dropWindow(w);
      w.transition('IDLE');
      return true;
    }
    w.transition('UPLOADING');
    // Each file is built right before its upload (then its blocks are freed), so a window being
    // uploaded is held once; the key, rows and hour are known without building it.
    const files = segments.map((seg) => ({ key: seg.builder.key, builder: seg.builder, hour: seg.hour, rows: seg.builder.stats.rows, bytes: 0 }));
    const keys = files.map((f) => f.key).sort();
    // The marker this cut obeys: the one being replayed, or one another run wrote for this same window.
    let dictating = w.marker;
    // Every window gets its marker, also one whose records all went to the DLQ: should its commit
    // fail, a replay must still end it where it ended (its first record sets the age trigger).
    if (!w.marker) {
      const marker: CutMarker = {
        topic: w.topic,
        partition: w.partition,
        from: from.toString(),
        to: to.toString(),
        files: keys,
        reason,
        writtenAt: new Date(this.now()).toISOString(),
      };
      try {
        await store.put(cutMarkerKey(w.topic, w.partition, from), Buffer.from(JSON.stringify(marker)), {
          ifNoneMatch: true,
          contentType: 'application/json',
        });
      } catch (err) {
        if (!(err instanceof ObjectExistsError)) {
          this.backoff(w, from, err);
          return false;
        }
        // Another run (a crashed one, or a zombie owner) already cut this window: end where it did.
        let existing: CutMarker | undefined;
        try {
          existing = await this.readMarker(w.topic, w.partition, from);
        } catch (readErr) {
          this.backoff(w, from, readErr);
          return false;
        }
        if (existing && existing.to !== marker.to) {
          logger.warn('window already cut elsewhere; replaying it to that cut', { topic: w.topic, partition: w.partition, from: marker.from, to: existing.to });
          w.holdForReplay();
          this.dropWindow(w);
          w.needsMarkerLookup = true;
          w.transition('IDLE');
          if (this.owns(w)) this.consumer?.seek({ topic: w.topic, partition: w.partition, offset: from.toString() });
          return false;
        }
        dictating = existing;
      }
    }
    if (dictating && !markerListsFiles(dictating, keys)) {
      this.refuseReplay(w, { marker: dictating, markerKey: cutMarkerKey(w.topic, w.partition, from), replayFiles: keys });
      return false;
    }
    if (files.length > 0) {
      // Numbered when it starts: cuts of other partitions run meanwhile.
      const cutNumber = ++this.cutsWithFiles;
      this.crashPoint('before-upload', cutNumber);
      let uploaded = 0;
      let failure: { err: unknown } | undefined;
      const upload = async (f: (typeof files)[number]): Promise<void> => {
        await f.builder.compressed();
        const body = f.builder.finish();
        f.builder.release();
        f.bytes = body.length;
        let outcome = 'ok';
        try {
          await store.put(f.key, body, { ifNoneMatch: true, contentType: 'avro/binary' });
        } catch (err) {
          if (!(err instanceof ObjectExistsError)) {
            metrics?.uploads.inc({ topic: w.topic, outcome: 'failed' });
            throw err;
          }
          outcome = 'exists';
        }
        metrics?.uploads.inc({ topic: w.topic, outcome });
        if (++uploaded === 1) this.crashPoint('mid-upload', cutNumber);
      };
      // A few workers per cut, each taking a process-wide slot per file: a cut of many files queues
      // at most CUT_UPLOAD_WORKERS of them, so other partitions' cuts interleave instead of waiting
      // behind it. Every started upload is awaited before backing off, so a window is never rebuilt
      // (and held twice) while its old uploads still run.
      const pending = [...files];
      const worker = async (): Promise<void> => {
        for (let f = pending.shift(); f && !failure; f = pending.shift()) {
          const file = f;
          await this.uploadSlots.run(() => upload(file)).catch((err: unknown) => {
            failure ??= { err };
          });
        }
      };
      await Promise.all(Array.from({ length: Math.min(CUT_UPLOAD_WORKERS, files.length) }, worker));
      if (failure) {
        this.backoff(w, from, failure.err);
        return false;
      }
      this.crashPoint('after-upload', cutNumber);
      for (const f of files) {
        metrics?.recordsLanded.inc({ topic: w.topic }, f.rows);
        metrics?.bytesLanded.inc({ topic: w.topic }, f.bytes);
      }
      this.tracker.landed(w.topic, new Set(files.map((f) => f.hour)));
    }
    w.transition('COMMITTING');
    try {
      // A writer replaced by a rebalance meanwhile leaves the commit to the partition's new writer,
      // which replays this window by its marker.
      if (this.owns(w)) await this.consumer?.commitOffsets([{ topic: w.topic, partition: w.partition, offset: (to + 1n).toString() }]);
    } catch (err) {
      // Harmless: the next cut commits a later offset, and a replay of this window obeys its marker.
      logger.warn('offset commit failed', { topic: w.topic, partition: w.partition, offset: (to + 1n).toString(), error: String(err) });
    }
    metrics?.cuts.inc({ topic: w.topic, reason });
    this.lastCommitAt = this.now();
    for (const seg of segments) this.recordsCommitted += seg.builder.stats.rows;
    const dictated = w.marker !== undefined;
    this.dropWindow(w);
    // After a cut an earlier run made, the next window may have been cut by it too.
    w.needsMarkerLookup = dictated;
    w.consecutiveFailures = 0;
    w.refusedReplay = undefined;
    w.transition('IDLE');
    return true;
  }

  /**
   * A replayed window would upload other keys than its cut marker lists (the topic's event-time field or
   * the code changed between the crash and the restart): uploading them would leave the crashed
   * run's files next to the replay's, the window's records twice in the hour. Deleting the listed files
   * instead would lose rows a closed hour's manifest or a compaction may already count, and the sink
   * cannot tell which listed files the crashed run finished. So, as Connect fails a task rather than
   * write what it cannot vouch for: upload nothing, commit nothing, and back the partition off (the
   * usual jittered backoff, capped at `backoffMaxMs`) with an error that says what to do; each retry
   * reads the marker again, so deleting it takes effect without a restart.
   */
  private refuseReplay(w: PartitionWriter, refused: RefusedReplay): void {
    w.refusedReplay = refused;
    this.deps.metrics?.replaysRefused.inc({ topic: w.topic, partition: String(w.partition) });
    this.deps.logger.error('replayed window differs from its cut marker: not uploading, partition backs off', {
      topic: w.topic,
      partition: w.partition,
      from: refused.marker.from,
      to: refused.marker.to,
      marker: refused.markerKey,
      listedFiles: refused.marker.files,
      replayFiles: refused.replayFiles,
      action:
        'restore what changed since the marker was written (SINK_EVENT_TIME_FIELDS for this topic, or the sink version) until this window is committed; ' +
        'or, only if none of the listed files exist in the lake, delete the marker so the window is cut afresh',
    });
    this.backoff(w, BigInt(refused.marker.from), new CutMarkerMismatchError(refused));
  }

  /** Still the partition's current writer (a rebalance replaces the writers of revoked partitions). */
  private owns(w: PartitionWriter): boolean {
    return this.writers.get(writerKey(w.topic, w.partition)) === w;
  }

  private async readMarker(topic: string, partition: number, from: bigint): Promise<CutMarker | undefined> {
    try {
      return JSON.parse((await this.deps.store.get(cutMarkerKey(topic, partition, from))).toString('utf8')) as CutMarker;
    } catch (err) {
      if (err instanceof ObjectNotFoundError) return undefined;
      throw err;
    }
  }

  /**
   * The store or registry is unavailable: drop the window, pause the partition, rewind it to the
   * window's first record, and resume after a jittered exponential backoff. Nothing was committed, so
   * nothing is lost; the replay obeys any cut marker already written.
   */
  private backoff(w: PartitionWriter, rewindTo: bigint, err: unknown): void {
    const s = this.deps.settings;
    w.holdForReplay();
    this.dropWindow(w);
    w.needsMarkerLookup = true;
    if (!this.owns(w)) {
      // Replaced by a rebalance while this cut ran: the partition (maybe assigned back, with a new
      // writer) is no longer this writer's to pause or rewind; its new owner replays from the commit.
      this.deps.logger.warn('cut failed after the partition was reassigned', { topic: w.topic, partition: w.partition, error: String(err) });
      return;
    }
    w.transition('BACKING_OFF');
    const cap = Math.min(s.backoffMaxMs, s.backoffBaseMs * 2 ** w.consecutiveFailures);
    const delay = Math.floor(cap / 2 + (Math.random() * cap) / 2);
    w.consecutiveFailures++;
    this.deps.logger.warn('partition backing off', {
      topic: w.topic,
      partition: w.partition,
      rewindTo: rewindTo.toString(),
      delayMs: delay,
      error: `${errorName(err)}: ${(err as Error)?.message ?? String(err)}`,
    });
    const tp = { topic: w.topic, partitions: [w.partition] };
    this.consumer?.pause([tp]);
    this.consumer?.seek({ topic: w.topic, partition: w.partition, offset: rewindTo.toString() });
    clearTimeout(w.resumeTimer);
    w.resumeTimer = setTimeout(() => {
      void w.lock.run(async () => {
        if (this.stopped) return;
        if (w.state === 'BACKING_OFF') w.transition('IDLE');
        this.consumer?.resume([tp]);
      });
    }, delay);
    // A back-off must not hold a stopping process open.
    w.resumeTimer.unref();
  }

  /** The original key, value and headers, plus headers naming the failure and its source. */
  private async deadLetter(w: PartitionWriter, message: KafkaMessage, err: unknown): Promise<void> {
    const code = (err as { code?: unknown } | null)?.code;
    const headers: IHeaders = {
      ...(message.headers ?? {}),
      [DLQ_HEADERS.errorClass]: errorName(err),
      [DLQ_HEADERS.errorMessage]: String((err as Error)?.message ?? err).slice(0, 2_000),
      [DLQ_HEADERS.sourceTopic]: w.topic,
      [DLQ_HEADERS.sourcePartition]: String(w.partition),
      [DLQ_HEADERS.sourceOffset]: message.offset,
      [DLQ_HEADERS.service]: this.deps.service ?? 's3-sink',
      [DLQ_HEADERS.time]: new Date(this.now()).toISOString(),
    };
    if (typeof code === 'string' || typeof code === 'number') headers[DLQ_HEADERS.errorCode] = String(code);
    await this.producer!.send({
      topic: dlqTopicOf(w.topic),
      messages: [{ key: message.key, value: message.value, headers, timestamp: message.timestamp }],
    });
    this.deps.metrics?.dlq.inc({ topic: w.topic, code: typeof code === 'string' ? code : errorName(err) });
  }

  /** Periodic: startup scans, idle flushes, memory cap, and hour closes. */
  private async tick(): Promise<void> {
    if (this.ticking || this.stopped) return;
    this.ticking = true;
    try {
      await this.scanUnscanned();
      // Each under its own lock, all at once: one partition's upload does not delay another's flush.
      await Promise.all([...this.writers.values()].map((w) => w.lock.run(() => this.flushIfIdle(w))));
      if (this.overCap() && !this.stopped) await this.relieveMemory();
      await this.exchangeWatermarks();
      // Until the other instances' states are read, an hour could close on this instance's partitions alone.
      if (!this.stopped && (this.watermarks?.ready ?? true)) await this.selectClosableHours(this.now());
      for (const topic of this.topics) {
        const low = this.tracker.lowWatermark(topic, this.now());
        if (low !== undefined) this.deps.metrics?.lowWatermark.set({ topic }, low / 1000);
      }
      if (this.closeQueue.length > 0) this.closing = this.closing.then(() => this.runCloses());
    } catch (err) {
      this.deps.logger.error('sink tick failed', { error: String(err) });
    } finally {
      this.ticking = false;
    }
  }

  /** The idle flush: a window whose last record is `flushIdleMs` old is cut (recorded in its marker). */
  private async flushIfIdle(w: PartitionWriter): Promise<void> {
    if (this.stopped) return;
    if (w.state === 'WRITING' && w.windowOpen && !w.marker && this.now() - w.lastRecordAt >= this.deps.settings.flushIdleMs) {
      await this.cut(w, 'idle');
    }
  }

  /**
   * After each batch: flush the window when no record follows within `flushIdleMs`, on time rather
   * than at the next tick (the tick still checks, as a backstop).
   */
  private armIdleFlush(w: PartitionWriter): void {
    clearTimeout(w.idleTimer);
    if (!w.windowOpen || w.marker || this.stopped) return;
    const delay = Math.max(0, w.lastRecordAt + this.deps.settings.flushIdleMs - this.now());
    w.idleTimer = setTimeout(() => {
      w.lock.run(() => this.flushIfIdle(w)).catch((err: unknown) => this.deps.logger.warn('idle flush failed', { topic: w.topic, partition: w.partition, error: String(err) }));
    }, delay);
    w.idleTimer.unref();
  }

  /** Reports this instance's partitions to the group's other instances and takes in theirs. */
  private async exchangeWatermarks(): Promise<void> {
    const exchange = this.watermarks;
    if (!exchange || this.stopped) return;
    const now = this.now();
    for (const topic of this.topics) {
      const own = new Map<number, { maxEventTime: number | null; lastRecordAt: number; openHours: string[] }>();
      for (const [partition, p] of this.tracker.ownProgress(topic)) {
        const w = this.writers.get(writerKey(topic, partition));
        own.set(partition, { ...p, openHours: w ? [...w.openHours()].sort() : [] });
      }
      await exchange.publish(topic, own, now);
      this.tracker.peers(topic, exchange.peerPartitions(topic));
    }
  }

  private async scanUnscanned(): Promise<void> {
    for (const topic of [...this.unscanned]) {
      try {
        const found = await scanRawHours(this.deps.store, topic);
        this.tracker.recovered(topic, found.pending, found.late, found.closed);
        this.unscanned.delete(topic);
      } catch (err) {
        this.deps.logger.warn('raw folder scan failed; retrying', { topic, error: String(err) });
        return;
      }
    }
  }

  /** Cuts windows holding files of hours that are due (each under its writer's lock), then queues the closes. */
  private async selectClosableHours(now: number): Promise<void> {
    const openHours = (topic: string) => {
      const hours = new Set<string>();
      for (const w of this.writers.values()) if (w.topic === topic) for (const h of w.openHours()) hours.add(h);
      return hours;
    };
    for (const due of this.tracker.due(now, openHours)) {
      let ready = true;
      for (const w of [...this.writers.values()]) {
        if (w.topic !== due.topic) continue;
        const cutDone = await w.lock.run(async () => {
          if (!w.openHours().has(due.hour)) return true;
          // Records of this hour were dropped unlanded (a failed cut, a rebalance): wait for their replay.
          if (w.holdsForReplay(due.hour)) return false;
          return !w.marker && w.state === 'WRITING' && (await this.cut(w, 'hour-close'));
        });
        if (!cutDone) ready = false;
      }
      if (!ready) continue;
      this.tracker.closing(due.topic, due.hour, now);
      this.closeQueue.push(due);
    }
  }

  private async runCloses(): Promise<void> {
    const publish = this.producer ? hourClosePublisher(this.producer) : undefined;
    while (this.closeQueue.length > 0) {
      const due = this.closeQueue.shift()!;
      try {
        const result = await closeHour(this.deps.store, due.topic, due.hour, { reason: due.reason, publish, now: () => new Date(this.now()) });
        this.deps.metrics?.hoursClosed.inc({ topic: due.topic, reason: due.reason });
        this.deps.logger.info('hour closed', {
          topic: due.topic,
          hour: due.hour,
          reason: due.reason,
          files: result.manifest.files.length,
          rows: result.manifest.rows,
          generation: result.manifest.generation,
          request: result.published ? HOUR_CLOSE_TOPIC : undefined,
        });
      } catch (err) {
        this.tracker.closeFailed(due);
        this.deps.logger.warn('hour close failed; retrying', { topic: due.topic, hour: due.hour, error: String(err) });
        await sleep(200);
      }
    }
  }
}
