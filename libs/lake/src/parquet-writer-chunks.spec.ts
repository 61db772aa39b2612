/**
 * The columnar staging (typed data chunks) must write exactly what the NDJSON staging writes, for
 * every column type the chunk plan covers, over more than one chunk, with a v1 writer resolved to v2.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { avroSchema, decimal, parseAvroSchema, type AvroSchema } from '@app/codec';
import { exampleEvents, topics } from '@app/contracts';
import { downloadCurated, encodeRawSegment, MemoryObjectStore, type FixtureRow } from '../test/compaction-fixtures';
import { compactHour } from './compaction';
import { rawHourPrefix } from './manifest';
import { chunkPlanOf, traceIdOf, unscaledDecimal } from './parquet-writer-chunks';

const hour = '2026-11-28T05';
const hourStart = Date.parse('2026-11-28T05:00:00Z');
const topic = 'lake.every-type.v1';
const money = { type: 'bytes', logicalType: 'decimal', precision: 18, scale: 2 };
const item = {
  type: 'record',
  name: 'Item',
  fields: [
    { name: 'sku', type: 'string' },
    { name: 'price', type: money },
    { name: 'blob', type: 'bytes' },
    { name: 'tags', type: { type: 'array', items: 'string' } },
  ],
};

function schema(version: 1 | 2) {
  return {
    type: 'record',
    name: 'EveryType',
    namespace: 'com.securecart.test',
    fields: [
      { name: 'eventId', type: { type: 'string', logicalType: 'uuid' } },
      { name: 'occurredAt', type: { type: 'long', logicalType: 'timestamp-millis' } },
      { name: 'count', type: 'int' },
      { name: 'big', type: 'long' },
      { name: 'ratio', type: 'float' },
      { name: 'score', type: 'double' },
      { name: 'flag', type: 'boolean' },
      { name: 'kind', type: { type: 'enum', name: 'Kind', symbols: ['A', 'B', 'C'] } },
      { name: 'amount', type: money },
      { name: 'payload', type: 'bytes' },
      { name: 'digest', type: { type: 'fixed', name: 'Digest', size: 4 } },
      { name: 'items', type: { type: 'array', items: item } },
      { name: 'attributes', type: { type: 'map', values: 'long' } },
      { name: 'maybeItem', type: ['null', 'Item'], default: null },
      { name: 'maybeLong', type: ['null', 'long'], default: null },
      { name: 'when', type: ['null', { type: 'long', logicalType: 'timestamp-millis' }], default: null },
      ...(version === 2 ? [{ name: 'added', type: ['null', 'string'], default: null }] : []),
      // v1 writes an int and a field v2 dropped; v2 reads the int as a long (resolved, not read in place).
      { name: 'promoted', type: version === 1 ? 'int' : 'long' },
      ...(version === 1 ? [{ name: 'dropped', type: { type: 'array', items: 'string' } }] : []),
      // A symbol v2 no longer has reads as the enum's default: only the resolver knows that.
      { name: 'phase', type: { type: 'enum', name: 'Phase', symbols: version === 1 ? ['NEW', 'OLD'] : ['NEW', 'DONE'], default: 'NEW' } },
    ],
  };
}

function value(i: number, version: 1 | 2) {
  const it = (n: number) => ({ sku: `sku-${n}`, price: decimal(`${n % 2 ? '-' : ''}${n}.0${n % 10}`), blob: Buffer.from([n % 256, 0, 255]), tags: [`t${n}`, 'ü€'] });
  return {
    eventId: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
    occurredAt: new Date(hourStart + ((i * 7919) % 3_600_000)),
    count: i % 7 === 0 ? -i : i,
    big: i % 5 === 0 ? -(2 ** 52) + i : 2 ** 40 + i,
    ratio: i / 8,
    score: i / 3,
    flag: i % 2 === 0,
    kind: ['A', 'B', 'C'][i % 3],
    // Large negative and positive amounts take all 8 bytes of a DECIMAL(18,2).
    amount: decimal(i % 11 === 0 ? '-9999999999999999.99' : i % 13 === 0 ? '9999999999999999.99' : `${i}.${String(i % 100).padStart(2, '0')}`),
    payload: Buffer.from(`p-${i}`),
    digest: Buffer.from([1, 2, 3, i % 256]),
    items: i % 4 === 0 ? [] : [it(i), it(i + 1)],
    attributes: i % 3 === 0 ? {} : { a: i, b: -i },
    maybeItem: i % 2 ? it(i * 2) : null,
    maybeLong: i % 3 ? i * 1_000_000_007 : null,
    when: i % 2 ? new Date(hourStart + i) : null,
    ...(version === 2 ? { added: i % 2 ? `v2-${i}` : null } : {}),
    promoted: i * 3,
    ...(version === 1 ? { dropped: [`gone-${i}`] } : {}),
    phase: version === 1 ? (i % 2 ? 'OLD' : 'NEW') : i % 2 ? 'DONE' : 'NEW',
  };
}

function rows(partition: number, ids: number[], version: 1 | 2): FixtureRow[] {
  return ids.map((id, offset) => ({
    partition,
    offset,
    timestamp: new Date(hourStart + id),
    key: id % 9 === 0 ? null : Buffer.from(`k-${id}`),
    headers: id % 10 === 0 ? ({} as Record<string, Buffer>) : { traceparent: Buffer.from(`00-${'ab'.repeat(16)}-00f067aa0ba902b7-01`), other: Buffer.from(`h${id}`) },
    schemaId: version,
    value: value(id, version),
  }));
}

async function compacted(store: MemoryObjectStore, staging: 'chunks' | 'ndjson', name = topic, reader = avroSchema(JSON.stringify(schema(2)))) {
  await store.delete((await store.list(`curated/${name}/`)).map((o) => o.key));
  const { manifest } = await compactHour(store, name, hour, { reader: { schema: reader, schemaId: 2 }, staging });
  const dir = mkdtempSync(join(tmpdir(), 'chunks-spec-'));
  try {
    const paths = await downloadCurated(store, manifest, dir);
    const db = await DuckDBInstance.create(':memory:');
    const c = await db.connect();
    const read = await c.runAndReadAll(`SELECT * FROM read_parquet([${paths.join(',')}]) ORDER BY occurredAt, _partition, _offset`);
    const types = (await c.runAndReadAll(`SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM read_parquet([${paths.join(',')}]))`)).getRows();
    const out = { manifest, rows: read.getRowObjectsJson(), types };
    c.closeSync();
    db.closeSync();
    return out;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('columnar staging', () => {
  it('writes the same rows, types and lineage as the NDJSON staging, across chunks and schema versions', async () => {
    const store = new MemoryObjectStore();
    const segments = [
      // More than one 2,048-row chunk, a short last chunk, and duplicates across partitions.
      { partition: 0, rows: rows(0, Array.from({ length: 2_500 }, (_, i) => i), 1), writer: schema(1) },
      { partition: 1, rows: rows(1, [...Array.from({ length: 300 }, (_, i) => 2_500 + i), 5, 6, 7], 2), writer: schema(2) },
    ];
    const files = [];
    for (const s of segments) {
      const key = `${rawHourPrefix(topic, hour)}${topic}+${s.partition}+${'0'.repeat(20)}.avro`;
      await store.put(key, await encodeRawSegment(avroSchema(JSON.stringify(s.writer)), s.rows));
      files.push({ key, rows: s.rows.length });
    }
    await store.put(`${rawHourPrefix(topic, hour)}_manifest.json`, Buffer.from(JSON.stringify({ topic, hour, files })));

    const chunks = await compacted(store, 'chunks');
    const ndjson = await compacted(store, 'ndjson');
    expect(chunks.manifest).toMatchObject({ rows: 2_800, inputRows: 2_803, duplicatesDropped: 3 });
    expect(chunks.types).toEqual(ndjson.types);
    expect(chunks.rows).toEqual(ndjson.rows);
    const first = chunks.rows.find((r) => r.eventId === '00000000-0000-4000-8000-000000000011')!;
    expect(first).toMatchObject({ amount: '-9999999999999999.99', _partition: 0, _trace_id: 'ab'.repeat(16), added: null, maybeLong: '11000000077' });
    expect(chunks.rows.find((r) => r.eventId === '00000000-0000-4000-8000-000000002501')).toMatchObject({ added: 'v2-2501', _schema_id: 2, phase: 'DONE' });
    // v1's OLD resolved to the default; the field v2 dropped is gone.
    expect(first).toMatchObject({ phase: 'NEW', promoted: '33' });
    expect(first).not.toHaveProperty('dropped');
  }, 60_000);

  it.each(Object.entries(topics))('writes the same files both ways for the catalog topic %s', async (name, definition) => {
    const example = (exampleEvents as unknown as Record<string, Record<string, unknown>>)[name];
    const schema: AvroSchema = definition.schema;
    const store = new MemoryObjectStore();
    const segmentRows = [0, 1, 2].map((i) => ({
      partition: 0,
      offset: i,
      key: Buffer.from(`k-${i}`),
      schemaId: 1,
      value: { ...example, eventId: `00000000-0000-4000-8000-${String(i % 2).padStart(12, '0')}`, occurredAt: new Date(hourStart + 1000 - i) },
    }));
    const key = `${rawHourPrefix(definition.name, hour)}${definition.name}+0+${'0'.repeat(20)}.avro`;
    await store.put(key, await encodeRawSegment(schema, segmentRows));
    await store.put(`${rawHourPrefix(definition.name, hour)}_manifest.json`, Buffer.from(JSON.stringify({ files: [{ key, rows: 3 }] })));
    expect(chunkPlanOf(schema.type)).toBeDefined();
    const chunks = await compacted(store, 'chunks', definition.name, schema);
    const ndjson = await compacted(store, 'ndjson', definition.name, schema);
    expect(chunks.manifest.rows).toBe(2);
    expect(chunks.types).toEqual(ndjson.types);
    expect(chunks.rows).toEqual(ndjson.rows);
  });

  it('has no plan for a union of several types (those stage as NDJSON)', () => {
    const plain = parseAvroSchema(JSON.stringify(schema(2)));
    expect(chunkPlanOf(plain)).toBeDefined();
    const ambiguous = parseAvroSchema(
      JSON.stringify({ type: 'record', name: 'U', fields: [{ name: 'q', type: ['int', 'string'] }] }),
    );
    expect(chunkPlanOf(ambiguous)).toBeUndefined();
  });

  it('reads decimal bytes of every length as their unscaled value', () => {
    expect(unscaledDecimal(Buffer.alloc(0))).toBe(0n);
    expect(unscaledDecimal(Buffer.from([0xff]))).toBe(-1n);
    expect(unscaledDecimal(Buffer.from([0x00, 0x80]))).toBe(128n);
    expect(unscaledDecimal(Buffer.from('ffffffffffff', 'hex'))).toBe(-1n);
    expect(unscaledDecimal(Buffer.from('7fffffffffffffff', 'hex'))).toBe(9223372036854775807n);
    expect(unscaledDecimal(Buffer.from('8000000000000000', 'hex'))).toBe(-9223372036854775808n);
    expect(unscaledDecimal(Buffer.from('00ffffffffffffff', 'hex'))).toBe(72057594037927935n);
  });
});

describe('traceIdOf', () => {
  const id = '4bf92f3577b34da6a3ce929d0e0e4736';
  it.each([
    [`00-${id}-00f067aa0ba902b7-01`, id],
    [`00-${id}-00f067aa0ba902b7-01-extra`, id],
    [`00-${'0'.repeat(32)}-00f067aa0ba902b7-01`, null],
    [`00-${id.toUpperCase()}-00f067aa0ba902b7-01`, null],
    [`00-${id}-00f067aa0ba902b7-0`, null],
    [`00_${id}-00f067aa0ba902b7-01`, null],
    [`00-${id}_00f067aa0ba902b7-01`, null],
    [`00-${id}-00f067aa0ba902b7_01`, null],
    [`0g-${id}-00f067aa0ba902b7-01`, null],
    [`00-${id}-00f067aa0ba902bz-01`, null],
    [`00-${id}-00f067aa0ba902b7-0z`, null],
  ])('%s → %s', (header, expected) => {
    expect(traceIdOf(Buffer.from(header))).toBe(expected);
  });
  it('no header, no trace id', () => expect(traceIdOf(undefined)).toBeNull());
});
