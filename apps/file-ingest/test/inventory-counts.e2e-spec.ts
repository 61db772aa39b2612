/**
 * Warehouse inventory CSVs reach inventory-service end to end on the real stack: the real file-ingest
 * app and the real inventory-service run as processes of their own (their main.ts), each on the SCRAM
 * listener as its own principal with only the ACLs `acl:apply` grants it. A directory synced by
 * file-ingest (POST /sources/:name/run, the scheduler's own path) becomes stock counts that
 * inventory-service applies: `GET /stock/:sku` answers the CSV's numbers and `inventory.stock-level.v1`
 * carries one level per SKU and warehouse with the CSV's count. A changed row is synced alone and
 * applied; the unchanged file is neither copied nor re-sent (no level written for its warehouses).
 */
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka } from 'kafkajs';
import { createSchemaRegistry, RegistryCodec } from '@app/codec';
import { loadConfig } from '@app/config';
import { topics, type StockLevelChanged } from '@app/contracts';
import type { FileRunReport } from '@app/ingest';
import { createObjectStore } from '@app/object-store';
import { endOffsets, uniqueName, waitFor } from '@app/testing';
import { localServiceEnv } from '../../../scripts/acl/local-principals';
import { startService, type ServiceProcess } from '../../../test/support/service-process';
import { stockLevelKey } from '../../inventory-service/src/reservations/inventory-topics';

jest.setTimeout(120_000);

const config = loadConfig(process.env, { service: 'inventory-counts-test', defaultHttpPort: 0 });
// The test's own client stays on PLAINTEXT; the services use their principals.
const kafka = new Kafka({ clientId: 'inventory-counts-e2e', brokers: config.kafka.brokers, logLevel: 1 });
const codec = new RegistryCodec(createSchemaRegistry(config.schemaRegistry), { autoRegister: false });
const lakeUrl = `s3://${config.objectStore.bucket}/${uniqueName('inventory-counts')}/`;
const work = mkdtempSync(join(tmpdir(), 'inventory-counts-'));
const exportsDir = join(work, 'exports');
const source = 'warehouse-counts';
// SKUs of this run only: the catalog topics and inventory-service's stores are shared with other runs.
const run = uniqueName('ic').replace(/[^A-Za-z0-9-]/g, '');
const sku = { a: `${run}-A`, b: `${run}-B`, c: `${run}-C`, d: `${run}-D` };

let inventory: ServiceProcess | undefined;
let fileIngest: ServiceProcess | undefined;

beforeAll(async () => {
  mkdirSync(join(exportsDir, 'berlin'), { recursive: true });
  mkdirSync(join(exportsDir, 'hamburg'), { recursive: true });
  const started = await Promise.allSettled([
    startService('inventory-service', { ...localServiceEnv('inventory-service'), RUNTIME_SESSION_TIMEOUT_MS: '8000', KAFKAJS_NO_PARTITIONER_WARNING: '1' }, 90_000),
    startService('file-ingest', {
      ...localServiceEnv('file-ingest'),
      LAKE_URL: lakeUrl,
      // On demand only; default inventory pattern (**/inventory*.csv).
      FILE_INGEST_SOURCES: JSON.stringify([{ name: source, from: exportsDir }]),
      KAFKAJS_NO_PARTITIONER_WARNING: '1',
    }, 90_000),
  ]);
  if (started[0].status === 'fulfilled') inventory = started[0].value;
  if (started[1].status === 'fulfilled') fileIngest = started[1].value;
  const failed = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failed) throw failed.reason;
  // Listening comes before the SKU writer owns its tasks (state restored from the changelog).
  await waitFor(() => /"message":"tasks ready"/.test(inventory!.output()), { timeoutMs: 90_000, intervalMs: 250, what: 'inventory-service tasks ready' });
});

afterAll(async () => {
  await Promise.all([inventory?.stop(), fileIngest?.stop()]);
  const store = createObjectStore(lakeUrl, config.objectStore);
  await store.delete((await store.list('')).map((o) => o.key));
  rmSync(work, { recursive: true, force: true });
});

async function syncNow(): Promise<FileRunReport> {
  const res = await fetch(`${fileIngest!.baseUrl}/sources/${source}/run`, { method: 'POST' });
  expect(res.status).toBe(200);
  return (await res.json()) as FileRunReport;
}

interface Totals {
  sku: string;
  onHand: number;
  reserved: number;
  available: number;
}

async function stockOf(s: string): Promise<Totals | undefined> {
  const res = await fetch(`${inventory!.baseUrl}/stock/${s}`);
  if (res.status === 404) return undefined;
  expect(res.status).toBe(200);
  return (await res.json()) as Totals;
}

/** Waits until GET /stock/:sku answers exactly `onHand` (nothing reserved): the view converges on the writer's state. */
async function expectStock(s: string, onHand: number): Promise<void> {
  const want: Totals = { sku: s, onHand, reserved: 0, available: onHand };
  const got = await waitFor(async () => {
    const t = await stockOf(s);
    return t && JSON.stringify(t) === JSON.stringify(want) ? t : undefined;
  }, { timeoutMs: 30_000, intervalMs: 200, what: `GET /stock/${s} = ${onHand}` }).catch(async () => stockOf(s));
  expect(got).toEqual(want);
}

/**
 * The levels inventory-service wrote to `inventory.stock-level.v1` since `from` (read_committed, up to
 * the current end), for this run's SKUs only: `sku@warehouse` → the onHand of each level, in order.
 */
async function levelsSince(from: Map<number, bigint>): Promise<Record<string, number[]>> {
  const topic = topics.stockLevel.name;
  const ends = await endOffsets(kafka, topic);
  const pending = new Map([...ends].filter(([p, end]) => end > (from.get(p) ?? 0n)));
  const out: Record<string, number[]> = {};
  if (pending.size === 0) return out;
  const groupId = uniqueName('inventory-counts-levels');
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.setOffsets({ groupId, topic, partitions: [...pending.keys()].map((p) => ({ partition: p, offset: String(from.get(p) ?? 0n) })) });
  } finally {
    await admin.disconnect();
  }
  const deserializer = codec.deserializerFor<StockLevelChanged>(topics.stockLevel.schema);
  const consumer = kafka.consumer({ groupId, readUncommitted: false, maxWaitTimeInMs: 100 });
  const values: { key: string; value: Buffer }[] = [];
  try {
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: false });
    const done = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`stock levels not read to the end: partitions ${[...pending.keys()]}`)), 30_000);
      consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
        const end = pending.get(payload.partition);
        if (end !== undefined && BigInt(payload.lastOffset) + 1n >= end) pending.delete(payload.partition);
        if (pending.size === 0) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    await consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        for (const m of batch.messages) if (m.key?.toString().startsWith(`${run}-`) && m.value) values.push({ key: m.key.toString(), value: m.value });
      },
    });
    await done;
  } finally {
    await consumer.disconnect();
  }
  const decoded = await deserializer.decodeAll(values.map((v) => v.value));
  decoded.forEach((d, i) => {
    if (!d.ok) throw d.error;
    expect(values[i].key).toBe(stockLevelKey(d.value.sku, d.value.warehouseId));
    (out[values[i].key] ??= []).push(d.value.onHand);
  });
  return out;
}

it('applies the counts of a synced directory, then only the changed file, as inventory-service stock levels', async () => {
  const berlin = join(exportsDir, 'berlin', 'inventory-berlin.csv');
  writeFileSync(berlin, `sku,warehouseId,onHand\n${sku.a},WH-BER,10\n${sku.b},WH-BER,20\n${sku.c},WH-BER,lots\n`);
  writeFileSync(join(exportsDir, 'hamburg', 'inventory-hamburg.csv'), `warehouseId,sku,onHand\r\nWH-HAM,${sku.b},4\r\nWH-HAM,${sku.d},30\r\n`);
  writeFileSync(join(exportsDir, 'notes.txt'), 'not a count');

  const beforeFirst = await endOffsets(kafka, topics.stockLevel.name);
  const first = await syncNow();
  expect(first).toMatchObject({ source, copied: 3, skipped: 0, failed: 0 });
  expect(first.stockCounts).toEqual({ files: 2, published: 4, malformed: [{ file: 'berlin/inventory-berlin.csv', line: 4, reason: expect.stringContaining('onHand "lots"') }] });

  // inventory-service applied them: totals over warehouses per SKU, and one level per SKU and warehouse.
  await expectStock(sku.a, 10);
  await expectStock(sku.b, 24);
  await expectStock(sku.d, 30);
  expect(await stockOf(sku.c)).toBeUndefined();
  expect(await levelsSince(beforeFirst)).toEqual({
    [stockLevelKey(sku.a, 'WH-BER')]: [10],
    [stockLevelKey(sku.b, 'WH-BER')]: [20],
    [stockLevelKey(sku.b, 'WH-HAM')]: [4],
    [stockLevelKey(sku.d, 'WH-HAM')]: [30],
  });

  // One row changes in Berlin; Hamburg's file stays as it was.
  writeFileSync(berlin, `sku,warehouseId,onHand\n${sku.a},WH-BER,7\n${sku.b},WH-BER,20\n${sku.c},WH-BER,lots\n`);
  utimesSync(berlin, new Date(), new Date(Date.now() + 5_000));
  const beforeSecond = await endOffsets(kafka, topics.stockLevel.name);
  const second = await syncNow();
  expect(second).toMatchObject({ copied: 1, skipped: 2, failed: 0 });
  expect(second.files.map((f) => [f.path, f.status])).toEqual([['berlin/inventory-berlin.csv', 'copied']]);
  expect(second.stockCounts).toMatchObject({ files: 1, published: 2 });

  // A barrier on the SKUs Hamburg's file holds: PUT answers once the SKU's single writer applied it, so
  // every command sent before it for that SKU (a re-sent Hamburg row included) has been applied too.
  for (const s of [sku.b, sku.d]) {
    const res = await fetch(`${inventory!.baseUrl}/stock/${s}`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ warehouseId: 'WH-BARRIER', onHand: 0 }) });
    expect(res.status).toBe(200);
  }
  await expectStock(sku.a, 7);
  await expectStock(sku.b, 24);
  await expectStock(sku.d, 30);
  // The changed file's rows were applied again (the unchanged row as the same count); Hamburg's were not re-sent.
  expect(await levelsSince(beforeSecond)).toEqual({
    [stockLevelKey(sku.a, 'WH-BER')]: [7],
    [stockLevelKey(sku.b, 'WH-BER')]: [20],
    [stockLevelKey(sku.b, 'WH-BARRIER')]: [0],
    [stockLevelKey(sku.d, 'WH-BARRIER')]: [0],
  });
});
