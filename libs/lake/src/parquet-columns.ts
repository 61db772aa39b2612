/**
 * Column types of the curated Parquet files, derived from the Avro reader schema: decimal →
 * DECIMAL(p,s), timestamp-millis → TIMESTAMP WITH TIME ZONE (Parquet `isAdjustedToUTC=true`), enum →
 * string, array → LIST, record → STRUCT, map → MAP. The same walk gives Athena/Glue (Hive) types.
 */
import * as avro from 'avsc';
import { DecimalLogicalType, TimestampMillisLogicalType } from '@app/codec';

export type ColumnDialect = 'duckdb' | 'hive';

/** A lineage column every curated file carries next to the event's own fields. */
export interface LineageColumn {
  name: string;
  duckdb: string;
  hive: string;
  doc: string;
}

export const LINEAGE_COLUMNS: readonly LineageColumn[] = [
  { name: '_partition', duckdb: 'INTEGER', hive: 'int', doc: 'Kafka partition the event was read from' },
  { name: '_offset', duckdb: 'BIGINT', hive: 'bigint', doc: 'Kafka offset of the event in its partition' },
  { name: '_timestamp', duckdb: 'TIMESTAMPTZ', hive: 'timestamp', doc: 'Kafka record timestamp (UTC)' },
  { name: '_schema_id', duckdb: 'INTEGER', hive: 'int', doc: 'Registry id of the schema the producer wrote with' },
  { name: '_trace_id', duckdb: 'VARCHAR', hive: 'string', doc: 'W3C trace id from the traceparent header' },
  { name: '_key', duckdb: 'BLOB', hive: 'binary', doc: 'Kafka record key bytes' },
  { name: '_headers', duckdb: 'MAP(VARCHAR, VARCHAR)', hive: 'map<string,string>', doc: 'Kafka record headers (UTF-8)' },
];

export interface EventColumn {
  name: string;
  type: string;
  doc?: string;
  /** A top-level bytes/fixed column: staged as base64 text, stored as BLOB / binary. */
  bytes?: boolean;
}

function quote(name: string, dialect: ColumnDialect): string {
  return dialect === 'duckdb' ? `"${name.replace(/"/g, '""')}"` : name;
}

/**
 * The column type of one Avro type in DuckDB SQL or Hive DDL. Bytes inside structs, lists and maps
 * are base64 text (DuckDB's JSON reader has no way to turn nested text into bytes); top-level bytes
 * are binary.
 */
export function columnType(type: avro.Type, dialect: ColumnDialect, nested = false): string {
  const duck = dialect === 'duckdb';
  if (type instanceof DecimalLogicalType) return `${duck ? 'DECIMAL' : 'decimal'}(${type.precision},${type.scale})`;
  if (type instanceof TimestampMillisLogicalType) return duck ? 'TIMESTAMPTZ' : 'timestamp';
  if (type instanceof avro.types.LogicalType) return columnType(type.underlyingType, dialect, nested);
  if (type instanceof avro.types.RecordType) {
    const fields = type.fields.map((f) => `${quote(f.name, dialect)}${duck ? ' ' : ':'}${columnType(f.type, dialect, true)}`);
    return duck ? `STRUCT(${fields.join(', ')})` : `struct<${fields.join(',')}>`;
  }
  if (type instanceof avro.types.ArrayType) {
    return duck ? `${columnType(type.itemsType, dialect, true)}[]` : `array<${columnType(type.itemsType, dialect, true)}>`;
  }
  if (type instanceof avro.types.MapType) {
    return duck ? `MAP(VARCHAR, ${columnType(type.valuesType, dialect, true)})` : `map<string,${columnType(type.valuesType, dialect, true)}>`;
  }
  if (type instanceof avro.types.UnwrappedUnionType || type instanceof avro.types.WrappedUnionType) {
    const branches = type.types.filter((t) => t.typeName !== 'null');
    // A nullable T is a nullable column of T; a union of several types has no column type: JSON text.
    if (branches.length === 1) return columnType(branches[0], dialect, nested);
    return duck ? 'JSON' : 'string';
  }
  switch (type.typeName) {
    case 'string':
    case 'enum':
      return duck ? 'VARCHAR' : 'string';
    case 'int':
      return duck ? 'INTEGER' : 'int';
    case 'long':
      return duck ? 'BIGINT' : 'bigint';
    case 'float':
      return duck ? 'FLOAT' : 'float';
    case 'double':
      return duck ? 'DOUBLE' : 'double';
    case 'boolean':
      return duck ? 'BOOLEAN' : 'boolean';
    case 'bytes':
    case 'fixed':
      if (nested) return duck ? 'VARCHAR' : 'string';
      return duck ? 'BLOB' : 'binary';
    case 'null':
      return duck ? 'VARCHAR' : 'string';
    default:
      throw new Error(`no column type for Avro ${type.typeName}`);
  }
}

/** The event's top-level fields as columns (a record schema's fields, in schema order). */
export function eventColumns(type: avro.Type, dialect: ColumnDialect): EventColumn[] {
  if (!(type instanceof avro.types.RecordType)) throw new Error(`a topic's value schema must be a record, got ${type.typeName}`);
  return type.fields.map((f) => {
    const column: EventColumn = { name: f.name, type: columnType(f.type, dialect), doc: (f as unknown as { doc?: string }).doc };
    if (column.type === 'BLOB' || column.type === 'binary') column.bytes = true;
    return column;
  });
}

/** Whether a value of this type holds, anywhere inside it, a primitive `leaf` accepts (decimals and timestamps are leaves of their own). */
function holdsPrimitive(type: avro.Type, leaf: (typeName: string) => boolean): boolean {
  if (type instanceof DecimalLogicalType || type instanceof TimestampMillisLogicalType) return false;
  if (type instanceof avro.types.LogicalType) return holdsPrimitive(type.underlyingType, leaf);
  if (type instanceof avro.types.RecordType) return type.fields.some((f) => holdsPrimitive(f.type, leaf));
  if (type instanceof avro.types.ArrayType) return holdsPrimitive(type.itemsType, leaf);
  if (type instanceof avro.types.MapType) return holdsPrimitive(type.valuesType, leaf);
  if (type instanceof avro.types.UnwrappedUnionType || type instanceof avro.types.WrappedUnionType) return type.types.some((t) => holdsPrimitive(t, leaf));
  return leaf(type.typeName);
}

/** Whether values of this type hold raw bytes somewhere (they need a JSON encoding of their own). */
export function containsBytes(type: avro.Type): boolean {
  return holdsPrimitive(type, (name) => name === 'bytes' || name === 'fixed');
}

/** Whether values of this type hold a float or double somewhere (NaN, ±Infinity and -0 need staging as text). */
export function containsFloatingPoint(type: avro.Type): boolean {
  return holdsPrimitive(type, (name) => name === 'float' || name === 'double');
}

/** Table/view name of a topic: `orders.order-placed.v1` → `orders_order_placed_v1`. */
export function tableNameOf(topic: string): string {
  return topic.replace(/[.-]/g, '_');
}
