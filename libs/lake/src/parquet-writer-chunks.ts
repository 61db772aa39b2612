/**
 * Columnar staging of decoded raw records into DuckDB: each record's fields go straight into the typed
 * vectors of a DuckDB data chunk, which the table's appender takes 2,048 rows at a time. No JSON text
 * is written or parsed (staging NDJSON and DuckDB's JSON parse were three quarters of compaction; see
 * BENCHMARKS.md). Records are decoded without avsc's logical types (decimals stay bytes, timestamps
 * millis), so nothing is turned into a Decimal or a Date only to be turned into a number again.
 *
 * A schema with a shape this path does not cover (a union of several types, a logical type other than
 * decimal and timestamp-millis) gets no plan, and the writer stages NDJSON instead.
 */
import * as avro from 'avsc';
import * as duckdb from '@duckdb/node-api';
import type { DuckDBAppender, DuckDBDataChunk, DuckDBType, DuckDBValue, DuckDBVector } from '@duckdb/node-api';
import { DecimalLogicalType, TimestampMillisLogicalType } from '@app/codec';
import type { WireRowTarget } from './compaction-input-fast';

// The package re-exports through getters: read each once here, not once per value.
const { DuckDBBlobValue, DuckDBDecimalValue, DuckDBTimestampTZValue, listValue, mapValue, structValue } = duckdb;
const createChunk = duckdb.DuckDBDataChunk.create.bind(duckdb.DuckDBDataChunk);

/** A landed record as the raw segment holds it, decoded without logical types. */
export interface PlainRawRecord {
  _partition: number;
  _offset: number;
  /** Kafka record timestamp, epoch millis. */
  _timestamp: number;
  _key: Buffer | null;
  _headers: Record<string, Buffer> | null;
  _schema_id: number;
  value: Record<string, unknown>;
}

/** Turns a plain-decoded Avro value into the DuckDB value of its column type. */
type Convert = (value: unknown) => DuckDBValue;

const CHUNK_ROWS = 2048;

/** The unscaled integer of an Avro decimal (big-endian two's complement bytes). */
export function unscaledDecimal(bytes: Buffer): bigint {
  const n = bytes.length;
  if (n === 0) return 0n;
  if (n <= 6) return BigInt(bytes.readIntBE(0, n));
  let value = 0n;
  for (let i = 0; i < n; i++) value = (value << 8n) | BigInt(bytes[i]);
  return BigInt.asIntN(n * 8, value);
}

const isLowerHex = (c: number) => (c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66);

/**
 * The W3C trace id (32 hex digits) from a `traceparent` header (`vv-<trace id>-<parent id>-ff`), or
 * null; checked byte by byte (a regular expression over a decoded string per row cost more).
 */
export function traceIdOf(traceparent: Buffer | undefined): string | null {
  if (!traceparent || traceparent.length < 55) return null;
  if (traceparent[2] !== 0x2d || traceparent[35] !== 0x2d || traceparent[52] !== 0x2d) return null;
  let zero = true;
  for (let i = 0; i < 55; i++) {
    if (i === 2 || i === 35 || i === 52) continue;
    const c = traceparent[i];
    if (!isLowerHex(c)) return null;
    if (i > 2 && i < 35 && c !== 0x30) zero = false;
  }
  return zero ? null : traceparent.toString('latin1', 3, 35);
}

const millisToTimestamp = (millis: number) => new DuckDBTimestampTZValue(BigInt(millis) * 1000n);

/**
 * The converter of one Avro type (parsed with logical types, to know them) for values decoded
 * without them; undefined when the columnar path does not cover the type. Mirrors `columnType`.
 */
function converterOf(type: avro.Type, nested: boolean): Convert | undefined {
  if (type instanceof DecimalLogicalType) {
    const { precision, scale } = type;
    return (v) => new DuckDBDecimalValue(unscaledDecimal(v as Buffer), precision, scale);
  }
  if (type instanceof TimestampMillisLogicalType) return (v) => millisToTimestamp(v as number);
  if (type instanceof avro.types.LogicalType) return undefined;
  if (type instanceof avro.types.RecordType) {
    const fields = type.fields.map((f) => ({ name: f.name, convert: converterOf(f.type, true) }));
    if (fields.some((f) => !f.convert)) return undefined;
    const converters = fields as { name: string; convert: Convert }[];
    return (v) => {
      const record = v as Record<string, unknown>;
      const entries: Record<string, DuckDBValue> = {};
      for (const f of converters) entries[f.name] = f.convert(record[f.name]);
      return structValue(entries);
    };
  }
  if (type instanceof avro.types.ArrayType) {
    const item = converterOf(type.itemsType, true);
    if (!item) return undefined;
    return (v) => listValue((v as unknown[]).map(item));
  }
  if (type instanceof avro.types.MapType) {
    const item = converterOf(type.valuesType, true);
    if (!item) return undefined;
    return (v) => mapValue(Object.entries(v as Record<string, unknown>).map(([key, value]) => ({ key, value: item(value) })));
  }
  if (type instanceof avro.types.UnwrappedUnionType) {
    const branches = type.types.filter((t) => t.typeName !== 'null');
    if (branches.length !== 1) return undefined;
    const branch = converterOf(branches[0], nested);
    if (!branch) return undefined;
    return (v) => (v === null || v === undefined ? null : branch(v));
  }
  if (type instanceof avro.types.WrappedUnionType) return undefined;
  switch (type.typeName) {
    case 'string':
    case 'enum':
    case 'int':
    case 'float':
    case 'double':
    case 'boolean':
      return (v) => v as DuckDBValue;
    case 'long':
      return (v) => BigInt(v as number);
    case 'bytes':
    case 'fixed':
      // Nested bytes are base64 text, as in the NDJSON staging (`columnType`).
      return nested ? (v) => (v as Buffer).toString('base64') : (v) => new DuckDBBlobValue(v as Buffer);
    case 'null':
      return () => null;
    default:
      return undefined;
  }
}

/** Which columns a record fills, in the staging table's order (event fields, then lineage). */
export interface ChunkPlan {
  fields: { name: string; convert: Convert }[];
}

/** The plan for a reader schema, or undefined when a column needs the NDJSON staging. */
export function chunkPlanOf(reader: avro.Type): ChunkPlan | undefined {
  if (!(reader instanceof avro.types.RecordType)) return undefined;
  const fields = reader.fields.map((f) => ({ name: f.name, convert: converterOf(f.type, false) }));
  if (fields.some((f) => !f.convert)) return undefined;
  return { fields: fields as ChunkPlan['fields'] };
}

/** Fills data chunks row by row and hands each full one to the staging table's appender. */
export class ChunkStager implements WireRowTarget {
  private readonly types: DuckDBType[];
  private chunk!: DuckDBDataChunk;
  private vectors!: DuckDBVector[];
  private row = 0;
  rows = 0;

  constructor(
    private readonly plan: ChunkPlan,
    private readonly appender: DuckDBAppender,
  ) {
    this.types = Array.from({ length: appender.columnCount }, (_, i) => appender.columnType(i));
    if (this.types.length !== plan.fields.length + 7) throw new Error(`staging table has ${this.types.length} columns, the plan ${plan.fields.length} + 7`);
    this.newChunk();
  }

  private newChunk(): void {
    this.chunk = createChunk(this.types, CHUNK_ROWS);
    this.vectors = this.types.map((_, i) => this.chunk.getColumnVector(i));
    this.row = 0;
  }

  add(record: PlainRawRecord): void {
    const { fields } = this.plan;
    const value = record.value;
    for (let c = 0; c < fields.length; c++) this.setColumn(c, value[fields[c].name]);
    const headers = record._headers ?? {};
    this.endRow(
      record._partition,
      record._offset,
      record._timestamp,
      record._schema_id,
      record._key,
      Object.keys(headers).map((key) => ({ key, value: headers[key].toString('utf8') })),
      headers.traceparent,
    );
  }

  /** Column index of an event field; -1 when the reader has none. */
  columnOf(name: string): number {
    return this.plan.fields.findIndex((f) => f.name === name);
  }

  /** Sets one event column of the current row from its plain-decoded value. */
  setColumn(column: number, value: unknown): void {
    this.vectors[column].setItem(this.row, value === null || value === undefined ? null : this.plan.fields[column].convert(value));
  }

  /** Sets the current row's lineage columns (in LINEAGE_COLUMNS order) and moves to the next row. */
  endRow(partition: number, offset: number, timestampMillis: number, schemaId: number, key: Buffer | null, headers: { key: string; value: string }[], traceparent: Buffer | undefined): void {
    const vectors = this.vectors;
    const row = this.row;
    let c = this.plan.fields.length;
    vectors[c++].setItem(row, partition);
    vectors[c++].setItem(row, BigInt(offset));
    vectors[c++].setItem(row, millisToTimestamp(timestampMillis));
    vectors[c++].setItem(row, schemaId);
    vectors[c++].setItem(row, traceIdOf(traceparent));
    vectors[c++].setItem(row, key ? new DuckDBBlobValue(key) : null);
    vectors[c].setItem(row, mapValue(headers));
    this.rows++;
    if (++this.row === CHUNK_ROWS) this.flush();
  }

  /** Appends the rows filled so far (a partial chunk at the end). */
  flush(): void {
    if (this.row === 0) return;
    // A short last chunk: the rows never set are nulled (never read from uninitialised memory), and
    // only the first rows are appended.
    for (const vector of this.vectors) for (let r = this.row; r < CHUNK_ROWS; r++) vector.setItem(r, null);
    for (const vector of this.vectors) vector.flush();
    if (this.row < CHUNK_ROWS) this.chunk.rowCount = this.row;
    this.appender.appendDataChunk(this.chunk);
    this.newChunk();
  }
}
