/**
 * Ambiguous unions (valid Avro that avsc can only represent wrapped) and namespace changes, through the
 * codec's public surface: parse, encode, decode, resolve across versions.
 */
import type { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import * as avro from 'avsc';
import { createResolver, parseAvroSchema } from './logical-types';
import { avroSchema, RegistryCodec } from './registry-codec';
import { SchemaMismatchError } from './codec-errors';

const placed = { type: 'record', name: 'OrderPlaced', namespace: 'com.acme', fields: [{ name: 'orderId', type: 'string' }] };
const cancelled = {
  type: 'record',
  name: 'OrderCancelled',
  namespace: 'com.acme',
  fields: [
    { name: 'orderId', type: 'string' },
    { name: 'reason', type: 'string' },
  ],
};
const refunded = { type: 'record', name: 'OrderRefunded', namespace: 'com.acme', fields: [{ name: 'orderId', type: 'string' }] };

const envelope = (eventTypes: object[], extra: object[] = []) => ({
  type: 'record',
  name: 'OrderEvent',
  namespace: 'com.acme',
  fields: [
    { name: 'event', type: eventTypes },
    { name: 'quantity', type: ['int', 'long'] },
    { name: 'note', type: ['null', 'string'], default: null },
    ...extra,
  ],
});

class FixedRegistry {
  private readonly byId = new Map<number, string>();
  add(id: number, json: string) {
    this.byId.set(id, json);
  }
  async getSchema(id: number) {
    return parseAvroSchema(this.byId.get(id)!);
  }
  async getRegistryIdBySchema(_subject: string, schema: { schema: string }) {
    for (const [id, json] of this.byId) if (json === schema.schema) return id;
    throw Object.assign(new Error('Schema not found'), { status: 404 });
  }
}

function codecWith(...schemas: { json: string }[]) {
  const registry = new FixedRegistry();
  schemas.forEach((s, i) => registry.add(i + 1, s.json));
  return new RegistryCodec(registry as unknown as SchemaRegistry, { autoRegister: false });
}

describe('ambiguous unions', () => {
  it('parses ["int","long"] and a union of two records, wrapping only those unions', () => {
    const type = parseAvroSchema(JSON.stringify(envelope([placed, cancelled])));
    const fieldType = (name: string) => (type as avro.types.RecordType).fields.find((f) => f.name === name)!.type;
    expect(fieldType('event').typeName).toBe('union:wrapped');
    expect(fieldType('quantity').typeName).toBe('union:wrapped');
    // The ordinary nullable union stays unwrapped: plain values, the fast path.
    expect(fieldType('note').typeName).toBe('union:unwrapped');
  });

  it('parses a top-level union of two records (several event types on one topic)', () => {
    const type = parseAvroSchema(JSON.stringify([placed, cancelled]));
    expect(type.typeName).toBe('union:wrapped');
    expect(avroSchema([placed, cancelled]).name).toBe('union:wrapped');
  });

  it('round-trips wrapped values through the wire format, branch by full name or primitive name', async () => {
    const schema = avroSchema(envelope([placed, cancelled]));
    const codec = codecWith(schema);
    const values = [
      { event: { 'com.acme.OrderCancelled': { orderId: 'o-1', reason: 'late' } }, quantity: { long: 2 ** 40 }, note: null },
      { event: { 'com.acme.OrderPlaced': { orderId: 'o-2' } }, quantity: { int: 3 }, note: 'gift' },
    ];
    const serializer = await codec.serializerFor('orders', schema);
    const decoded = await codec.deserializerFor(schema).decodeAll(values.map((v) => serializer.encode(v)));
    expect(decoded).toEqual(values.map((value) => ({ ok: true, value })));
  });

  it('round-trips a top-level union', async () => {
    const schema = avroSchema([placed, cancelled]);
    const codec = codecWith(schema);
    const value = { 'com.acme.OrderPlaced': { orderId: 'o-3' } };
    const bytes = await codec.encode('orders', schema, value);
    expect(await codec.deserializerFor(schema).decode(bytes)).toEqual(value);
  });

  it('reads records of an older version whose union had one record branch fewer', async () => {
    const v1 = avroSchema(envelope([placed, cancelled]));
    const v2 = avroSchema(envelope([placed, cancelled, refunded]));
    const codec = codecWith(v1, v2);
    const bytes = await codec.encode('orders', v1, { event: { 'com.acme.OrderPlaced': { orderId: 'o-4' } }, quantity: { int: 1 }, note: null });
    expect(await codec.deserializerFor(v2).decode(bytes)).toEqual({
      event: { 'com.acme.OrderPlaced': { orderId: 'o-4' } },
      quantity: { int: 1 },
      note: null,
    });
  });

  it('refuses records whose union branch the reader lost', async () => {
    const v1 = avroSchema(envelope([placed, cancelled]));
    const v2 = avroSchema(envelope([placed, cancelled, refunded]));
    const codec = codecWith(v2);
    const bytes = await codec.encode('orders', v2, { event: { 'com.acme.OrderRefunded': { orderId: 'o-5' } }, quantity: { int: 1 }, note: null });
    await expect(codec.deserializerFor(v1).decode(bytes)).rejects.toBeInstanceOf(SchemaMismatchError);
  });

  it('reads a plain int field widened into ["int","long"] as its int branch', async () => {
    const writer = avroSchema({ type: 'record', name: 'Line', fields: [{ name: 'quantity', type: 'int' }] });
    const reader = avroSchema({ type: 'record', name: 'Line', fields: [{ name: 'quantity', type: ['int', 'long'] }] });
    const codec = codecWith(writer, reader);
    const bytes = await codec.encode('lines', writer, { quantity: 7 });
    expect(await codec.deserializerFor(reader).decode(bytes)).toEqual({ quantity: { int: 7 } });
  });
});

describe('namespace changes (the specification resolves named types by unqualified name)', () => {
  const v1 = { ...cancelled, fields: [...cancelled.fields, { name: 'kind', type: { type: 'enum', name: 'Kind', symbols: ['A', 'B'] } }] };
  const v2 = { ...v1, namespace: 'com.acme.orders' };

  it('reads a record and its enum after the namespace moved', async () => {
    const codec = codecWith(avroSchema(v1), avroSchema(v2));
    const bytes = await codec.encode('orders', avroSchema(v1), { orderId: 'o-6', reason: 'r', kind: 'B' });
    expect(await codec.deserializerFor(avroSchema(v2)).decode(bytes)).toEqual({ orderId: 'o-6', reason: 'r', kind: 'B' });
  });

  it('still refuses a different unqualified name without an alias', () => {
    const renamed = parseAvroSchema(JSON.stringify({ ...v1, name: 'OrderVoided' }));
    expect(() => createResolver(renamed, parseAvroSchema(JSON.stringify(v1)))).toThrow();
  });

  it('resolves union branches by unqualified name too', async () => {
    const w = avroSchema(envelope([placed, cancelled]));
    const r = avroSchema(envelope([{ ...placed, namespace: 'com.acme.v2' }, { ...cancelled, namespace: 'com.acme.v2' }]));
    const codec = codecWith(w, r);
    const bytes = await codec.encode('orders', w, { event: { 'com.acme.OrderCancelled': { orderId: 'o-7', reason: 'x' } }, quantity: { int: 1 }, note: null });
    expect(await codec.deserializerFor(r).decode(bytes)).toEqual({
      event: { 'com.acme.v2.OrderCancelled': { orderId: 'o-7', reason: 'x' } },
      quantity: { int: 1 },
      note: null,
    });
  });
});
