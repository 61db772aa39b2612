/**
 * Schema evolution cases, each judged three ways: by Apache Avro Java's SchemaCompatibility (the rule
 * the Confluent and Apicurio registries apply), by our gate (`incompatibilities`), and by the codec
 * (reading a record written with the old schema through the new one). The e2e spec checks every verdict
 * for real; docs/TESTING.md shows the table. Where the gate and Avro Java differ, `difference` says why.
 */
import { decimal } from '@app/codec';

export interface EvolutionCase {
  name: string;
  /** Type of field `v` before (writer) and after (reader); or whole schemas when `schemas` is set. */
  writer: unknown;
  reader: unknown;
  /** Field `v` of the reader record gets this default. */
  readerDefault?: unknown;
  /** Use `writer`/`reader` as whole schemas instead of the type of field `v`. */
  schemas?: boolean;
  javaAccepts: boolean;
  gateAccepts: boolean;
  /** A value written with the old schema (field `v`, or the whole record) and what the new one reads. */
  sample?: { written: unknown; read: unknown };
  /** Why our gate's verdict differs from Avro Java's (required when they differ). */
  difference?: string;
}

const ns = 'com.acme';
const placed = { type: 'record', name: 'Placed', namespace: ns, fields: [{ name: 'orderId', type: 'string' }] };
const cancelled = { type: 'record', name: 'Cancelled', namespace: ns, fields: [{ name: 'orderId', type: 'string' }, { name: 'reason', type: 'string' }] };
const refunded = { type: 'record', name: 'Refunded', namespace: ns, fields: [{ name: 'orderId', type: 'string' }] };
const enumOf = (symbols: string[], extra: object = {}) => ({ type: 'enum', name: 'Channel', namespace: ns, symbols, ...extra });
const dec = (precision: number, scale: number) => ({ type: 'bytes', logicalType: 'decimal', precision, scale });
const record = (fields: object[], extra: object = {}) => ({ type: 'record', name: 'Order', namespace: ns, fields, ...extra });

/** The record `Order { id: string, v: <type> }` each field-level case evolves. */
export function wrapField(type: unknown, fieldDefault?: unknown): object {
  const v = fieldDefault === undefined ? { name: 'v', type } : { name: 'v', type, default: fieldDefault };
  return record([{ name: 'id', type: 'string' }, v]);
}

export const evolutionCases: EvolutionCase[] = [
  // Fields
  {
    name: 'add a field with a default',
    schemas: true,
    writer: record([{ name: 'id', type: 'string' }]),
    reader: record([{ name: 'id', type: 'string' }, { name: 'note', type: ['null', 'string'], default: null }]),
    javaAccepts: true,
    gateAccepts: true,
    sample: { written: { id: 'a' }, read: { id: 'a', note: null } },
  },
  {
    name: 'add a field without a default',
    schemas: true,
    writer: record([{ name: 'id', type: 'string' }]),
    reader: record([{ name: 'id', type: 'string' }, { name: 'tier', type: 'string' }]),
    javaAccepts: false,
    gateAccepts: false,
  },
  {
    name: 'remove a field',
    schemas: true,
    writer: record([{ name: 'id', type: 'string' }, { name: 'tier', type: 'string' }]),
    reader: record([{ name: 'id', type: 'string' }]),
    javaAccepts: true,
    gateAccepts: true,
    sample: { written: { id: 'a', tier: 'gold' }, read: { id: 'a' } },
  },
  {
    name: 'rename a field, old name as alias',
    schemas: true,
    writer: record([{ name: 'id', type: 'string' }]),
    reader: record([{ name: 'orderId', type: 'string', aliases: ['id'] }]),
    javaAccepts: true,
    gateAccepts: true,
    sample: { written: { id: 'a' }, read: { orderId: 'a' } },
  },
  {
    name: 'rename a field without an alias',
    schemas: true,
    writer: record([{ name: 'id', type: 'string' }]),
    reader: record([{ name: 'orderId', type: 'string' }]),
    javaAccepts: false,
    gateAccepts: false,
  },
  // Primitive promotions
  { name: 'int → long', writer: 'int', reader: 'long', javaAccepts: true, gateAccepts: true, sample: { written: 7, read: 7 } },
  { name: 'long → int', writer: 'long', reader: 'int', javaAccepts: false, gateAccepts: false },
  { name: 'int → double', writer: 'int', reader: 'double', javaAccepts: true, gateAccepts: true, sample: { written: 7, read: 7 } },
  { name: 'float → double', writer: 'float', reader: 'double', javaAccepts: true, gateAccepts: true, sample: { written: 0.5, read: 0.5 } },
  { name: 'double → float', writer: 'double', reader: 'float', javaAccepts: false, gateAccepts: false },
  { name: 'string → bytes', writer: 'string', reader: 'bytes', javaAccepts: true, gateAccepts: true, sample: { written: 'hi', read: Buffer.from('hi') } },
  { name: 'bytes → string', writer: 'bytes', reader: 'string', javaAccepts: true, gateAccepts: true, sample: { written: Buffer.from('hi'), read: 'hi' } },
  { name: 'string → int', writer: 'string', reader: 'int', javaAccepts: false, gateAccepts: false },
  // Nullability and unions
  {
    name: 'string → ["null","string"]',
    writer: 'string',
    reader: ['null', 'string'],
    javaAccepts: true,
    gateAccepts: true,
    sample: { written: 'x', read: 'x' },
  },
  { name: '["null","string"] → string', writer: ['null', 'string'], reader: 'string', javaAccepts: false, gateAccepts: false },
  {
    name: 'union gains a branch',
    writer: ['null', 'string'],
    reader: ['null', 'string', 'int'],
    javaAccepts: true,
    gateAccepts: true,
    sample: { written: 'x', read: 'x' },
  },
  { name: 'union loses a branch', writer: ['null', 'string', 'int'], reader: ['null', 'string'], javaAccepts: false, gateAccepts: false },
  {
    name: 'int → ["int","long"] (ambiguous, wrapped)',
    writer: 'int',
    reader: ['int', 'long'],
    javaAccepts: true,
    gateAccepts: true,
    sample: { written: 3, read: { int: 3 } },
  },
  {
    // Avro Java picks the reader's exact match (int); avsc the first branch that can read the value.
    // Same number either way; only the branch name of the wrapped value differs.
    name: 'int → ["long","int"] (ambiguous, wrapped)',
    writer: 'int',
    reader: ['long', 'int'],
    javaAccepts: true,
    gateAccepts: true,
    sample: { written: 3, read: { long: 3 } },
  },
  {
    name: '["int","long"] → long',
    writer: ['int', 'long'],
    reader: 'long',
    javaAccepts: true,
    gateAccepts: true,
    sample: { written: { int: 3 }, read: 3 },
  },
  {
    name: '["int","long"] → ["long","int"] (branches reordered)',
    writer: ['int', 'long'],
    reader: ['long', 'int'],
    javaAccepts: true,
    gateAccepts: true,
    sample: { written: { long: 2 ** 40 }, read: { long: 2 ** 40 } },
  },
  {
    name: 'union of two records gains a third',
    writer: [placed, cancelled],
    reader: [placed, cancelled, refunded],
    javaAccepts: true,
    gateAccepts: true,
    sample: { written: { 'com.acme.Cancelled': { orderId: 'o', reason: 'r' } }, read: { 'com.acme.Cancelled': { orderId: 'o', reason: 'r' } } },
  },
  { name: 'union of three records loses one', writer: [placed, cancelled, refunded], reader: [placed, cancelled], javaAccepts: false, gateAccepts: false },
  {
    name: 'record → union of it and another record',
    writer: placed,
    reader: [placed, cancelled],
    javaAccepts: true,
    gateAccepts: true,
    sample: { written: { orderId: 'o' }, read: { 'com.acme.Placed': { orderId: 'o' } } },
  },
  // Enums
  {
    name: 'enum gains a symbol',
    writer: enumOf(['WEB', 'APP']),
    reader: enumOf(['WEB', 'APP', 'POS']),
    javaAccepts: true,
    gateAccepts: true,
    sample: { written: 'APP', read: 'APP' },
  },
  { name: 'enum loses a symbol, no default', writer: enumOf(['WEB', 'APP']), reader: enumOf(['WEB']), javaAccepts: false, gateAccepts: false },
  {
    name: 'enum loses a symbol, enum default',
    writer: enumOf(['UNKNOWN', 'WEB', 'APP']),
    reader: enumOf(['UNKNOWN', 'WEB'], { default: 'UNKNOWN' }),
    javaAccepts: true,
    gateAccepts: true,
    sample: { written: 'APP', read: 'UNKNOWN' },
  },
  {
    name: 'enum renamed, old name as alias',
    writer: enumOf(['WEB']),
    reader: { ...enumOf(['WEB']), name: 'SalesChannel', aliases: ['Channel'] },
    javaAccepts: true,
    gateAccepts: true,
    sample: { written: 'WEB', read: 'WEB' },
  },
  { name: 'enum renamed without an alias', writer: enumOf(['WEB']), reader: { ...enumOf(['WEB']), name: 'SalesChannel' }, javaAccepts: false, gateAccepts: false },
  // Named types and namespaces
  {
    name: 'record namespace changed',
    schemas: true,
    writer: record([{ name: 'id', type: 'string' }]),
    reader: record([{ name: 'id', type: 'string' }], { namespace: 'com.acme.orders' }),
    javaAccepts: true,
    gateAccepts: true,
    sample: { written: { id: 'a' }, read: { id: 'a' } },
  },
  {
    name: 'nested enum namespace changed',
    writer: enumOf(['WEB']),
    reader: { ...enumOf(['WEB']), namespace: 'com.acme.sales' },
    javaAccepts: true,
    gateAccepts: true,
    sample: { written: 'WEB', read: 'WEB' },
  },
  {
    name: 'record renamed, old full name as alias',
    schemas: true,
    writer: record([{ name: 'id', type: 'string' }]),
    reader: record([{ name: 'id', type: 'string' }], { name: 'Purchase', aliases: ['com.acme.Order'] }),
    javaAccepts: true,
    gateAccepts: true,
    sample: { written: { id: 'a' }, read: { id: 'a' } },
  },
  {
    name: 'record renamed without an alias',
    schemas: true,
    writer: record([{ name: 'id', type: 'string' }]),
    reader: record([{ name: 'id', type: 'string' }], { name: 'Purchase' }),
    javaAccepts: false,
    gateAccepts: false,
  },
  { name: 'fixed size changed', writer: { type: 'fixed', name: 'Hash', size: 16 }, reader: { type: 'fixed', name: 'Hash', size: 32 }, javaAccepts: false, gateAccepts: false },
  // Collections
  {
    name: 'array items int → long',
    writer: { type: 'array', items: 'int' },
    reader: { type: 'array', items: 'long' },
    javaAccepts: true,
    gateAccepts: true,
    sample: { written: [1, 2], read: [1, 2] },
  },
  { name: 'map values string → int', writer: { type: 'map', values: 'string' }, reader: { type: 'map', values: 'int' }, javaAccepts: false, gateAccepts: false },
  // Logical types (Avro Java's SchemaCompatibility looks at the underlying types only)
  {
    name: 'decimal precision widened, same scale',
    writer: dec(10, 2),
    reader: dec(18, 2),
    javaAccepts: true,
    gateAccepts: true,
    sample: { written: decimal('12.34'), read: decimal('12.34') },
  },
  {
    name: 'decimal scale changed 2 → 4',
    writer: dec(18, 2),
    reader: dec(18, 4),
    javaAccepts: true,
    gateAccepts: false,
    difference:
      'the bytes hold an unscaled integer: read with scale 4, 12.34 (1234) becomes 0.1234. Avro Java compares the underlying bytes only; our gate and codec refuse.',
  },
  {
    name: 'timestamp-millis → timestamp-micros',
    writer: { type: 'long', logicalType: 'timestamp-millis' },
    reader: { type: 'long', logicalType: 'timestamp-micros' },
    javaAccepts: true,
    gateAccepts: true,
    sample: { written: new Date('2026-11-28T10:00:00.123Z'), read: new Date('2026-11-28T10:00:00.123Z') },
  },
  {
    name: 'long → timestamp-millis',
    writer: 'long',
    reader: { type: 'long', logicalType: 'timestamp-millis' },
    javaAccepts: true,
    gateAccepts: true,
    sample: { written: 1_764_324_000_000, read: new Date(1_764_324_000_000) },
  },
  {
    name: 'string → uuid string',
    writer: 'string',
    reader: { type: 'string', logicalType: 'uuid' },
    javaAccepts: true,
    gateAccepts: true,
    sample: { written: '4e2b9a3c-0000-4000-8000-000000000001', read: '4e2b9a3c-0000-4000-8000-000000000001' },
  },
];

/** The whole writer and reader schemas of a case. */
export function schemasOf(c: EvolutionCase): { writer: object; reader: object } {
  if (c.schemas) return { writer: c.writer as object, reader: c.reader as object };
  return { writer: wrapField(c.writer), reader: wrapField(c.reader, c.readerDefault) };
}

/** The record written and read for a case's sample. */
export function sampleRecords(c: EvolutionCase): { written: unknown; read: unknown } | undefined {
  if (!c.sample) return undefined;
  if (c.schemas) return c.sample;
  return { written: { id: 'order-1', v: c.sample.written }, read: { id: 'order-1', v: c.sample.read } };
}
