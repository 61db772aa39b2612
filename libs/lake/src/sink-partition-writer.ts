import { RawSegmentBuilder, type RawSegmentOptions, type RecordOffset } from './raw-segment';
import { rawSegmentKey } from './manifest';
import type { LandingPlan } from './sink-schemas';

/**
 * A topic-partition writer's states (after Confluent's TopicPartitionWriter, STYLE #14):
 *
 *   IDLE ──first record──► RECOVERING ──marker read──► WRITING ──trigger──► UPLOADING ──► COMMITTING ──► IDLE
 *     ▲                    (first window after an                               │              │
 *     │                     assignment or a failure)                            ▼              │
 *     └──────── backoff over, partition resumed ◄────────────── BACKING_OFF ◄───┴──────────────┘
 *
 * Any state goes to IDLE when the group rebalances (the window is dropped; Kafka replays it from the
 * committed offset). BACKING_OFF: the store or registry is unavailable, or a replay's segment keys
 * differ from its cut marker's; the partition is paused and will replay its window from the start.
 */
export const WRITER_STATES = ['IDLE', 'RECOVERING', 'WRITING', 'UPLOADING', 'COMMITTING', 'BACKING_OFF'] as const;
export type WriterState = (typeof WRITER_STATES)[number];

const ALLOWED: Record<WriterState, readonly WriterState[]> = {
  IDLE: ['RECOVERING', 'WRITING', 'BACKING_OFF'],
  RECOVERING: ['WRITING', 'BACKING_OFF', 'IDLE'],
  WRITING: ['UPLOADING', 'COMMITTING', 'BACKING_OFF', 'IDLE'],
  UPLOADING: ['COMMITTING', 'BACKING_OFF', 'IDLE'],
  COMMITTING: ['IDLE', 'BACKING_OFF'],
  BACKING_OFF: ['IDLE'],
};

export class IllegalWriterTransitionError extends Error {
  constructor(from: WriterState, to: WriterState) {
    super(`writer cannot go from ${from} to ${to}`);
    this.name = 'IllegalWriterTransitionError';
  }
}

/** Runs `task`s one at a time, in order (one per writer: its batches, timers and rebalance resets never interleave). */
export class SerialLock {
  private tail: Promise<unknown> = Promise.resolve();
  run<T>(task: () => Promise<T>): Promise<T> {
    const result = this.tail.then(task, task);
    this.tail = result.catch(() => undefined);
    return result;
  }
}

/** Runs at most `limit` tasks at once, the rest in arrival order (segment uploads across partitions). */
export class TaskSlots {
  private active = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(private readonly limit: number) {}

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.active < this.limit) this.active++;
    else await new Promise<void>((resolve) => this.waiting.push(resolve));
    try {
      return await task();
    } finally {
      // Hand the slot straight to the next waiter, or free it.
      const next = this.waiting.shift();
      if (next) next();
      else this.active--;
    }
  }
}

/** The decision of an earlier run about where a window ends, so a replay cuts at the same offset. */
export interface CutMarker {
  topic: string;
  partition: number;
  /** First record offset of the window (decimal string). */
  from: string;
  /** Last record offset of the window, inclusive. */
  to: string;
  files: string[];
  reason: string;
  writtenAt: string;
}

/** A replayed window whose segment keys differ from those its cut marker lists (see `LandingSink.refuseReplay`). */
export interface RefusedReplay {
  marker: CutMarker;
  markerKey: string;
  /** The keys this replay would have uploaded (sorted). */
  replayFiles: string[];
}

/**
 * The keys a cut is about to upload are the ones `marker` lists (as sets). Only the keys: a window whose
 * marked last record was compacted away ends earlier than `to`, yet lands the same files.
 */
export function markerListsFiles(marker: CutMarker, files: readonly string[]): boolean {
  // A marker without a file list cannot vouch for any set of keys.
  if (!Array.isArray(marker.files)) return false;
  const listed = new Set(marker.files);
  const replayed = new Set(files);
  return listed.size === replayed.size && [...replayed].every((key) => listed.has(key));
}

/** `_sink/cuts/<topic>/<topic>+<partition>+<from, 20 digits>.json` (outside raw/ and curated/). */
export function cutMarkerKey(topic: string, partition: number, from: bigint | string): string {
  return `_sink/cuts/${topic}/${topic}+${partition}+${String(from).padStart(20, '0')}.json`;
}

export interface OpenSegment {
  hour: string;
  builder: RawSegmentBuilder;
}

/**
 * One topic-partition's window: the records since its last committed cut, in one open raw segment per
 * (event hour, writer schema id). A cut flushes every open segment of the window and commits the offset
 * after its last record, so a committed offset is always a window boundary, and a replay from it starts
 * from the same empty state.
 */
export class PartitionWriter {
  state: WriterState = 'IDLE';
  /** Serializes everything that touches this writer. */
  readonly lock = new SerialLock();
  /** A memory-relief cut is queued on this writer's lock. */
  reliefQueued = false;
  readonly segments = new Map<string, OpenSegment>();
  /** Offset of the window's first record. */
  windowStart?: bigint;
  /** Offset of the window's last record (landed or dead-lettered). */
  lastOffset?: RecordOffset;
  /** Kafka timestamp of the window's first record (age-based rotation counts from it). */
  windowFirstTimestamp = 0;
  /** Wall clock, for the idle flush and for choosing the oldest window under memory pressure. */
  windowOpenedAt = 0;
  lastRecordAt = 0;
  /** Set while replaying a window an earlier run already cut: the cut must land on `marker.to`. */
  marker?: CutMarker;
  /** The next window may have been cut by an earlier run (first window after assignment or failure). */
  needsMarkerLookup = true;
  consecutiveFailures = 0;
  /**
   * The newest offset this process sent to the DLQ for this partition. A window rebuilt after a back-off
   * (S3 down, a failed commit) meets its unlandable records again; they are in the DLQ already (the send
   * was acknowledged), so they are not sent again. After a crash or a rebalance the new owner may send
   * them once more: the DLQ is at least once, the lake exactly once.
   */
  deadLetteredThrough?: RecordOffset;
  /**
   * Set while this partition's replay is refused: the window's file keys differ from its marker's
   * `files`. Settings and records cannot change within a process, so a replay of the same marker is
   * refused again without re-reading (or re-dead-lettering) the window's records.
   */
  refusedReplay?: RefusedReplay;
  resumeTimer?: NodeJS.Timeout;
  /** Fires the idle flush `flushIdleMs` after the last batch. */
  idleTimer?: NodeJS.Timeout;
  bufferedBytes = 0;
  /** The plan of the previous record (consecutive records mostly share their writer schema). */
  lastPlan?: LandingPlan;
  /** The segment the previous record went to (consecutive records mostly share hour and schema). */
  private lastSegment?: OpenSegment;

  constructor(
    readonly topic: string,
    readonly partition: number,
    private readonly onTransition: (writer: PartitionWriter, from: WriterState, to: WriterState) => void,
    /** How this writer's segments are built: block size, deflate level, byte accounting. */
    private readonly segmentOptions: RawSegmentOptions,
  ) {}

  transition(to: WriterState): void {
    const from = this.state;
    if (from === to) return;
    if (!ALLOWED[from].includes(to)) throw new IllegalWriterTransitionError(from, to);
    this.state = to;
    this.onTransition(this, from, to);
  }

  get windowOpen(): boolean {
    return this.windowStart !== undefined;
  }

  openWindow(offset: bigint, timestamp: number, now: number): void {
    this.windowStart = offset;
    this.windowFirstTimestamp = timestamp;
    this.windowOpenedAt = now;
  }

  /** The open segment for (hour, schema id), created with a deterministic key from its first record. */
  segmentFor(
    hour: string,
    schemaId: number,
    firstOffset: RecordOffset,
    wrapperSchemaJson: string,
    maskedFields: string[],
  ): OpenSegment {
    const last = this.lastSegment;
    if (last !== undefined && last.hour === hour && last.builder.schemaId === schemaId) return last;
    const groupKey = `${hour}/${schemaId}`;
    let open = this.segments.get(groupKey);
    if (!open) {
      const key = rawSegmentKey(this.topic, hour, this.partition, BigInt(firstOffset));
      open = {
        hour,
        builder: new RawSegmentBuilder(key, this.topic, this.partition, schemaId, wrapperSchemaJson, this.segmentOptions, maskedFields),
      };
      this.segments.set(groupKey, open);
    }
    this.lastSegment = open;
    return open;
  }

  /**
   * Hours of windows dropped before they landed (a failed cut, a rebalance) and the last offset they
   * had read: until the replay reads that offset again, those hours count as open, so neither this
   * instance nor a peer closes them without the dropped records (which would close an incomplete hour
   * and re-close it when they land).
   */
  private readonly replayHours = new Set<string>();
  replayThrough?: RecordOffset;

  /** The window is about to be dropped and read again from its first record: hold its hours. */
  holdForReplay(): void {
    if (this.lastOffset === undefined) return;
    for (const open of this.segments.values()) this.replayHours.add(open.hour);
    if (this.replayThrough === undefined || this.lastOffset > this.replayThrough) this.replayThrough = this.lastOffset;
  }

  /** The replay read `offset` (call while {@link replayThrough} is set): past it, the hours are free. */
  replayed(offset: RecordOffset): void {
    if (offset < this.replayThrough!) return;
    this.replayThrough = undefined;
    this.replayHours.clear();
  }

  /** An hour a dropped window held records of, not read again yet. */
  holdsForReplay(hour: string): boolean {
    return this.replayHours.has(hour);
  }

  /** Hours with an open segment, or held for a replay. */
  openHours(): Set<string> {
    const hours = new Set(this.replayHours);
    for (const open of this.segments.values()) hours.add(open.hour);
    return hours;
  }

  /** Drops the window (after a cut, a failure or a rebalance); returns the bytes it held. */
  clearWindow(): number {
    const freed = this.bufferedBytes;
    // Released, its blocks still compressing off-thread no longer count towards this writer's bytes.
    for (const open of this.segments.values()) open.builder.release();
    this.segments.clear();
    this.lastSegment = undefined;
    this.windowStart = undefined;
    this.lastOffset = undefined;
    this.marker = undefined;
    this.bufferedBytes = 0;
    return freed;
  }
}
