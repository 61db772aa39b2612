/**
 * Reads raw records off the Avro wire straight into the staging columns: the RawRecord wrapper's
 * lineage and each top-level event field whose writer type equals its reader type are read in place
 * (strings, numbers, enums, bytes and nullable ones), without building the wrapper, the event object,
 * the headers object or a copy of each decimal's bytes. Nested fields (records, arrays, maps) and
 * fields whose type changed between writer and reader are decoded by avsc, the latter with a
 * resolver. Fields the reader added get their default; fields it dropped are skipped.
 *
 * The result must equal avsc's decode without logical types: the chunk staging spec compacts the same
 * hours through this path and through NDJSON and requires identical files.
 */
import * as avro from 'avsc';
import { avroTypeOptions, createResolver } from '@app/codec';

/** The bytes are not a valid record of the writer schema (truncated, an index out of range). */
export class WireError extends Error {}

export interface WireCursor {
  buf: Buffer;
  pos: number;
}

/** Avro `long` (zig-zag varint); exact up to 2^53, which offsets and sizes never reach. */
export function readLong(c: WireCursor): number {
  let n = 0;
  let scale = 1;
  for (;;) {
    if (c.pos >= c.buf.length) throw new WireError('truncated varint');
    const b = c.buf[c.pos++];
    n += (b & 0x7f) * scale;
    if (!(b & 0x80)) break;
    scale *= 128;
  }
  return n % 2 === 0 ? n / 2 : -(n + 1) / 2;
}

// Buffer#utf8Slice (what Buffer#toString('utf8', start, end) calls after checking its arguments);
// Node has had it on every Buffer for years, its typings leave it out.
type Utf8Sliceable = { utf8Slice(start: number, end: number): string };
const utf8 = (buf: Buffer, start: number, end: number) => (buf as unknown as Utf8Sliceable).utf8Slice(start, end);

function readSpan(c: WireCursor, length: number): number {
  const start = c.pos;
  if (length < 0 || start + length > c.buf.length) throw new WireError('truncated record');
  c.pos = start + length;
  return start;
}

/** Reads one value of a type, as avsc decodes it without logical types. */
type WireRead = (c: WireCursor) => unknown;

/** Where the rows go: the chunk stager's columns, by the reader's field names. */
export interface WireRowTarget {
  /** Column index of a reader field; -1 when the reader has no such field. */
  columnOf(name: string): number;
  setColumn(column: number, plainValue: unknown): void;
  endRow(partition: number, offset: number, timestampMillis: number, schemaId: number, key: Buffer | null, headers: { key: string; value: string }[], traceparent: Buffer | undefined): void;
}

function avscRead(type: avro.Type, resolver?: avro.Resolver): WireRead {
  return (c) => {
    const decoded = type.decode(c.buf, c.pos, resolver) as { value: unknown; offset: number };
    if (decoded.offset < 0) throw new WireError('truncated record');
    c.pos = decoded.offset;
    return decoded.value;
  };
}

/** An in-place reader for the primitive types (and nullable ones), else avsc's decode. */
function wireRead(type: avro.Type): WireRead {
  switch (type.typeName) {
    case 'string':
      return (c) => {
        const length = readLong(c);
        const start = readSpan(c, length);
        return utf8(c.buf, start, start + length);
      };
    case 'bytes':
      return (c) => {
        const length = readLong(c);
        const start = readSpan(c, length);
        return c.buf.subarray(start, start + length);
      };
    case 'fixed': {
      const size = (type as avro.types.FixedType).size;
      return (c) => {
        const start = readSpan(c, size);
        return c.buf.subarray(start, start + size);
      };
    }
    case 'int':
    case 'long':
      return readLong;
    case 'float':
      return (c) => c.buf.readFloatLE(readSpan(c, 4));
    case 'double':
      return (c) => c.buf.readDoubleLE(readSpan(c, 8));
    case 'boolean':
      return (c) => c.buf[readSpan(c, 1)] === 1;
    case 'null':
      return () => null;
    case 'enum': {
      const symbols = (type as avro.types.EnumType).symbols;
      return (c) => {
        const symbol = symbols[readLong(c)];
        if (symbol === undefined) throw new WireError('invalid enum index');
        return symbol;
      };
    }
  }
  if (type instanceof avro.types.UnwrappedUnionType) {
    const branches = type.types.map(wireRead);
    return (c) => {
      const branch = branches[readLong(c)];
      if (!branch) throw new WireError('invalid union index');
      return branch(c);
    };
  }
  return avscRead(type);
}

// avsc's `equals` takes `{ strict }`; its typings omit it.
type StrictlyComparable = { equals(other: avro.Type, opts: { strict: boolean }): boolean };

const WRAPPER_SHAPE = ['_partition:int', '_offset:long', '_timestamp:long', '_key:union:unwrapped', '_headers:map', '_schema_id:int', 'value:record'];

function plainType(schema: unknown): avro.Type {
  return avro.Type.forSchema(schema as avro.Schema, { wrapUnions: avroTypeOptions.wrapUnions, assertLogicalTypes: false });
}

/** Reads one segment's records into a target; built per writer schema, reused for every file of it. */
export interface WirePlan {
  stage(block: Buffer, count: number, target: WireRowTarget, onRow: (partition: number, offset: number, schemaId: number) => void): void;
}

/**
 * The wire plan from a writer wrapper schema to the reader's value schema, or undefined when the
 * wrapper is not the landing's RawRecord shape (then records are decoded by avsc).
 */
export function wirePlanOf(writerWrapperSchema: unknown, readerValueSchema: unknown, target: WireRowTarget): WirePlan | undefined {
  const wrapper = plainType(writerWrapperSchema);
  if (!(wrapper instanceof avro.types.RecordType)) return undefined;
  const shape = wrapper.fields.map((f) => `${f.name}:${f.type.typeName}`);
  if (shape.join() !== WRAPPER_SHAPE.join()) return undefined;
  const key = wrapper.fields[3].type as avro.types.UnwrappedUnionType;
  if (!(key instanceof avro.types.UnwrappedUnionType) || key.types.map((t) => t.typeName).join() !== 'null,bytes') return undefined;
  if ((wrapper.fields[4].type as avro.types.MapType).valuesType.typeName !== 'bytes') return undefined;

  const writer = wrapper.fields[6].type as avro.types.RecordType;
  const reader = plainType(readerValueSchema);
  if (!(reader instanceof avro.types.RecordType)) return undefined;
  const ops: { column: number; read: WireRead }[] = [];
  const written = new Set<string>();
  for (const field of writer.fields) {
    const readerField = reader.field(field.name);
    const column = readerField ? target.columnOf(field.name) : -1;
    written.add(field.name);
    if (!readerField || column < 0) {
      ops.push({ column: -1, read: avscRead(field.type) });
    } else if ((field.type as unknown as StrictlyComparable).equals(readerField.type, { strict: true })) {
      ops.push({ column, read: wireRead(field.type) });
    } else {
      ops.push({ column, read: avscRead(readerField.type, createResolver(readerField.type, field.type)) });
    }
  }
  const defaults = reader.fields
    .filter((f) => !written.has(f.name))
    .map((f) => {
      const value = (f as unknown as { defaultValue(): unknown }).defaultValue();
      if (value === undefined) throw new Error(`${f.name} has no default and the writer lacks it`);
      return { column: target.columnOf(f.name), value };
    });

  return {
    stage(block, count, rows, onRow) {
      const c: WireCursor = { buf: block, pos: 0 };
      for (let i = 0; i < count; i++) {
        const partition = readLong(c);
        const offset = readLong(c);
        const timestamp = readLong(c);
        let recordKey: Buffer | null = null;
        if (readLong(c) === 1) {
          const length = readLong(c);
          const start = readSpan(c, length);
          recordKey = block.subarray(start, start + length);
        }
        const headers: { key: string; value: string }[] = [];
        let traceparent: Buffer | undefined;
        for (let n = readLong(c); n !== 0; n = readLong(c)) {
          if (n < 0) {
            n = -n;
            readLong(c); // block size in bytes
          }
          for (let h = 0; h < n; h++) {
            const nameLength = readLong(c);
            const nameStart = readSpan(c, nameLength);
            const name = utf8(block, nameStart, nameStart + nameLength);
            const valueLength = readLong(c);
            const valueStart = readSpan(c, valueLength);
            // A repeated key: the last one wins, as in the object avsc builds.
            const at = headers.findIndex((e) => e.key === name);
            const entry = { key: name, value: utf8(block, valueStart, valueStart + valueLength) };
            if (at >= 0) headers[at] = entry;
            else headers.push(entry);
            if (name === 'traceparent') traceparent = block.subarray(valueStart, valueStart + valueLength);
          }
        }
        const schemaId = readLong(c);
        for (const op of ops) {
          const value = op.read(c);
          if (op.column >= 0) rows.setColumn(op.column, value);
        }
        for (const d of defaults) rows.setColumn(d.column, d.value);
        rows.endRow(partition, offset, timestamp, schemaId, recordKey, headers, traceparent);
        onRow(partition, offset, schemaId);
      }
    },
  };
}
