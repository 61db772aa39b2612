import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exampleEvents, topics } from '@app/contracts';
import { encodeRawSegment, MemoryObjectStore } from '../test/compaction-fixtures';
import { compactHour } from './compaction';
import { catalogDdl } from './catalog-ddl';
import { lakeStatus } from './lake-status';
import { rawManifestKey, rawSegmentKey } from './manifest';
import { curatedManifests, LakeQuery, verifyCuratedFiles } from './query';

const topic = 'orders.order-placed.v1';

async function lakeWithTwoHours(): Promise<MemoryObjectStore> {
  const store = new MemoryObjectStore();
  for (const [h, hour] of ['2026-11-28T05', '2026-11-28T06'].entries()) {
    const start = Date.parse(`${hour}:00:00Z`);
    const rows = Array.from({ length: 10 + h }, (_, i) => ({
      partition: 0,
      offset: h * 100 + i,
      schemaId: 1,
      value: { ...exampleEvents.orderPlaced, eventId: `${h}-${i}`, occurredAt: new Date(start + i * 1000) },
    }));
    const key = rawSegmentKey(topic, hour, 0, String(h * 100));
    await store.put(key, await encodeRawSegment(topics.orderPlaced.schema, rows));
    await store.put(rawManifestKey(topic, hour), Buffer.from(JSON.stringify({ topic, hour, files: [{ key, rows: rows.length }], rows: rows.length })));
    await compactHour(store, topic, hour, { reader: { schema: topics.orderPlaced.schema } });
  }
  // A third hour landed but not closed.
  await store.put(rawSegmentKey(topic, '2026-11-28T07', 0, '500'), Buffer.from('x'));
  return store;
}

describe('lake tools', () => {
  const cacheDir = mkdtempSync(join(tmpdir(), 'lake-query-spec-'));
  afterAll(() => rmSync(cacheDir, { recursive: true, force: true }));

  it('query: a view per topic over the manifests\' files, with dt and hour partition columns', async () => {
    const store = await lakeWithTwoHours();
    const query = await LakeQuery.open(store, { cacheDir });
    try {
      const views = await query.prepare('select hour, count(*) from orders_order_placed_v1 group by all');
      expect(views.map((v) => v.view)).toEqual(['orders_order_placed_v1']);
      const result = await query.run('select dt::VARCHAR as dt, hour::INTEGER as hour, count(*)::INTEGER as n from orders_order_placed_v1 group by all order by 2');
      expect(result.rows).toEqual([
        ['2026-11-28', 5, 10],
        ['2026-11-28', 6, 11],
      ]);
    } finally {
      query.close();
    }
  });

  it('query: a re-compacted hour is read from its new files, and the cache drops the superseded ones', async () => {
    const store = await lakeWithTwoHours();
    const cache = mkdtempSync(join(tmpdir(), 'lake-query-cache-'));
    const query = await LakeQuery.open(store, { cacheDir: cache });
    try {
      await query.prepare('select * from orders_order_placed_v1');
      const [old] = (await curatedManifests(store, topic))[0].files;
      expect(existsSync(join(cache, old.key))).toBe(true);
      const hour = '2026-11-28T05';
      const late = [{ partition: 1, offset: 0, schemaId: 1, value: { ...exampleEvents.orderPlaced, eventId: 'late-1', occurredAt: new Date(Date.parse(`${hour}:30:00Z`)) } }];
      await store.put(rawSegmentKey(topic, hour, 1, '0'), await encodeRawSegment(topics.orderPlaced.schema, late));
      await compactHour(store, topic, hour, { reader: { schema: topics.orderPlaced.schema } });
      await query.prepare('select * from orders_order_placed_v1');
      expect(existsSync(join(cache, old.key))).toBe(false);
      expect((await query.run('select count(*)::INTEGER from orders_order_placed_v1')).rows).toEqual([[22]]);
    } finally {
      query.close();
      rmSync(cache, { recursive: true, force: true });
    }
  });

  it('query: --from/--to limit the hours read', async () => {
    const store = await lakeWithTwoHours();
    const query = await LakeQuery.open(store, { cacheDir, fromHour: '2026-11-28T06', toHour: '2026-11-28T06' });
    try {
      await query.prepare('select * from orders_order_placed_v1');
      expect((await query.run('select count(*)::INTEGER from orders_order_placed_v1')).rows).toEqual([[11]]);
    } finally {
      query.close();
    }
  });

  it('verifyCuratedFiles finds nothing wrong in a good lake and names a tampered file', async () => {
    const store = await lakeWithTwoHours();
    const manifests = await curatedManifests(store, topic);
    expect(await verifyCuratedFiles(store, manifests)).toEqual([]);
    const victim = manifests[0].files[0].key;
    const body = Buffer.from(await store.get(victim));
    body[body.length - 20] ^= 0xff;
    await store.put(victim, body);
    expect((await verifyCuratedFiles(store, manifests)).join('\n')).toContain(`${victim}: sha256 differs`);
  });

  it('lake status: open, compacted hours, rows and files per topic', async () => {
    const store = await lakeWithTwoHours();
    const [status] = await lakeStatus(store, Date.parse('2026-11-28T08:30:00Z'));
    expect(status).toMatchObject({ topic, open: 1, closed: 0, compacted: 2, rows: 21, files: 2, newestClosedHour: '2026-11-28T06', newestClosedAgeMs: 90 * 60_000 });
  });

  it('catalog DDL: Hive types from the Avro schema and partition projection', () => {
    const ddl = catalogDdl(topic, topics.orderPlaced.schema, { lakeUrl: 's3://lake-bucket/prod', database: 'lake', projectionStartDay: '2026-01-01' });
    expect(ddl).toContain('CREATE EXTERNAL TABLE IF NOT EXISTS `lake`.`orders_order_placed_v1`');
    expect(ddl).toMatch(/`lineItems`\s+array<struct<sku:string,quantity:int,unitPrice:decimal\(18,2\)>>/);
    expect(ddl).toMatch(/`occurredAt`\s+timestamp/);
    expect(ddl).toMatch(/`channel`\s+string/);
    expect(ddl).toContain("LOCATION 's3://lake-bucket/prod/curated/orders.order-placed.v1/'");
    expect(ddl).toContain("'storage.location.template' = 's3://lake-bucket/prod/curated/orders.order-placed.v1/dt=${dt}/hour=${hour}/'");
  });
});
