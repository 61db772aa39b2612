/**
 * Interop: tables written through the real compaction path (raw segments → compactHour with the
 * Iceberg committer) on the real local S3 (moto) and on file://, then read by pyiceberg and DuckDB's
 * iceberg extension (tools nobody here wrote; infra/local/python-tools.sh installs them). Covers
 * appends, an overwrite by re-compaction, time travel to the snapshot before it, a schema evolution
 * (v2 adds `giftMessage`) and snapshot expiry by lake:maintain's code.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { avroSchema, decimal, registryAuthHeaders, valueSubject, type AvroSchema } from '@app/codec';
import { loadConfig } from '@app/config';
import { exampleEvents, topics } from '@app/contracts';
import { FileSystemCatalog, IcebergTable, maintainTable, prepareSchema, unassignedField, type LoadedTable } from '@app/iceberg';
import { compactHour, compactionDefaults, curatedTableRef, IcebergCuratedTable, parseTableFormats, rawHourPrefix, runCompaction, type TableFormats } from '@app/lake';
import { createObjectStore, type ObjectStore } from '@app/object-store';
import { uniqueName } from '@app/testing';
import { encodeRawSegment, type FixtureRow } from '../../lake/test/compaction-fixtures';

const ROOT = join(__dirname, '../../..');
const config = loadConfig(process.env, { service: 'iceberg-interop-test', defaultHttpPort: 0 });
const v1 = topics.orderPlaced.schema;
const v2 = avroSchema(readFileSync(join(ROOT, 'libs/contracts/test/evolution/order-placed.v2.avsc'), 'utf8'));
const hourA = '2026-11-28T05';
const hourB = '2026-11-28T06';
const hourC = '2026-11-28T07';

let python: string;
beforeAll(() => {
  // Idempotent: a no-op when the venv is there (CI installs it before the suite).
  python = execFileSync('bash', [join(ROOT, 'infra/local/python-tools.sh')], { encoding: 'utf8' }).trim();
}, 300_000);

function event(i: number, hour: string, extra: Record<string, unknown> = {}) {
  const start = Date.parse(`${hour}:00:00Z`);
  return {
    ...exampleEvents.orderPlaced,
    eventId: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
    occurredAt: new Date(start + ((i * 7919) % 3_600_000)),
    orderId: `ord-${i}`,
    grandTotal: decimal(`${i}.25`),
    ...extra,
  };
}

function rows(hour: string, partition: number, firstOffset: number, ids: number[], extra: Record<string, unknown> = {}): FixtureRow[] {
  return ids.map((id, n) => ({ partition, offset: firstOffset + n, timestamp: new Date(Date.parse(`${hour}:00:00Z`)), key: Buffer.from(`ord-${id}`), headers: {}, schemaId: 1, value: event(id, hour, extra) }));
}
const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);

interface Facts {
  snapshots: { id: string; parent: string | null; operation: string }[];
  schema: { id: number; name: string; type: string }[];
  partition_spec: { name: string; transform: string; field_id: number; source_id: number }[];
  current: { rows: number; distinct: number; arrow_types: Record<string, string>; non_null: Record<string, number>; first: Record<string, string | null>; first_line_items: number; by_hour: Record<string, number> };
  at: Record<string, { rows: number; distinct: number; by_hour: Record<string, number> }>;
  filtered?: { files: number; rows: number };
  duckdb: { rows: number; distinct: number; types: Record<string, string>; grand_total: string; at?: Record<string, number> };
}

describe('every catalog topic and every column shape as an Iceberg table (file://)', () => {
  it('compacts each example event into a table pyiceberg and DuckDB read in full', async () => {
    const tempDir = mkdtempSync(join(tmpdir(), 'iceberg-shapes-'));
    try {
      const store = createObjectStore(pathToFileURL(tempDir).toString() + '/', config.objectStore);
      const odd = avroSchema({
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
      const oddExample = { blob: Buffer.from([1, 2]), hash: Buffer.from('abcd'), attributes: { a: 'b' }, score: 1.5, flag: true, either: 'x' };
      const cases: [string, AvroSchema, Record<string, unknown>][] = [
        ...Object.entries(topics).map(([key, t]) => [t.name, t.schema, exampleEvents[key as keyof typeof exampleEvents] as unknown as Record<string, unknown>] as [string, AvroSchema, Record<string, unknown>]),
        ['odd.shapes.v1', odd, oddExample],
      ];
      const locations: string[] = [];
      for (const [name, schema, example] of cases) {
        const prefix = rawHourPrefix(name, hourA);
        const segment = `${prefix}${name}+0+${'0'.repeat(20)}.avro`;
        const start = Date.parse(`${hourA}:00:00Z`);
        const fixtures = [0, 1, 2].map((i) => ({ partition: 0, offset: i, schemaId: 9, value: { ...example, eventId: `e-${i}`, occurredAt: new Date(start + i) } }));
        await store.put(segment, await encodeRawSegment(schema, fixtures));
        await store.put(`${prefix}_manifest.json`, Buffer.from(JSON.stringify({ files: [{ key: segment, rows: 3 }] })));
        const table = new IcebergCuratedTable(store, name, 'occurredAt');
        const result = await compactHour(store, name, hourA, { reader: { schema }, workDir: tempDir, table });
        expect(result.tableCommit).toMatchObject({ operation: 'append', addedFiles: 1 });
        locations.push((await new FileSystemCatalog(store).load(curatedTableRef(name)))!.metadataLocation);
      }
      const out = execFileSync(python, [join(__dirname, 'interop/read_table.py'), JSON.stringify({ tables: locations })], { encoding: 'utf8' });
      const facts = JSON.parse(out) as Record<string, { rows: number; rows_as_python: number; duckdb_rows: number; arrow_types: Record<string, string> }>;
      for (const location of locations) expect(facts[location]).toMatchObject({ rows: 3, rows_as_python: 3, duckdb_rows: 3 });
      const oddTypes = facts[locations.at(-1)!].arrow_types;
      expect(oddTypes).toMatchObject({ score: 'double', flag: 'bool', attributes: expect.stringMatching(/^map</) });
      expect(oddTypes.blob).toMatch(/binary$/);
    } finally {
      rmSync(tempDir, { recursive: true, force: true });
    }
  });
});

describe.each(['s3', 'file'] as const)('Iceberg tables on %s read by pyiceberg and DuckDB', (kind) => {
  let store: ObjectStore;
  let tempDir: string;
  const topic = uniqueName('iceberg.order-placed');
  const lakeUrl = () => (kind === 's3' ? `s3://${config.objectStore.bucket}/${uniqueName('iceberg')}/` : pathToFileURL(join(tempDir, 'lake')).toString() + '/');

  beforeAll(() => {
    tempDir = mkdtempSync(join(tmpdir(), 'iceberg-interop-'));
    store = createObjectStore(lakeUrl(), config.objectStore);
  });
  afterAll(() => rmSync(tempDir, { recursive: true, force: true }));

  const landed = new Map<string, { key: string; rows: number }[]>();
  async function land(hour: string, segment: FixtureRow[], writer: AvroSchema = v1) {
    const key = `${rawHourPrefix(topic, hour)}${topic}+${segment[0].partition}+${String(segment[0].offset).padStart(20, '0')}.avro`;
    await store.put(key, await encodeRawSegment(writer, segment));
    const files = [...(landed.get(hour) ?? []), { key, rows: segment.length }];
    landed.set(hour, files);
    await store.put(`${rawHourPrefix(topic, hour)}_manifest.json`, Buffer.from(JSON.stringify({ topic, hour, files })));
  }
  /** Registers the reader schema as the topic's latest, then compacts the way the sink's worker does. */
  async function compact(hour: string, reader: AvroSchema = v1) {
    const response = await fetch(`${config.schemaRegistry.url.replace(/\/+$/, '')}/subjects/${encodeURIComponent(valueSubject(topic))}/versions`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/vnd.schemaregistry.v1+json', ...registryAuthHeaders(config.schemaRegistry) },
      body: JSON.stringify({ schema: reader.json }),
    });
    expect(response.status).toBe(200);
    const tableFormats = parseTableFormats(`${topic}=iceberg`) as TableFormats;
    const settings = { targetFileBytes: compactionDefaults.targetFileBytes, rawRetentionMs: compactionDefaults.rawRetentionMs, tableFormats };
    return runCompaction({ store, registry: config.schemaRegistry, settings, workDir: tempDir }, topic, hour);
  }
  const load = async (): Promise<LoadedTable> => (await new FileSystemCatalog(store).load(curatedTableRef(topic)))!;
  function read(request: Record<string, unknown>): Facts {
    const s3 = kind === 's3' ? { endpoint: config.objectStore.endpoint, accessKeyId: config.objectStore.credentials?.accessKeyId, secretAccessKey: config.objectStore.credentials?.secretAccessKey, region: config.objectStore.region } : undefined;
    const out = execFileSync(python, [join(__dirname, 'interop/read_table.py'), JSON.stringify({ s3, ...request })], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
    return JSON.parse(out) as Facts;
  }

  let beforeOverwrite: string;

  it('appends two hours, then overwrites one on re-compaction; both readers see every row once and time travel sees the old hour', async () => {
    await land(hourA, rows(hourA, 0, 0, range(0, 100)));
    await land(hourB, rows(hourB, 1, 0, range(100, 150)));
    expect((await compact(hourA)).tableCommit).toMatchObject({ operation: 'append', addedFiles: 1 });
    expect((await compact(hourB)).tableCommit).toMatchObject({ operation: 'append' });
    beforeOverwrite = String((await load()).metadata['current-snapshot-id']);
    // Late events for hour A, among them 5 duplicates of events already compacted.
    await land(hourA, rows(hourA, 0, 100, [...range(150, 160), ...range(0, 5)]));
    const recompacted = await compact(hourA);
    expect(recompacted.tableCommit).toMatchObject({ operation: 'overwrite', addedFiles: 1, deletedFiles: 1 });
    expect(recompacted.deletedKeys).toEqual([]);

    const facts = read({ metadata: (await load()).metadataLocation, at: [beforeOverwrite], hour_filter: { from: `${hourB}:00:00+00:00`, to: `${hourC}:00:00+00:00` } });
    expect(facts.snapshots.map((s) => s.operation)).toEqual(['append', 'append', 'overwrite']);
    expect(BigInt(facts.snapshots[2].id)).toBe((await load()).metadata['current-snapshot-id']);
    expect(facts.snapshots.some((s) => BigInt(s.id) > BigInt(Number.MAX_SAFE_INTEGER))).toBe(true);
    expect(facts.partition_spec).toEqual([{ name: 'occurredAt_hour', transform: 'hour', field_id: 1000, source_id: facts.schema.find((f) => f.name === 'occurredAt')!.id }]);
    expect(facts.current).toMatchObject({ rows: 160, distinct: 160, by_hour: { [hourA]: 110, [hourB]: 50 } });
    expect(facts.current.arrow_types).toMatchObject({
      eventId: expect.stringMatching(/^(large_)?string$/),
      occurredAt: 'timestamp[us, tz=UTC]',
      grandTotal: 'decimal128(18, 2)',
      _offset: 'int64',
      _partition: 'int32',
      _key: expect.stringMatching(/^(large_)?binary$/),
    });
    expect(facts.current.arrow_types.lineItems).toMatch(/^(large_)?list<element: struct<sku: (large_)?string/);
    expect(facts.current.first).toMatchObject({ eventId: '00000000-0000-4000-8000-000000000000', grandTotal: '0.25', orderId: 'ord-0', _offset: '0' });
    expect(facts.current.first_line_items).toBe(exampleEvents.orderPlaced.lineItems.length);
    expect(facts.at[beforeOverwrite]).toMatchObject({ rows: 150, distinct: 150, by_hour: { [hourA]: 100, [hourB]: 50 } });
    // The hour filter prunes hour A's file by its partition value.
    expect(facts.filtered).toEqual({ files: 1, rows: 50 });
    expect(facts.duckdb).toMatchObject({ rows: 160, distinct: 160, at: { [beforeOverwrite]: 150 } });
    expect(facts.duckdb.types).toMatchObject({ occurredAt: 'TIMESTAMP WITH TIME ZONE', grandTotal: 'DECIMAL(18,2)', eventId: 'VARCHAR', _offset: 'BIGINT' });
    const sum = (ids: number[]) => ids.reduce((n, i) => n + i + 0.25, 0);
    expect(Number(facts.duckdb.grand_total)).toBeCloseTo(sum(range(0, 160)), 2);
  });

  it('evolves the schema: a new field gets a new id, old rows read it as null', async () => {
    const before = (await load()).metadata;
    await land(hourC, rows(hourC, 0, 0, range(200, 220), { giftMessage: 'happy birthday' }), v2);
    expect((await compact(hourC, v2)).tableCommit).toMatchObject({ operation: 'append' });
    const after = (await load()).metadata;
    expect(after['current-schema-id']).toBe(1);
    expect(after['last-column-id']).toBeGreaterThan(before['last-column-id']);
    const facts = read({ metadata: (await load()).metadataLocation });
    const gift = facts.schema.find((f) => f.name === 'giftMessage')!;
    expect(gift.id).toBeLessThanOrEqual(after['last-column-id']);
    expect(gift.id).toBeGreaterThan(before['last-column-id']);
    // Every earlier field keeps its id.
    for (const f of before.schemas[0].fields) expect(facts.schema.find((g) => g.name === f.name)?.id).toBe(f.id);
    expect(facts.current).toMatchObject({ rows: 180, distinct: 180, by_hour: { [hourA]: 110, [hourB]: 50, [hourC]: 20 } });
    expect(facts.current.non_null.giftMessage).toBe(20);
    expect(facts.duckdb).toMatchObject({ rows: 180, distinct: 180 });
  });

  it('serializes concurrent writers through If-None-Match on the store: no commit is lost', async () => {
    const ref = { namespace: 'test', name: 'concurrent', prefix: `curated/${uniqueName('concurrent')}` };
    const schema = prepareSchema(undefined, [unassignedField('eventId', 'string'), unassignedField('occurredAt', 'timestamptz')]);
    const writer = () => new IcebergTable({ store, catalog: new FileSystemCatalog(store), table: ref, partitionSource: 'occurredAt' });
    const file = (name: string) => ({ filePath: `${store.url}${ref.prefix}/${name}.parquet`, partition: {}, recordCount: 1n, fileSizeInBytes: 1n });
    await writer().commitHour({ hour: '2026-11-28T00', files: [file('base')], schema });
    const hours = ['2026-11-28T01', '2026-11-28T02', '2026-11-28T03', '2026-11-28T04'];
    await Promise.all(hours.map((hour) => writer().commitHour({ hour, files: [file(hour)], schema })));
    const loaded = (await new FileSystemCatalog(store).load(ref))!;
    expect(loaded.version).toBe('5');
    expect(loaded.metadata.snapshots).toHaveLength(5);
    expect(loaded.metadata.snapshots.at(-1)!.summary['total-data-files']).toBe('5');
  });

  it('expires old snapshots and deletes only the files no live snapshot references', async () => {
    const before = await load();
    const result = await maintainTable(store, new FileSystemCatalog(store), curatedTableRef(topic), { retainMs: 0, retainLast: 1, orphanGraceMs: 0 });
    expect(result.expiredSnapshots).toBe(3);
    // Hour A's first file: only the expired snapshots referenced it.
    expect(result.deletedDataFiles).toBe(1);
    const after = await load();
    expect(after.metadata.snapshots).toHaveLength(1);
    expect(after.metadata['current-snapshot-id']).toBe(before.metadata['current-snapshot-id']);
    const facts = read({ metadata: after.metadataLocation });
    expect(facts.snapshots).toHaveLength(1);
    expect(facts.current).toMatchObject({ rows: 180, distinct: 180 });
    expect(facts.duckdb).toMatchObject({ rows: 180, distinct: 180 });
    // Nothing under the table that a reader needs went missing, and nothing unreferenced is left.
    const parquet = (await store.list(`curated/${topic}/`)).filter((o) => o.key.endsWith('.parquet'));
    expect(parquet).toHaveLength(3);
  });
});
