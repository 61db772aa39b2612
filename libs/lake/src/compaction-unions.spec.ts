/**
 * Schemas the codec resolves and the lake must land and compact the same way (issue #10): ambiguous
 * unions (`["int","long"]`, a union of two record types) and a record whose namespace changed between
 * the writer and the reader (resolved by unqualified name, as the Avro specification says).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { avroSchema, parseAvroSchema } from '@app/codec';
import { encodeRawSegment, MemoryObjectStore } from '../test/compaction-fixtures';
import { compactHour } from './compaction';
import { rawHourPrefix } from './manifest';
import { eventTimeReader } from './sink-schemas';

const hour = '2026-11-28T05';
const hourStart = Date.parse('2026-11-28T05:00:00Z');
const shipped = { type: 'record', name: 'Shipped', fields: [{ name: 'carrier', type: 'string' }] };
const refunded = { type: 'record', name: 'Refunded', fields: [{ name: 'amountCents', type: 'long' }] };

function eventSchema(namespace: string, extra: object[] = []) {
  return {
    type: 'record' as const,
    name: 'OrderActivity',
    namespace,
    fields: [
      { name: 'eventId', type: 'string' },
      // Ambiguous unions before the event time: the landing's time reader must get past them.
      { name: 'quantity', type: ['int', 'long'] },
      { name: 'activity', type: [shipped, refunded] },
      { name: 'occurredAt', type: { type: 'long', logicalType: 'timestamp-millis' } },
      ...extra,
    ],
  };
}

const writer = eventSchema('com.securecart.legacy');
const reader = eventSchema('com.securecart.orders', [{ name: 'note', type: ['null', 'string'], default: null }]);
const values = [
  { eventId: 'e-1', quantity: { int: 3 }, activity: { 'com.securecart.legacy.Shipped': { carrier: 'DHL' } }, occurredAt: new Date(hourStart + 2) },
  { eventId: 'e-2', quantity: { long: 2 ** 40 }, activity: { 'com.securecart.legacy.Refunded': { amountCents: 1250 } }, occurredAt: new Date(hourStart + 1) },
];

describe('ambiguous unions and a changed namespace', () => {
  it('the landing reads the event time behind ambiguous unions', () => {
    const body = parseAvroSchema(JSON.stringify(writer)).toBuffer(values[0]);
    expect(eventTimeReader(writer as unknown as Parameters<typeof eventTimeReader>[0], 'occurredAt')(body)).toBe(hourStart + 2);
  });

  it('compaction resolves the old namespace to the reader by unqualified name and keeps each union branch', async () => {
    const store = new MemoryObjectStore();
    const topic = 'orders.activity.v1';
    const segment = `${rawHourPrefix(topic, hour)}${topic}+0+${'0'.repeat(20)}.avro`;
    const rows = values.map((value, offset) => ({ partition: 0, offset, schemaId: 1, value }));
    await store.put(segment, await encodeRawSegment(avroSchema(writer), rows));
    await store.put(`${rawHourPrefix(topic, hour)}_manifest.json`, Buffer.from(JSON.stringify({ files: [{ key: segment, rows: 2 }] })));

    const { manifest } = await compactHour(store, topic, hour, { reader: { schema: avroSchema(reader), schemaId: 2 } });
    expect(manifest.rows).toBe(2);

    const dir = mkdtempSync(join(tmpdir(), 'unions-'));
    try {
      const path = join(dir, 'f.parquet');
      writeFileSync(path, await store.get(manifest.files[0].key));
      const db = await DuckDBInstance.create(':memory:');
      const c = await db.connect();
      const out = (await c.runAndReadAll(`SELECT eventId, quantity::VARCHAR AS q, activity::VARCHAR AS a, note FROM '${path}' ORDER BY occurredAt`)).getRowObjectsJson();
      c.closeSync();
      db.closeSync();
      // Sorted by event time; the union values keep their branch (Avro's JSON encoding of a union).
      expect(out.map((r) => r.eventId)).toEqual(['e-2', 'e-1']);
      expect(JSON.parse(String(out[0].q))).toEqual({ long: 2 ** 40 });
      expect(JSON.parse(String(out[1].q))).toEqual({ int: 3 });
      expect(JSON.parse(String(out[1].a))).toEqual({ 'com.securecart.orders.Shipped': { carrier: 'DHL' } });
      expect(JSON.parse(String(out[0].a))).toEqual({ 'com.securecart.orders.Refunded': { amountCents: 1250 } });
      expect(out[0].note).toBeNull();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
