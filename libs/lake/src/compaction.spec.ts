import { readFileSync, mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { DuckDBInstance } from '@duckdb/node-api';
import { avroSchema, decimal } from '@app/codec';
import { exampleEvents, topics } from '@app/contracts';
import { encodeRawSegment, MemoryObjectStore, type FixtureRow } from '../test/compaction-fixtures';
import { compactHour, CompactionVerificationError, expireRawSegments, HourNotClosedError } from './compaction';
import { curatedManifestKey } from './curated-manifest';
import { rawHourPrefix } from './manifest';

const v1 = topics.orderPlaced.schema;
const v2 = avroSchema(readFileSync(join(__dirname, '../../contracts/test/evolution/order-placed.v2.avsc'), 'utf8'));
const topic = 'orders.order-placed.v1';
const hour = '2026-11-28T05';
const hourStart = Date.parse('2026-11-28T05:00:00Z');
const raw = rawHourPrefix(topic, hour);
const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';

function event(i: number, overrides: Record<string, unknown> = {}) {
  return {
    ...exampleEvents.orderPlaced,
    eventId: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
    // Written out of event-time order, so the sort has something to do.
    occurredAt: new Date(hourStart + ((i * 7919) % 3_600_000)),
    orderId: `ord-${i}`,
    grandTotal: decimal(`${i}.25`),
    ...overrides,
  };
}

function rows(partition: number, firstOffset: number, ids: number[], schemaId: number, extra: Record<string, unknown> = {}): FixtureRow[] {
  return ids.map((id, n) => ({
    partition,
    offset: firstOffset + n,
    timestamp: new Date(hourStart),
    key: Buffer.from(`ord-${id}`),
    headers: { traceparent: Buffer.from(`00-${traceId}-00f067aa0ba902b7-01`) },
    schemaId,
    value: event(id, extra),
  }));
}

const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);

async function land(store: MemoryObjectStore, partition: number, segmentRows: FixtureRow[], writer = v1) {
  const key = `${raw}${topic}+${partition}+${String(segmentRows[0].offset).padStart(20, '0')}.avro`;
  await store.put(key, await encodeRawSegment(writer, segmentRows));
  return { key, rows: segmentRows.length };
}

async function closeHour(store: MemoryObjectStore, files: { key: string; rows: number }[]) {
  await store.put(`${raw}_manifest.json`, Buffer.from(JSON.stringify({ topic, hour, files })));
}

/** Reads the curated files the manifest names, as DuckDB sees them. */
async function curatedRows(store: MemoryObjectStore, sql = 'SELECT * FROM curated ORDER BY occurredAt') {
  const manifest = JSON.parse((await store.get(curatedManifestKey(topic, hour))).toString('utf8'));
  const dir = mkdtempSync(join(tmpdir(), 'curated-spec-'));
  try {
    const paths = [];
    for (const file of manifest.files) {
      const body = await store.get(file.key);
      expect(createHash('sha256').update(body).digest('hex')).toBe(file.sha256);
      const path = join(dir, file.key.split('/').pop());
      writeFileSync(path, body);
      paths.push(`'${path}'`);
    }
    const db = await DuckDBInstance.create(':memory:');
    const c = await db.connect();
    await c.run(`CREATE VIEW curated AS SELECT * FROM read_parquet([${paths.join(',')}])`);
    const reader = await c.runAndReadAll(sql);
    const result = reader.getRowObjectsJson();
    c.closeSync();
    db.closeSync();
    return { manifest, rows: result as Record<string, unknown>[] };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('compactHour', () => {
  const reader = { schema: v2, schemaId: 2 };

  it('refuses an hour that is not closed', async () => {
    const store = new MemoryObjectStore();
    await land(store, 0, rows(0, 0, [1], 1));
    await expect(compactHour(store, topic, hour, { reader })).rejects.toBeInstanceOf(HourNotClosedError);
  });

  it('dedups by eventId (first Kafka position wins), sorts by event time and resolves v1 rows to v2', async () => {
    const store = new MemoryObjectStore();
    const a = await land(store, 0, rows(0, 100, range(0, 200), 1));
    // Partition 1 carries v2 events plus 20 duplicates of partition 0's events with other values.
    const b = await land(store, 1, [...rows(1, 0, range(200, 300), 2, { giftMessage: 'hi', channel: 'SOCIAL_COMMERCE' }), ...rows(1, 100, range(0, 20), 2, { grandTotal: decimal('999.99') })], v2);
    await closeHour(store, [a, b]);

    const result = await compactHour(store, topic, hour, { reader, targetFileBytes: 16 * 1024 });
    expect(result.status).toBe('compacted');
    expect(result.manifest).toMatchObject({ rows: 300, inputRows: 320, duplicatesDropped: 20, schemaIds: [1, 2], readerSchemaId: 2 });
    expect(result.manifest.offsetRanges).toEqual([
      { partition: 0, firstOffset: '100', lastOffset: '299', rows: 200 },
      { partition: 1, firstOffset: '0', lastOffset: '119', rows: 120 },
    ]);

    const { manifest, rows: out } = await curatedRows(store);
    expect(manifest.files.reduce((n: number, f: { rows: number }) => n + f.rows, 0)).toBe(300);
    expect(new Set(out.map((r) => r.eventId)).size).toBe(300);
    const times = out.map((r) => String(r.occurredAt));
    expect(times).toEqual([...times].sort());
    const first = out.find((r) => r.orderId === 'ord-5')!;
    expect(first).toMatchObject({ grandTotal: '5.25', giftMessage: null, channel: 'WEB', _partition: 0, _offset: '105', _schema_id: 1, _trace_id: traceId });
    expect(out.find((r) => r.orderId === 'ord-250')).toMatchObject({ giftMessage: 'hi', channel: 'SOCIAL_COMMERCE', _schema_id: 2 });
    const types = await curatedRows(store, `SELECT column_name, column_type FROM (DESCRIBE curated)`);
    const typeOf = Object.fromEntries(types.rows.map((r) => [r.column_name, r.column_type]));
    expect(typeOf).toMatchObject({
      grandTotal: 'DECIMAL(18,2)',
      occurredAt: 'TIMESTAMP WITH TIME ZONE',
      channel: 'VARCHAR',
      lineItems: 'STRUCT(sku VARCHAR, quantity INTEGER, unitPrice DECIMAL(18,2))[]',
      payment: 'STRUCT("type" VARCHAR, fingerprint VARCHAR)',
      _key: 'BLOB',
      _trace_id: 'VARCHAR',
    });
  });

  it('rolls files over near the target size, sorted end to end', async () => {
    const store = new MemoryObjectStore();
    const a = await land(store, 0, rows(0, 0, range(0, 8_000), 1));
    await closeHour(store, [a]);
    const { manifest } = await compactHour(store, topic, hour, { reader, targetFileBytes: 32 * 1024 });
    expect(manifest.rows).toBe(8_000);
    expect(manifest.files.length).toBeGreaterThan(1);
    for (let i = 1; i < manifest.files.length; i++) {
      // Each file's events come after the previous file's.
      expect(manifest.files[i].minEventTime! >= manifest.files[i - 1].maxEventTime!).toBe(true);
    }
    const { rows: out } = await curatedRows(store, 'SELECT count(*)::INTEGER AS n, count(DISTINCT eventId)::INTEGER AS d FROM curated');
    expect(out).toEqual([{ n: 8_000, d: 8_000 }]);
  }, 30_000);

  it('does nothing the second time, and re-compacts a late segment under a new run, deleting the old files', async () => {
    const store = new MemoryObjectStore();
    const a = await land(store, 0, rows(0, 0, range(0, 50), 1));
    await closeHour(store, [a]);
    const first = await compactHour(store, topic, hour, { reader });
    const again = await compactHour(store, topic, hour, { reader });
    expect(again.status).toBe('unchanged');
    expect(again.manifest.compactionId).toBe(first.manifest.compactionId);

    await land(store, 0, rows(0, 50, [...range(50, 60), 3], 1)); // a late segment, one duplicate in it
    const late = await compactHour(store, topic, hour, { reader });
    expect(late.status).toBe('compacted');
    expect(late.manifest).toMatchObject({ rows: 60, inputRows: 61 });
    expect(late.manifest.compactionId).not.toBe(first.manifest.compactionId);
    expect(late.deletedKeys.sort()).toEqual(first.manifest.files.map((f) => f.key).sort());
    for (const f of first.manifest.files) expect(await store.head(f.key)).toBeUndefined();
    expect((await curatedRows(store)).rows).toHaveLength(60);
  });

  it('keeps expired hours whole: raw retention deletes segments, a late event merges into the curated rows', async () => {
    const store = new MemoryObjectStore();
    const a = await land(store, 0, rows(0, 0, range(0, 40), 1));
    await closeHour(store, [a]);
    await compactHour(store, topic, hour, { reader });
    const later = () => hourStart + 10 * 24 * 3_600_000;
    const expired = await expireRawSegments(store, topic, 7 * 24 * 3_600_000, later);
    expect(expired.deletedKeys).toEqual([a.key]);
    expect(await store.head(`${raw}_manifest.json`)).toBeDefined();
    expect((await compactHour(store, topic, hour, { reader })).status).toBe('unchanged');

    await land(store, 2, rows(2, 7, [100, 1], 1));
    const merged = await compactHour(store, topic, hour, { reader });
    expect(merged.manifest).toMatchObject({ rows: 41, carriedOverRows: 40, inputRows: 42 });
    const { rows: out } = await curatedRows(store);
    expect(out).toHaveLength(41);
    expect(out.find((r) => r.orderId === 'ord-1')).toMatchObject({ _partition: 0 });
  });

  it('switches nothing when a segment holds other rows than the raw manifest says', async () => {
    const store = new MemoryObjectStore();
    const a = await land(store, 0, rows(0, 0, range(0, 10), 1));
    await closeHour(store, [{ key: a.key, rows: 11 }]);
    await expect(compactHour(store, topic, hour, { reader })).rejects.toBeInstanceOf(CompactionVerificationError);
    expect(await store.list('curated/')).toEqual([]);
  });
});

describe('compactHour over every schema shape', () => {
  it.each(Object.entries(topics).map(([key, t]) => [t.name, key] as const))('compacts %s from its example event', async (name, key) => {
    const store = new MemoryObjectStore();
    const example = exampleEvents[key as keyof typeof exampleEvents] as unknown as Record<string, unknown>;
    const prefix = rawHourPrefix(name, hour);
    const rowsOf = [0, 1, 2].map((i) => ({
      partition: 0,
      offset: i,
      schemaId: 9,
      value: { ...example, eventId: `e-${i}`, occurredAt: new Date(hourStart + i) },
    }));
    const segment = `${prefix}${name}+0+${'0'.repeat(20)}.avro`;
    await store.put(segment, await encodeRawSegment(topics[key as keyof typeof topics].schema, rowsOf));
    await store.put(`${prefix}_manifest.json`, Buffer.from(JSON.stringify({ files: [{ key: segment, rows: 3 }] })));
    const { manifest } = await compactHour(store, name, hour, { reader: { schema: topics[key as keyof typeof topics].schema } });
    expect(manifest.rows).toBe(3);
  });

  it('maps bytes, fixed, maps, doubles, booleans and multi-type unions to columns', async () => {
    const schema = avroSchema({
      type: 'record',
      name: 'Odd',
      namespace: 'com.securecart.test',
      fields: [
        { name: 'eventId', type: 'string' },
        { name: 'occurredAt', type: { type: 'long', logicalType: 'timestamp-millis' } },
        { name: 'blob', type: 'bytes' },
        { name: 'hash', type: { type: 'fixed', name: 'Hash', size: 4 } },
        { name: 'attributes', type: { type: 'map', values: 'string' } },
        { name: 'score', type: 'double' },
        { name: 'flag', type: 'boolean' },
        { name: 'either', type: ['null', 'string', 'long'], default: null },
      ],
    });
    const store = new MemoryObjectStore();
    const name = 'odd.shapes.v1';
    const prefix = rawHourPrefix(name, hour);
    const segment = `${prefix}${name}+0+${'0'.repeat(20)}.avro`;
    const value = {
      eventId: 'e-1',
      occurredAt: new Date(hourStart),
      blob: Buffer.from([0x00, 0x5c, 0xff, 0x41]),
      hash: Buffer.from('abcd'),
      attributes: { page: '/cart', 'utm"source': 'mail' },
      score: 0.125,
      flag: true,
      either: 42,
    };
    await store.put(segment, await encodeRawSegment(schema, [{ partition: 0, offset: 0, schemaId: 1, value }]));
    await store.put(`${prefix}_manifest.json`, Buffer.from(JSON.stringify({ files: [{ key: segment, rows: 1 }] })));
    const { manifest } = await compactHour(store, name, hour, { reader: { schema } });
    const dir = mkdtempSync(join(tmpdir(), 'odd-'));
    try {
      const path = join(dir, 'f.parquet');
      writeFileSync(path, await store.get(manifest.files[0].key));
      const db = await DuckDBInstance.create(':memory:');
      const c = await db.connect();
      const reader = await c.runAndReadAll(
        `SELECT hex(blob) AS blob, hex(hash) AS hash, attributes['utm"source'] AS source, score, flag, either::VARCHAR AS either FROM '${path}'`,
      );
      expect(reader.getRowObjectsJson()).toEqual([{ blob: '005CFF41', hash: '61626364', source: 'mail', score: 0.125, flag: true, either: '42' }]);
      c.closeSync();
      db.closeSync();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
