/**
 * Floats and doubles that JSON cannot write (NaN, ±Infinity, -0) must reach the curated Parquet
 * exactly through both stagings — top level, nullable, inside records, arrays, maps and unions — and
 * a null stays NULL. The NDJSON staging once wrote them as JSON.stringify does: null (and 0).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance, DuckDBListValue, DuckDBMapValue, DuckDBStructValue, type DuckDBValue } from '@duckdb/node-api';
import { avroSchema, type AvroSchema } from '@app/codec';
import { downloadCurated, encodeRawSegment, MemoryObjectStore } from '../test/compaction-fixtures';
import { compactHour } from './compaction';
import { rawHourPrefix } from './manifest';
import { chunkPlanOf } from './parquet-writer-chunks';

const hour = '2026-11-28T05';
const hourStart = Date.parse('2026-11-28T05:00:00Z');
const specials = [NaN, Infinity, -Infinity, -0, 1.5];

const reading = { type: 'record', name: 'Reading', fields: [{ name: 'value', type: 'double' }, { name: 'weight', type: 'float' }] };

/** Every place a float or double can sit in a column the chunk plan covers. */
const typedSchema = {
  type: 'record',
  name: 'Measured',
  namespace: 'com.securecart.test',
  fields: [
    { name: 'eventId', type: 'string' },
    { name: 'occurredAt', type: { type: 'long', logicalType: 'timestamp-millis' } },
    { name: 'ratio', type: 'float' },
    { name: 'score', type: 'double' },
    { name: 'maybeScore', type: ['null', 'double'], default: null },
    { name: 'reading', type: reading },
    { name: 'series', type: { type: 'array', items: 'double' } },
    { name: 'weights', type: { type: 'map', values: 'float' } },
    { name: 'maybeReading', type: ['null', 'Reading'], default: null },
  ],
};

/** Adds unions of several types (JSON columns), which only the NDJSON staging takes. */
const unionSchema = {
  ...typedSchema,
  name: 'MeasuredUnion',
  fields: [
    ...typedSchema.fields,
    // Two number branches: avsc wraps the value ({ double: NaN }).
    { name: 'either', type: ['long', 'double'] },
  ],
};

function typedValue(i: number) {
  const x = specials[i % specials.length];
  const y = specials[(i + 1) % specials.length];
  return {
    eventId: `e-${i}`,
    occurredAt: new Date(hourStart + i),
    ratio: x,
    score: y,
    // Row 0 holds a real null, the others each special value in turn.
    maybeScore: i === 0 ? null : x,
    reading: { value: x, weight: y },
    series: [x, y, 2],
    weights: { a: x, b: y },
    maybeReading: i === 0 ? null : { value: y, weight: x },
  };
}

/** A value read back from DuckDB as comparable text: NaN, Infinity and -0 spelled out. */
function exact(value: DuckDBValue | unknown): unknown {
  if (typeof value === 'number') return Object.is(value, -0) ? '-0' : String(value);
  if (value instanceof DuckDBListValue) return value.items.map(exact);
  if (value instanceof DuckDBStructValue) return Object.fromEntries(Object.entries(value.entries).map(([k, v]) => [k, exact(v)]));
  if (value instanceof DuckDBMapValue) return value.entries.map(({ key, value: v }) => [key, exact(v)]);
  return value;
}

const expectedTyped = (i: number) => {
  const v = typedValue(i);
  return {
    ratio: exact(v.ratio),
    score: exact(v.score),
    maybeScore: v.maybeScore === null ? null : exact(v.maybeScore),
    reading: { value: exact(v.reading.value), weight: exact(v.reading.weight) },
    series: v.series.map(exact),
    weights: Object.entries(v.weights).map(([k, w]) => [k, exact(w)]),
    maybeReading: v.maybeReading === null ? null : { value: exact(v.maybeReading.value), weight: exact(v.maybeReading.weight) },
  };
};

async function landHour(store: MemoryObjectStore, topic: string, schema: AvroSchema, values: unknown[]) {
  const key = `${rawHourPrefix(topic, hour)}${topic}+0+${'0'.repeat(20)}.avro`;
  await store.put(key, await encodeRawSegment(schema, values.map((value, offset) => ({ partition: 0, offset, schemaId: 1, value }))));
  await store.put(`${rawHourPrefix(topic, hour)}_manifest.json`, Buffer.from(JSON.stringify({ files: [{ key, rows: values.length }] })));
}

/** Compacts the hour with one staging and runs `sql` over its Parquet (a view named `curated`). */
async function compactAndRead(store: MemoryObjectStore, topic: string, schema: AvroSchema, staging: 'chunks' | 'ndjson', sql: string) {
  await store.delete((await store.list(`curated/${topic}/`)).map((o) => o.key));
  const { manifest } = await compactHour(store, topic, hour, { reader: { schema, schemaId: 1 }, staging });
  const dir = mkdtempSync(join(tmpdir(), 'floats-spec-'));
  const db = await DuckDBInstance.create(':memory:');
  const c = await db.connect();
  try {
    const paths = await downloadCurated(store, manifest, dir);
    await c.run(`CREATE VIEW curated AS SELECT * FROM read_parquet([${paths.join(',')}])`);
    return (await c.runAndReadAll(sql)).getRowObjects();
  } finally {
    c.closeSync();
    db.closeSync();
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('non-finite floats and doubles in compaction', () => {
  const rowCount = specials.length * 2;
  const columns = ['ratio', 'score', 'maybeScore', 'reading', 'series', 'weights', 'maybeReading'];

  it.each(['chunks', 'ndjson'] as const)('keeps NaN, ±Infinity and -0 exactly, nested too, and null as NULL (%s staging)', async (staging) => {
    const topic = 'lake.floats.v1';
    const schema = avroSchema(JSON.stringify(typedSchema));
    expect(chunkPlanOf(schema.type)).toBeDefined();
    const store = new MemoryObjectStore();
    await landHour(store, topic, schema, Array.from({ length: rowCount }, (_, i) => typedValue(i)));

    const rows = await compactAndRead(store, topic, schema, staging, `SELECT ${columns.join(', ')} FROM curated ORDER BY occurredAt`);
    expect(rows).toHaveLength(rowCount);
    rows.forEach((row, i) => {
      expect(Object.fromEntries(columns.map((c) => [c, exact(row[c])]))).toEqual(expectedTyped(i));
    });
    // Stored as the values themselves, not as lookalikes: DuckDB's own predicates agree.
    const [counts] = await compactAndRead(
      store,
      topic,
      schema,
      staging,
      `SELECT count(*) FILTER (isnan(score))::INTEGER AS nan, count(*) FILTER (isinf(score) AND score > 0)::INTEGER AS pos, ` +
        `count(*) FILTER (isinf(score) AND score < 0)::INTEGER AS neg, count(*) FILTER (score = 0 AND signbit(score))::INTEGER AS negzero, ` +
        `count(*) FILTER (maybeScore IS NULL)::INTEGER AS nulls, count(*) FILTER (isnan(reading.weight))::INTEGER AS nestednan FROM curated`,
    );
    expect(counts).toEqual({ nan: 2, pos: 2, neg: 2, negzero: 2, nulls: 1, nestednan: 2 });
  }, 30_000);

  it('keeps them in unions of several types (JSON columns, NDJSON staging only) as the text DuckDB casts back', async () => {
    const topic = 'lake.floats-union.v1';
    const schema = avroSchema(JSON.stringify(unionSchema));
    expect(chunkPlanOf(schema.type)).toBeUndefined();
    const store = new MemoryObjectStore();
    const values = Array.from({ length: rowCount }, (_, i) => ({ ...typedValue(i), either: i === 1 ? { long: 7 } : { double: specials[i % specials.length] } }));
    await landHour(store, topic, schema, values);

    const rows = await compactAndRead(
      store,
      topic,
      schema,
      'ndjson',
      `SELECT ${columns.join(', ')}, either::VARCHAR AS either_text, (either->>'$.double')::DOUBLE AS either_double FROM curated ORDER BY occurredAt`,
    );
    expect(rows).toHaveLength(rowCount);
    rows.forEach((row, i) => {
      // The typed columns of a schema that needs NDJSON staging keep the values too.
      expect(Object.fromEntries(columns.map((c) => [c, exact(row[c])]))).toEqual(expectedTyped(i));
    });
    expect(rows.map((r) => JSON.parse(String(r.either_text)))).toEqual(
      values.map((v) => ('long' in v.either ? { long: 7 } : { double: Object.is(v.either.double, 1.5) ? 1.5 : exact(v.either.double) })),
    );
    expect(rows.map((r) => exact(r.either_double))).toEqual(values.map((v) => ('long' in v.either ? null : exact(v.either.double))));
  }, 30_000);
});
