/**
 * Reads raw segments (Avro object container files whose records wrap each event with its Kafka
 * lineage) into the latest reader schema. Each file embeds its own writer schema, so one hour may mix
 * schema versions: every file gets a resolver from its writer wrapper to the reader wrapper, and older
 * rows come out with the reader's defaults, in the same rows as newer ones.
 */
import * as zlib from 'node:zlib';
import * as avro from 'avsc';
import { avroTypeOptions, createResolver, parseAvroSchema, type AvroSchema } from '@app/codec';
import { readLong, WireError, wirePlanOf, type WireCursor, type WirePlan, type WireRowTarget } from './compaction-input-fast';
import type { PlainRawRecord } from './parquet-writer-chunks';

const MAGIC = Buffer.from([0x4f, 0x62, 0x6a, 0x01]); // "Obj" 1
const SYNC_LENGTH = 16;

/** One landed record: the event (in the reader schema) and where it came from. */
export interface RawRow {
  partition: number;
  offset: number;
  /** Kafka record timestamp. */
  timestamp: Date;
  key: Buffer | null;
  headers: Record<string, Buffer>;
  schemaId: number;
  value: Record<string, unknown>;
}

export class RawSegmentError extends Error {
  readonly retriable = false;
  constructor(
    readonly key: string,
    message: string,
  ) {
    super(`${key}: ${message}`);
    this.name = 'RawSegmentError';
  }
}

type Cursor = WireCursor;

function readBytes(c: Cursor): Buffer {
  const length = readLong(c);
  if (length < 0 || c.pos + length > c.buf.length) throw new Error('truncated bytes');
  const bytes = c.buf.subarray(c.pos, c.pos + length);
  c.pos += length;
  return bytes;
}

interface ContainerHeader {
  schema: { fields?: { name: string; type: unknown }[] } & Record<string, unknown>;
  codec: string;
  sync: Buffer;
  dataStart: number;
}

function readHeader(buf: Buffer): ContainerHeader {
  if (buf.length < MAGIC.length || !buf.subarray(0, MAGIC.length).equals(MAGIC)) throw new Error('not an Avro object container file');
  const c: Cursor = { buf, pos: MAGIC.length };
  const meta = new Map<string, Buffer>();
  for (;;) {
    let count = readLong(c);
    if (count === 0) break;
    if (count < 0) {
      count = -count;
      readLong(c); // block size in bytes, only useful for skipping
    }
    for (let i = 0; i < count; i++) meta.set(readBytes(c).toString('utf8'), Buffer.from(readBytes(c)));
  }
  const sync = buf.subarray(c.pos, c.pos + SYNC_LENGTH);
  if (sync.length !== SYNC_LENGTH) throw new Error('truncated header');
  const schemaText = meta.get('avro.schema');
  if (!schemaText) throw new Error('no avro.schema in header');
  return {
    schema: JSON.parse(schemaText.toString('utf8')),
    codec: meta.get('avro.codec')?.toString('utf8') ?? 'null',
    sync,
    dataStart: c.pos + SYNC_LENGTH,
  };
}

type ZstdZlib = { zstdDecompressSync?: (buf: Buffer) => Buffer };

function decompress(codec: string, data: Buffer): Buffer {
  switch (codec) {
    case 'null':
      return data;
    case 'deflate':
      return zlib.inflateRawSync(data);
    case 'zstandard': {
      // Node's zlib has zstd from 22.15 / 23.8 on.
      const zstd = (zlib as unknown as ZstdZlib).zstdDecompressSync;
      if (!zstd) throw new Error('zstandard segments need Node >= 22.15');
      return zstd(data);
    }
    default:
      throw new Error(`unsupported codec ${codec}`);
  }
}

interface DecodePlan {
  reader: avro.Type;
  resolver?: avro.Resolver;
}

// avsc's `equals` takes `{ strict }`; its typings omit it.
type StrictlyComparable = { equals(other: avro.Type, opts: { strict: boolean }): boolean };

/**
 * Decodes raw segments into one reader schema. Plans (writer → reader resolvers) are cached per
 * embedded writer schema text, so files of the same version share one.
 */
export class RawSegmentDecoder {
  private readonly plans = new Map<string, DecodePlan>();
  private readonly wirePlans = new Map<string, WirePlan | null>();
  private readonly readerValueSchema: unknown;
  private readonly logicalTypes: boolean;

  /**
   * `logicalTypes: false` decodes decimals as their bytes and timestamps as epoch millis (the columnar
   * staging wants exactly that); the writer schema must still resolve with the logical types.
   */
  constructor(
    readonly reader: AvroSchema,
    options: { logicalTypes?: boolean } = {},
  ) {
    this.readerValueSchema = JSON.parse(reader.json);
    this.logicalTypes = options.logicalTypes ?? true;
  }

  /** Every row of one segment, in file order; throws {@link RawSegmentError} naming the key. */
  *rows(key: string, buf: Buffer): Generator<RawRow> {
    for (const w of this.records(key, buf) as Generator<WrappedRecord>) {
      yield {
        partition: w._partition,
        offset: w._offset,
        timestamp: w._timestamp,
        key: w._key,
        headers: w._headers ?? {},
        schemaId: w._schema_id,
        value: w.value,
      };
    }
  }

  /**
   * Every landed record of one segment as the RawRecord wrapper decodes (with or without logical
   * types, see the constructor), in file order; throws {@link RawSegmentError} naming the key.
   */
  *records(key: string, buf: Buffer): Generator<unknown> {
    const header = this.headerOf(key, buf);
    const plan = this.planFor(key, header);
    for (const { count, block } of this.blocks(key, buf, header)) {
      let pos = 0;
      for (let i = 0; i < count; i++) {
        const decoded = plan.reader.decode(block, pos, plan.resolver) as { value: WrappedRecord; offset: number };
        if (decoded.offset < 0) throw new RawSegmentError(key, 'truncated record');
        pos = decoded.offset;
        yield decoded.value;
      }
    }
  }

  /**
   * Stages one segment's rows into the chunk stager, read off the wire in place when the wrapper is
   * the landing's RawRecord (see `compaction-input-fast.ts`), else record by record through avsc.
   * Needs `logicalTypes: false`. `onRow` sees every row's lineage, in file order.
   */
  stage(key: string, buf: Buffer, target: WireRowTarget & { add(record: PlainRawRecord): void }, onRow: (partition: number, offset: number, schemaId: number) => void): void {
    if (this.logicalTypes) throw new Error('stage() reads plain values: construct the decoder with logicalTypes: false');
    const header = this.headerOf(key, buf);
    this.planFor(key, header); // the writer must resolve to the reader with the logical types
    const text = JSON.stringify(header.schema);
    let wire = this.wirePlans.get(text);
    if (wire === undefined) {
      wire = wirePlanOf(header.schema, this.readerValueSchema, target) ?? null;
      this.wirePlans.set(text, wire);
    }
    if (!wire) {
      for (const record of this.records(key, buf) as Generator<PlainRawRecord>) {
        target.add(record);
        onRow(record._partition, record._offset, record._schema_id);
      }
      return;
    }
    for (const { count, block } of this.blocks(key, buf, header)) {
      try {
        wire.stage(block, count, target, onRow);
      } catch (err) {
        if (err instanceof WireError) throw new RawSegmentError(key, err.message);
        throw err;
      }
    }
  }

  private headerOf(key: string, buf: Buffer): ContainerHeader {
    try {
      return readHeader(buf);
    } catch (err) {
      throw new RawSegmentError(key, (err as Error).message);
    }
  }

  /** The file's blocks, decompressed, each with its record count. */
  private *blocks(key: string, buf: Buffer, header: ContainerHeader): Generator<{ count: number; block: Buffer }> {
    const c: Cursor = { buf, pos: header.dataStart };
    while (c.pos < buf.length) {
      let count: number;
      let block: Buffer;
      try {
        count = readLong(c);
        const size = readLong(c);
        if (size < 0 || c.pos + size + SYNC_LENGTH > buf.length) throw new Error('truncated block');
        block = decompress(header.codec, buf.subarray(c.pos, c.pos + size));
        c.pos += size;
        if (!buf.subarray(c.pos, c.pos + SYNC_LENGTH).equals(header.sync)) throw new Error('sync marker mismatch');
        c.pos += SYNC_LENGTH;
      } catch (err) {
        throw new RawSegmentError(key, (err as Error).message);
      }
      yield { count, block };
    }
  }

  private planFor(key: string, header: ContainerHeader): DecodePlan {
    const text = JSON.stringify(header.schema);
    let plan = this.plans.get(text);
    if (plan) return plan;
    const fields = header.schema.fields;
    if (!Array.isArray(fields) || !fields.some((f) => f.name === 'value')) {
      throw new RawSegmentError(key, 'records have no `value` field: not a raw segment');
    }
    try {
      const writer = parseAvroSchema(header.schema as avro.Schema);
      const readerSchema = {
        ...header.schema,
        fields: fields.map((f) => (f.name === 'value' ? { ...f, type: this.readerValueSchema } : f)),
      };
      const reader = parseAvroSchema(readerSchema as avro.Schema);
      const same = (writer as unknown as StrictlyComparable).equals(reader, { strict: true });
      // Resolved with the logical types even when decoding without: a decimal whose scale changed
      // must be refused, which only the logical type knows.
      const resolver = same ? undefined : createResolver(reader, writer);
      if (this.logicalTypes) plan = same ? { reader: writer } : { reader, resolver };
      else {
        const plain = (schema: unknown) => avro.Type.forSchema(schema as avro.Schema, { wrapUnions: avroTypeOptions.wrapUnions, assertLogicalTypes: false });
        const plainWriter = plain(header.schema);
        const plainReader = plain(readerSchema);
        plan = same ? { reader: plainWriter } : { reader: plainReader, resolver: createResolver(plainReader, plainWriter) };
      }
    } catch (err) {
      throw new RawSegmentError(key, `its writer schema cannot be read as ${this.reader.name}: ${(err as Error).message}`);
    }
    this.plans.set(text, plan);
    return plan;
  }
}

interface WrappedRecord {
  _partition: number;
  _offset: number;
  _timestamp: Date;
  _key: Buffer | null;
  _headers: Record<string, Buffer> | null;
  _schema_id: number;
  value: Record<string, unknown>;
}
