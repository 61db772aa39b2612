/**
 * Iceberg schemas: types, the walk from an Avro reader schema, and field-id assignment against the
 * table's current schema. Ids are matched by name path (`customer.address.city`, `items.element`,
 * `_headers.value`) and new ones come from the table's `last-column-id`, which only grows: a field
 * that was removed never gets its id back, and a field added later gets a fresh one. The table
 * metadata (all schemas plus `last-column-id`) is the persisted id map, committed atomically with the
 * data that uses it.
 */
import * as avro from 'avsc';
import { DecimalLogicalType, TimestampMillisLogicalType } from '@app/codec';

export type PrimitiveType = 'boolean' | 'int' | 'long' | 'float' | 'double' | 'string' | 'binary' | 'timestamptz' | 'date' | `decimal(${number}, ${number})`;
export interface NestedField {
  id: number;
  name: string;
  required: boolean;
  type: IcebergType;
  doc?: string;
}
export interface StructType {
  type: 'struct';
  fields: NestedField[];
}
export interface ListType {
  type: 'list';
  'element-id': number;
  element: IcebergType;
  'element-required': boolean;
}
export interface MapType {
  type: 'map';
  'key-id': number;
  key: IcebergType;
  'value-id': number;
  value: IcebergType;
  'value-required': boolean;
}
export type IcebergType = PrimitiveType | StructType | ListType | MapType;
export interface IcebergSchema extends StructType {
  'schema-id': number;
}

/** Iceberg type of an Avro type, as the curated Parquet stores it (see libs/lake parquet-columns). */
export function icebergTypeOfAvro(type: avro.Type, nested = false): IcebergType {
  if (type instanceof DecimalLogicalType) return `decimal(${type.precision}, ${type.scale})`;
  if (type instanceof TimestampMillisLogicalType) return 'timestamptz';
  if (type instanceof avro.types.LogicalType) return icebergTypeOfAvro(type.underlyingType, nested);
  if (type instanceof avro.types.RecordType) {
    return { type: 'struct', fields: type.fields.map((f) => unassignedField(f.name, icebergTypeOfAvro(f.type, true), (f as unknown as { doc?: string }).doc)) };
  }
  if (type instanceof avro.types.ArrayType) {
    return { type: 'list', 'element-id': 0, element: icebergTypeOfAvro(type.itemsType, true), 'element-required': false };
  }
  if (type instanceof avro.types.MapType) {
    return { type: 'map', 'key-id': 0, key: 'string', 'value-id': 0, value: icebergTypeOfAvro(type.valuesType, true), 'value-required': false };
  }
  if (type instanceof avro.types.UnwrappedUnionType || type instanceof avro.types.WrappedUnionType) {
    const branches = type.types.filter((t) => t.typeName !== 'null');
    return branches.length === 1 ? icebergTypeOfAvro(branches[0], nested) : 'string';
  }
  switch (type.typeName) {
    case 'string':
    case 'enum':
    case 'null':
      return 'string';
    case 'int':
      return 'int';
    case 'long':
      return 'long';
    case 'float':
      return 'float';
    case 'double':
      return 'double';
    case 'boolean':
      return 'boolean';
    case 'bytes':
    case 'fixed':
      // Nested bytes are staged as base64 text by the compaction (DuckDB's JSON reader cannot do better).
      return nested ? 'string' : 'binary';
    default:
      throw new Error(`no Iceberg type for Avro ${type.typeName}`);
  }
}

/** A field whose id is still to be assigned (0); every field is optional (DuckDB writes OPTIONAL columns). */
export function unassignedField(name: string, type: IcebergType, doc?: string): NestedField {
  return { id: 0, name, required: false, type, ...(doc ? { doc } : {}) };
}

function kindOf(type: IcebergType): string {
  return typeof type === 'string' ? (type.startsWith('decimal') ? 'decimal' : type) : type.type;
}

/** Whether a value of `from` reads as `to` (Iceberg's allowed promotions, plus equality). */
function sameOrPromoted(from: IcebergType, to: IcebergType): boolean {
  if (typeof from !== 'string' || typeof to !== 'string') return kindOf(from) === kindOf(to);
  if (from === to) return true;
  if (from === 'int' && to === 'long') return true;
  if (from === 'float' && to === 'double') return true;
  const dec = /^decimal\((\d+), (\d+)\)$/;
  const a = dec.exec(from);
  const b = dec.exec(to);
  return Boolean(a && b && a[2] === b[2] && Number(b[1]) >= Number(a[1]));
}

/** Every id in a schema by name path, with its type. */
export function idsByPath(fields: readonly NestedField[]): Map<string, { id: number; type: IcebergType }> {
  const out = new Map<string, { id: number; type: IcebergType }>();
  const walk = (type: IcebergType, path: string) => {
    if (typeof type === 'string') return;
    if (type.type === 'struct') for (const f of type.fields) visit(f.id, f.type, path ? `${path}.${f.name}` : f.name);
    else if (type.type === 'list') visit(type['element-id'], type.element, `${path}.element`);
    else {
      visit(type['key-id'], type.key, `${path}.key`);
      visit(type['value-id'], type.value, `${path}.value`);
    }
  };
  const visit = (id: number, type: IcebergType, path: string) => {
    out.set(path, { id, type });
    walk(type, path);
  };
  walk({ type: 'struct', fields: [...fields] }, '');
  return out;
}

/**
 * Gives every field of `fields` its id: the current schema's id for the same name path and a
 * compatible type, else the next id after `lastColumnId`. Returns the fields and the new last id.
 */
export function assignFieldIds(
  fields: readonly NestedField[],
  current: readonly NestedField[] | undefined,
  lastColumnId: number,
): { fields: NestedField[]; lastColumnId: number } {
  const known = idsByPath(current ?? []);
  let last = lastColumnId;
  const idFor = (path: string, type: IcebergType) => {
    const hit = known.get(path);
    return hit && sameOrPromoted(hit.type, type) ? hit.id : ++last;
  };
  const assignType = (type: IcebergType, path: string): IcebergType => {
    if (typeof type === 'string') return type;
    if (type.type === 'struct') return { type: 'struct', fields: assignStruct(type.fields, path) };
    if (type.type === 'list') {
      const id = idFor(`${path}.element`, type.element);
      return { ...type, 'element-id': id, element: assignType(type.element, `${path}.element`) };
    }
    const keyId = idFor(`${path}.key`, type.key);
    const valueId = idFor(`${path}.value`, type.value);
    return { ...type, 'key-id': keyId, key: assignType(type.key, `${path}.key`), 'value-id': valueId, value: assignType(type.value, `${path}.value`) };
  };
  // Parents take their ids before their children, in schema order (what Iceberg's own writers do).
  const assignStruct = (list: readonly NestedField[], prefix: string): NestedField[] => {
    const ids = list.map((f) => idFor(prefix ? `${prefix}.${f.name}` : f.name, f.type));
    return list.map((f, i) => ({ ...f, id: ids[i], type: assignType(f.type, prefix ? `${prefix}.${f.name}` : f.name) }));
  };
  const assigned = assignStruct(fields, '');
  return { fields: assigned, lastColumnId: last };
}

/** Whether two field lists are the same schema (ids, names, types, optionality). */
export function sameFields(a: readonly NestedField[], b: readonly NestedField[]): boolean {
  const strip = (fields: readonly NestedField[]): unknown => JSON.parse(JSON.stringify(fields, (k, v: unknown) => (k === 'doc' ? undefined : v)));
  return JSON.stringify(strip(a)) === JSON.stringify(strip(b));
}

function ident(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** DuckDB's `COPY ... (FIELD_IDS {...})` value for a schema: explicit ids on every column and nested field. */
export function duckdbFieldIds(fields: readonly NestedField[]): string {
  const nested = (id: number, type: IcebergType): string => {
    if (typeof type === 'string') return String(id);
    const parts = [`__duckdb_field_id: ${id}`];
    if (type.type === 'struct') for (const f of type.fields) parts.push(`${ident(f.name)}: ${nested(f.id, f.type)}`);
    else if (type.type === 'list') parts.push(`element: ${nested(type['element-id'], type.element)}`);
    else parts.push(`key: ${nested(type['key-id'], type.key)}`, `value: ${nested(type['value-id'], type.value)}`);
    return `{${parts.join(', ')}}`;
  };
  return `{${fields.map((f) => `${ident(f.name)}: ${nested(f.id, f.type)}`).join(', ')}}`;
}

/** Highest id in a field list (for tables created with a given schema). */
export function maxFieldId(fields: readonly NestedField[]): number {
  return Math.max(0, ...[...idsByPath(fields).values()].map((v) => v.id));
}
