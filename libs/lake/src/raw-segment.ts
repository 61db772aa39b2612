import { createHash } from 'node:crypto';
import { deflateRaw, deflateRawSync } from 'node:zlib';
import * as avro from 'avsc';

/**
 * Raw segments are Avro object container files (OCF) whose records wrap each Kafka record:
 * `RawRecord { _partition, _offset, _timestamp, _key, _headers, _schema_id, value }`.
 *
 * Avro binary is the concatenation of its fields' encodings, so a wrapped record is the encoded prefix
 * fields followed by the Confluent-framed value minus its 5-byte header, byte for byte: landing never
 * decodes and re-encodes a value (unless the topic masks fields). avsc's BlockEncoder only takes values
 * and draws a random sync marker, so this builds the container itself: same format (avsc's BlockDecoder
 * and any Avro reader read it, see raw-segment.spec.ts), a sync marker derived from the key, and the
 * header written last, so the same records under the same key always give the same bytes.
 */

export const RAW_RECORD_NAME = 'RawRecord';
export const RAW_RECORD_NAMESPACE = 'com.securecart.lake';

/** Header metadata keys with the segment's statistics (read by hour close without decoding rows). */
export const SEGMENT_META = {
  rows: 'securecart.rows',
  topic: 'securecart.topic',
  partition: 'securecart.partition',
  firstOffset: 'securecart.firstOffset',
  lastOffset: 'securecart.lastOffset',
  minEventTime: 'securecart.minEventTime',
  maxEventTime: 'securecart.maxEventTime',
  schemaIds: 'securecart.schemaIds',
  maskedFields: 'securecart.maskedFields',
} as const;

/** The wrapper record schema around one writer schema of the topic's values. */
export function rawRecordSchema(valueSchema: object | string): object {
  return {
    type: 'record',
    name: RAW_RECORD_NAME,
    namespace: RAW_RECORD_NAMESPACE,
    fields: [
      { name: '_partition', type: 'int' },
      { name: '_offset', type: 'long' },
      { name: '_timestamp', type: { type: 'long', logicalType: 'timestamp-millis' }, doc: 'Kafka record time' },
      { name: '_key', type: ['null', 'bytes'] },
      { name: '_headers', type: { type: 'map', values: 'bytes' } },
      { name: '_schema_id', type: 'int' },
      { name: 'value', type: typeof valueSchema === 'string' ? JSON.parse(valueSchema) : valueSchema },
    ],
  };
}

const MAGIC = Buffer.from('Obj\x01', 'latin1');
const METADATA_TYPE = avro.Type.forSchema({ type: 'map', values: 'bytes' });

/** A growable byte buffer with Avro's zig-zag varint encoding. */
export class AvroBytes {
  buf: Buffer;
  length = 0;

  constructor(initial = 1024) {
    this.buf = Buffer.allocUnsafe(initial);
  }

  private ensure(extra: number): void {
    if (this.length + extra <= this.buf.length) return;
    let size = Math.max(64, this.buf.length * 2);
    while (size < this.length + extra) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.length);
    this.buf = next;
  }

  /** Avro int/long (zig-zag varint); beyond ±2^52 (where 2n stops being exact) it takes the BigInt path. */
  writeLong(n: number): void {
    if (n >= 4503599627370496 || n < -4503599627370496) return this.writeBigLong(BigInt(n));
    this.ensure(10);
    // Zig-zag without 32-bit bitwise ops, which would truncate longs.
    let z = n >= 0 ? n * 2 : -n * 2 - 1;
    while (z >= 0x80) {
      this.buf[this.length++] = (z % 0x80) | 0x80;
      z = Math.floor(z / 0x80);
    }
    this.buf[this.length++] = z;
  }

  writeBigLong(n: bigint): void {
    if (n < 4503599627370496n && n >= -4503599627370496n) return this.writeLong(Number(n));
    this.ensure(10);
    let z = n >= 0n ? n << 1n : (-n << 1n) - 1n;
    while (z >= 0x80n) {
      this.buf[this.length++] = Number(z & 0x7fn) | 0x80;
      z >>= 7n;
    }
    this.buf[this.length++] = Number(z);
  }

  writeBytes(bytes: Uint8Array): void {
    this.writeLong(bytes.length);
    this.writeRaw(bytes);
  }

  /** Appends `bytes` from `start` on (a plain Uint8Array view is cheaper to make than a Buffer's `subarray`). */
  writeRaw(bytes: Uint8Array, start = 0): void {
    const n = bytes.length - start;
    this.ensure(n);
    this.buf.set(start === 0 ? bytes : new Uint8Array(bytes.buffer, bytes.byteOffset + start, n), this.length);
    this.length += n;
  }

  reset(): void {
    this.length = 0;
  }

  view(): Buffer {
    return this.buf.subarray(0, this.length);
  }
}

const EMPTY = Buffer.alloc(0);

/**
 * A Kafka offset on the per-record path: a number while it is exact (up to 15 digits, below 2^53),
 * else a bigint, so the common case allocates nothing. Compare with `<`/`>` (exact across the two
 * types), never with `===`.
 */
export type RecordOffset = number | bigint;

/** A record offset from kafkajs' decimal string (see {@link RecordOffset}). */
export function recordOffset(decimal: string): RecordOffset {
  return decimal.length <= 15 ? Number(decimal) : BigInt(decimal);
}

/** One Kafka record's fields besides the value, as the wrapper carries them. */
export interface RawRecordFields {
  partition: number;
  offset: RecordOffset;
  timestamp: number;
  key: Buffer | null;
  /** Header name → bytes; for a repeated header the last value wins (an Avro map has unique keys). */
  headers: Record<string, Buffer | string | (Buffer | string)[] | undefined> | undefined;
  schemaId: number;
}

/** Encodes the wrapper's prefix fields (everything before `value`) into `out`. */
export function encodeRawPrefix(out: AvroBytes, fields: RawRecordFields): void {
  out.writeLong(fields.partition);
  if (typeof fields.offset === 'number') out.writeLong(fields.offset);
  else out.writeBigLong(fields.offset);
  out.writeLong(fields.timestamp);
  if (fields.key === null) out.writeLong(0);
  else {
    out.writeLong(1);
    out.writeBytes(fields.key);
  }
  const headers = fields.headers;
  let count = 0;
  if (headers) for (const name in headers) if (headers[name] !== undefined) count++;
  if (count > 0) {
    out.writeLong(count);
    for (const name in headers!) {
      let v = headers![name];
      if (v === undefined) continue;
      if (Array.isArray(v)) v = v[v.length - 1] ?? EMPTY;
      out.writeBytes(Buffer.from(name, 'utf8'));
      out.writeBytes(typeof v === 'string' ? Buffer.from(v, 'utf8') : v);
    }
  }
  out.writeLong(0);
  out.writeLong(fields.schemaId);
}

export interface SegmentStats {
  rows: number;
  /** Bytes of the wrapped records before compression. */
  rawBytes: number;
  firstOffset: bigint;
  lastOffset: RecordOffset;
  minEventTime: number;
  maxEventTime: number;
  /** Kafka timestamp of the first row (age-based rotation counts from it). */
  firstTimestamp: number;
}

export interface RawSegmentOptions {
  /** Uncompressed bytes per container block. */
  blockBytes: number;
  /** zlib level for the `deflate` codec (raw DEFLATE, RFC 1951, as Avro specifies). */
  deflateLevel: number;
  /**
   * Deflate full blocks on libuv's thread pool instead of the calling thread (the sink's one JS thread
   * is its bottleneck; the pool runs on the other core). Same bytes; await
   * {@link RawSegmentBuilder.compressed} before {@link RawSegmentBuilder.finish}.
   */
  deflateOffThread?: boolean;
  /** With `deflateOffThread`: a block finished compressing; `delta` is the change of `bufferedBytes`. */
  onBufferedChange?: (delta: number) => void;
}

/**
 * Builds one raw segment in memory: rows are appended as encoded bytes, each full block is compressed
 * right away (so an open file holds compressed bytes plus one block), and {@link finish} assembles the
 * container with the statistics in its header.
 */
export class RawSegmentBuilder {
  /** Sealed blocks in file order (header and data each); a block still compressing off-thread is a gap. */
  private readonly blocks: Buffer[] = [];
  private compressedBytes = 0;
  /** Off-thread: memory held by blocks still compressing, their count, and the first failure. */
  private compressingBytes = 0;
  private compressing = 0;
  private readonly compressingDone: Promise<void>[] = [];
  private compressFailure?: Error;
  private block: AvroBytes;
  /** Off-thread: the next block's buffer is allocated by the next append, at the last one's grown size. */
  private nextBlockCapacity: number;
  private blockRows = 0;
  private released = false;
  readonly stats: SegmentStats = {
    rows: 0,
    rawBytes: 0,
    firstOffset: -1n,
    lastOffset: -1n,
    minEventTime: Number.POSITIVE_INFINITY,
    maxEventTime: Number.NEGATIVE_INFINITY,
    firstTimestamp: 0,
  };

  constructor(
    readonly key: string,
    readonly topic: string,
    readonly partition: number,
    readonly schemaId: number,
    /** The wrapper schema JSON (see {@link rawRecordSchema}). */
    private readonly wrapperSchemaJson: string,
    private readonly options: RawSegmentOptions,
    private readonly maskedFields: string[] = [],
  ) {
    this.nextBlockCapacity = Math.min(options.blockBytes, 4096);
    this.block = new AvroBytes(this.nextBlockCapacity);
  }

  /**
   * Appends one wrapped record: its prefix fields are written from `fields`, then the value body as
   * is (`valueBody` from `bodyStart` on: the sink passes the framed value and skips its header).
   */
  append(fields: RawRecordFields, valueBody: Uint8Array, eventTime: number, bodyStart = 0): void {
    if (this.block.buf.length === 0) this.block = new AvroBytes(this.nextBlockCapacity);
    const start = this.block.length;
    encodeRawPrefix(this.block, fields);
    this.block.writeRaw(valueBody, bodyStart);
    this.blockRows++;
    const s = this.stats;
    s.rawBytes += this.block.length - start;
    if (s.rows === 0) {
      s.firstOffset = BigInt(fields.offset);
      s.firstTimestamp = fields.timestamp;
    }
    s.rows++;
    s.lastOffset = fields.offset;
    if (eventTime < s.minEventTime) s.minEventTime = eventTime;
    if (eventTime > s.maxEventTime) s.maxEventTime = eventTime;
    if (this.block.length >= this.options.blockBytes) this.sealBlock();
  }

  /**
   * Memory this builder holds now: compressed blocks, the buffers of blocks still compressing, and the
   * open block's buffer at its allocated size (it grows to the block size and keeps that size; counting
   * only its written bytes let a thousand open files hold up to half a GiB the memory cap never saw).
   */
  get bufferedBytes(): number {
    return this.compressedBytes + this.compressingBytes + this.block.buf.length;
  }

  /** Stores block `index` (its row count and compressed data); returns the bytes it adds to the file. */
  private placeBlock(index: number, rows: number, data: Buffer): number {
    const header = new AvroBytes(24);
    header.writeLong(rows);
    header.writeLong(data.length);
    this.blocks[2 * index] = header.view();
    this.blocks[2 * index + 1] = data;
    const bytes = header.length + data.length + 16;
    this.compressedBytes += bytes;
    return bytes;
  }

  private sealBlock(): void {
    if (this.blockRows === 0) return;
    const rows = this.blockRows;
    const index = this.blocks.length / 2;
    const level = this.options.deflateLevel;
    this.blockRows = 0;
    if (!this.options.deflateOffThread) {
      this.placeBlock(index, rows, deflateRawSync(this.block.view(), { level }));
      // The block buffer stays at its grown size; open files are capped, so this is bounded.
      this.block.reset();
      return;
    }
    const raw = this.block.view();
    // The buffer belongs to the deflate now. The next block gets a new one of the grown size when a
    // record arrives (inside append, where the sink measures growth), so sealing moves what is held
    // from the open block to the compressing ones and changes no total.
    const held = this.block.buf.length;
    this.nextBlockCapacity = held;
    this.block = new AvroBytes(0);
    this.blocks.length += 2;
    this.compressing++;
    this.compressingBytes += held;
    this.compressingDone.push(
      new Promise<void>((resolve) => {
        deflateRaw(raw, { level }, (err, data) => {
          this.compressing--;
          this.compressingBytes -= held;
          if (this.released) return resolve();
          let delta = -held;
          if (err) this.compressFailure ??= err;
          else delta += this.placeBlock(index, rows, data);
          this.options.onBufferedChange?.(delta);
          resolve();
        });
      }),
    );
  }

  /**
   * Seals the open block and waits until every block is compressed (then {@link finish} may run).
   * After {@link release}: waits until the blocks still compressing are done (they report nothing).
   */
  async compressed(): Promise<void> {
    this.sealBlock();
    while (this.compressingDone.length > 0) await Promise.all(this.compressingDone.splice(0));
    if (this.compressFailure) throw this.compressFailure;
  }

  /** The whole container file. The builder must not be appended to afterwards. */
  finish(): Buffer {
    if (this.released) throw new Error(`segment ${this.key} was released`);
    if (this.options.deflateOffThread && (this.blockRows > 0 || this.compressing > 0 || this.compressFailure)) {
      throw new Error(`segment ${this.key}: await compressed() before finish()`);
    }
    this.sealBlock();
    const sync = createHash('sha256').update(this.key).digest().subarray(0, 16);
    const s = this.stats;
    const meta: Record<string, Buffer> = {
      'avro.schema': Buffer.from(this.wrapperSchemaJson, 'utf8'),
      'avro.codec': Buffer.from('deflate'),
      [SEGMENT_META.rows]: Buffer.from(String(s.rows)),
      [SEGMENT_META.topic]: Buffer.from(this.topic),
      [SEGMENT_META.partition]: Buffer.from(String(this.partition)),
      [SEGMENT_META.firstOffset]: Buffer.from(s.firstOffset.toString()),
      [SEGMENT_META.lastOffset]: Buffer.from(s.lastOffset.toString()),
      [SEGMENT_META.minEventTime]: Buffer.from(String(s.minEventTime)),
      [SEGMENT_META.maxEventTime]: Buffer.from(String(s.maxEventTime)),
      [SEGMENT_META.schemaIds]: Buffer.from(String(this.schemaId)),
    };
    if (this.maskedFields.length > 0) meta[SEGMENT_META.maskedFields] = Buffer.from(this.maskedFields.join(','));
    const parts: Buffer[] = [MAGIC, METADATA_TYPE.toBuffer(meta), sync];
    for (let i = 0; i < this.blocks.length; i += 2) parts.push(this.blocks[i], this.blocks[i + 1], sync);
    return Buffer.concat(parts);
  }

  /**
   * Frees the blocks once {@link finish} has built the file, so a segment being uploaded is held once
   * (as its file), not twice; also when its window is dropped (blocks still compressing then report
   * nothing). Nothing can be appended or finished afterwards.
   */
  release(): void {
    this.released = true;
    this.blocks.length = 0;
    this.compressedBytes = 0;
    this.block = new AvroBytes(16);
    this.blockRows = 0;
  }
}

/** A segment's header: the wrapper schema, codec and statistics, read without touching the blocks. */
export interface SegmentHeader {
  schema: object;
  codec: string;
  metadata: Record<string, string>;
  rows: number;
  partition: number;
  firstOffset: string;
  lastOffset: string;
  minEventTime: number;
  maxEventTime: number;
  schemaIds: number[];
}

/** Reads a raw segment's header; throws on anything that is not an Avro container. */
export function readSegmentHeader(file: Buffer): SegmentHeader {
  if (file.length < 4 || !file.subarray(0, 4).equals(MAGIC)) throw new Error('not an Avro object container file');
  const { value } = METADATA_TYPE.decode(file, 4) as { value: Record<string, Buffer>; offset: number };
  const metadata: Record<string, string> = {};
  for (const [k, v] of Object.entries(value)) metadata[k] = v.toString('utf8');
  const num = (key: string) => Number(metadata[key]);
  return {
    schema: JSON.parse(metadata['avro.schema']),
    codec: metadata['avro.codec'] ?? 'null',
    metadata,
    rows: num(SEGMENT_META.rows),
    partition: num(SEGMENT_META.partition),
    firstOffset: metadata[SEGMENT_META.firstOffset],
    lastOffset: metadata[SEGMENT_META.lastOffset],
    minEventTime: num(SEGMENT_META.minEventTime),
    maxEventTime: num(SEGMENT_META.maxEventTime),
    schemaIds: (metadata[SEGMENT_META.schemaIds] ?? '').split(',').filter(Boolean).map(Number),
  };
}

/** A decoded raw row (tests, tools): the wrapper's fields with the value decoded by the given type. */
export interface RawSegmentRow<T = unknown> {
  _partition: number;
  _offset: number;
  _timestamp: Date | number;
  _key: Buffer | null;
  _headers: Record<string, Buffer>;
  _schema_id: number;
  value: T;
}

/**
 * Decodes every row of a raw segment through avsc's own container decoder (proof that any Avro reader
 * reads it). `parse` turns the embedded schema into an avsc type (pass the platform's `parseAvroSchema`
 * for decimals and timestamps).
 */
export async function readSegmentRows<T = unknown>(
  file: Buffer,
  parse: (schema: object) => avro.Type = (schema) => avro.Type.forSchema(schema as avro.Schema),
): Promise<RawSegmentRow<T>[]> {
  const rows: RawSegmentRow<T>[] = [];
  await new Promise<void>((resolve, reject) => {
    const decoder = new avro.streams.BlockDecoder({ parseHook: (schema: unknown) => parse(schema as object) });
    decoder.on('data', (row: RawSegmentRow<T>) => rows.push(row));
    decoder.on('error', reject);
    decoder.on('end', () => resolve());
    decoder.end(file);
  });
  return rows;
}
