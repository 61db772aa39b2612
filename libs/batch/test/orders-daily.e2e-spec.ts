/**
 * The daily batch end to end on the real stack (Kafka, the registry, moto S3): order events for one day
 * (placed, fraud verdicts, confirmations, rejections, cancels, a duplicate OrderPlaced, orders of the
 * neighbouring days, a verdict in the next day's first hour) are produced through the codec onto this
 * test's own topics, landed by the sink's engine, then the orders-daily workflow (the ASL file, run by
 * @app/orchestration) is started before the hours are compacted: it waits, the hours are closed and
 * compacted as the sink does, and it builds, verifies and announces the day. Then: a forced re-run
 * writes byte-identical files, a plain re-run is a no-op, and a run whose Parquet uploads fail (S3
 * answering 503 through a fault proxy) is retried with backoff, caught, announced as FAILED, and leaves
 * the published day intact. `npm run query`'s engine reads the output as views batch_orders_daily / batch_sales_by_day.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Kafka, Producer } from 'kafkajs';
import { createSchemaRegistry, decimal, RegistryCodec, type AvroSchema } from '@app/codec';
import { loadConfig } from '@app/config';
import { exampleEvents, topics as catalog, type BatchCompleted } from '@app/contracts';
import { createKafkaClient } from '@app/kafka';
import { closeHour, LakeQuery, LandingSink, loadLandingSettings, parseRawSegmentKey, runCompaction, loadCompactionSettings } from '@app/lake';
import { createLogger } from '@app/logging';
import { createObjectStore, objectStoreTestDefaults, type ObjectStore } from '@app/object-store';
import { S3FaultProxy, readTopic, uniqueName, waitFor } from '@app/testing';
import {
  batchManifestKey,
  loadBatchSettings,
  OrdersDailyRunner,
  readBatchManifest,
  type OrderTopics,
} from '@app/batch';

const config = loadConfig(process.env, { service: 'batch-e2e', defaultHttpPort: 0 });
const HOUR = 3_600_000;
const DAY_START = Math.floor((Date.now() - 2 * 24 * HOUR) / (24 * HOUR)) * 24 * HOUR;
const DAY = new Date(DAY_START).toISOString().slice(0, 10);

type Status = 'CONFIRMED' | 'REJECTED' | 'CANCELLED' | 'REVIEW' | 'PENDING';
interface PlannedOrder {
  n: number;
  orderId: string;
  placedAt: number;
  currency: 'EUR' | 'USD';
  grandTotal: string;
  quantity: number;
  status: Status;
  onTheDay: boolean;
}

/** The test's model of each order: what it sends and what orders_daily must say. */
function planOrders(): PlannedOrder[] {
  const orders: PlannedOrder[] = [];
  for (let n = 0; n < 23; n++) {
    // Two busy hours keep the number of hours to compact (and the test's run time) small.
    let placedAt = DAY_START + (n % 2) * 12 * HOUR + n * 60_000;
    if (n === 20) placedAt = DAY_START + 24 * HOUR - 30_000; // its verdicts land in the next day's first hour
    if (n === 21) placedAt = DAY_START - 30 * 60_000; // the day before
    if (n === 22) placedAt = DAY_START + 24 * HOUR + 10 * 60_000; // the day after
    const status: Status =
      n === 5 ? 'REVIEW' : n === 9 ? 'PENDING' : n === 7 ? 'REJECTED' : n >= 20 ? 'CONFIRMED' : (['CONFIRMED', 'REJECTED', 'CANCELLED', 'CONFIRMED'] as const)[n % 4];
    orders.push({
      n,
      orderId: `ord-${n}`,
      placedAt,
      currency: n % 2 ? 'USD' : 'EUR',
      grandTotal: `${10 + n}.50`,
      quantity: 1 + (n % 3),
      status,
      onTheDay: n < 21,
    });
  }
  return orders;
}

const uuid = (text: string) => {
  const h = createHash('md5').update(text).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
};

interface Outgoing {
  topic: keyof OrderTopics;
  key: string;
  value: Record<string, unknown>;
}

function eventsOf(o: PlannedOrder): Outgoing[] {
  const env = (kind: string, at: number, producer: string) => ({ eventId: uuid(`${o.orderId}/${kind}`), occurredAt: new Date(at), producer, correlationId: o.orderId });
  const out: Outgoing[] = [];
  const placed = {
    ...exampleEvents.orderPlaced,
    ...env('placed', o.placedAt, 'order-service'),
    orderId: o.orderId,
    customerId: `cus-${o.n % 7}`,
    currency: o.currency,
    lineItems: [{ sku: `SKU-${o.n}`, quantity: o.quantity, unitPrice: decimal('1.00') }],
    grandTotal: decimal(o.grandTotal),
  };
  out.push({ topic: 'placed', key: o.orderId, value: placed });
  // A producer retry across two instances: the same order again under another event id.
  if (o.n === 3) out.push({ topic: 'placed', key: o.orderId, value: { ...placed, ...env('placed-again', o.placedAt + 120_000, 'order-service') } });
  if (o.status === 'PENDING') return out;
  const verdictAt = o.placedAt + 60_000;
  const decision = o.status === 'REVIEW' ? 'REVIEW' : o.n === 7 ? 'DECLINE' : 'APPROVE';
  out.push({
    topic: 'fraudAssessed',
    key: o.orderId,
    value: { ...exampleEvents.fraudAssessed, ...env('fraud', verdictAt, 'fraud-service'), orderId: o.orderId, score: o.n * 3, decision },
  });
  if (o.status === 'REVIEW') return out;
  if (o.status === 'REJECTED') {
    const code = o.n === 7 ? 'FRAUD_DECLINED' : 'OUT_OF_STOCK';
    out.push({ topic: 'rejected', key: o.orderId, value: { ...exampleEvents.orderRejected, ...env('rejected', verdictAt + 1_000, 'order-service'), orderId: o.orderId, reasons: [{ code, detail: 'test' }] } });
    return out;
  }
  out.push({
    topic: 'confirmed',
    key: o.orderId,
    value: { ...exampleEvents.orderConfirmed, ...env('confirmed', verdictAt + 1_000, 'order-service'), orderId: o.orderId, currency: o.currency, grandTotal: decimal(o.grandTotal), fraudScore: o.n * 3 },
  });
  if (o.status === 'CANCELLED') {
    out.push({ topic: 'cancelled', key: o.orderId, value: { ...exampleEvents.orderCancelled, ...env('cancelled', verdictAt + 120_000, 'order-service'), orderId: o.orderId } });
  }
  return out;
}

const schemaOf: Record<keyof OrderTopics, AvroSchema> = {
  placed: catalog.orderPlaced.schema,
  confirmed: catalog.orderConfirmed.schema,
  rejected: catalog.orderRejected.schema,
  cancelled: catalog.orderCancelled.schema,
  fraudAssessed: catalog.fraudAssessed.schema,
};

async function sha256Of(store: ObjectStore, key: string): Promise<string> {
  return createHash('sha256').update(await store.get(key)).digest('hex');
}

/** Rows through `npm run query`'s engine (LakeQuery): the batch tables are its views batch_<table>. */
async function query(store: ObjectStore, sql: string, dir: string): Promise<Record<string, unknown>[]> {
  const lake = await LakeQuery.open(store, { cacheDir: join(dir, 'query-cache') });
  try {
    await lake.prepare(sql);
    const result = await lake.run(sql);
    return result.rows.map((row) => Object.fromEntries(result.columns.map((c, i) => [c, row[i]])));
  } finally {
    lake.close();
  }
}

describe('orders-daily batch workflow', () => {
  const kafka: Kafka = createKafkaClient(config.kafka);
  const run = uniqueName('batch-e2e');
  const orderTopics: OrderTopics = {
    placed: `${run}.order-placed`,
    confirmed: `${run}.order-confirmed`,
    rejected: `${run}.order-rejected`,
    cancelled: `${run}.order-cancelled`,
    fraudAssessed: `${run}.fraud-assessed`,
  };
  const completedTopic = `${run}.batch-completed`;
  const lakeUrl = `s3://${config.objectStore.bucket}/${run}/`;
  const store = createObjectStore(lakeUrl, config.objectStore, objectStoreTestDefaults);
  const workDir = mkdtempSync(join(tmpdir(), 'batch-e2e-'));
  const settings = {
    ...loadBatchSettings({ LAKE_URL: lakeUrl, BATCH_WORK_DIR: workDir, BATCH_AUTO_REGISTER_SCHEMA: 'true' }, lakeUrl),
    // Production intervals from the ASL file, ten times faster: 15 s retries take 1.5 s.
    timeScale: 0.1,
  };
  const proxy = new S3FaultProxy(config.objectStore.endpoint);
  const orders = planOrders();
  const progress: string[] = [];
  let producer: Producer;

  function runner(storeToUse: ObjectStore = store): OrdersDailyRunner {
    return new OrdersDailyRunner({
      store: storeToUse,
      kafka,
      registry: config.schemaRegistry,
      settings,
      topics: orderTopics,
      completedTopic,
      onProgress: (line) => progress.push(line),
    });
  }

  beforeAll(async () => {
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({
      waitForLeaders: true,
      topics: [...Object.values(orderTopics).flatMap((topic) => [{ topic, numPartitions: 2 }, { topic: `${topic}.dlq`, numPartitions: 1 }]), { topic: completedTopic, numPartitions: 1 }],
    });
    await admin.disconnect();
    producer = kafka.producer({ idempotent: true });
    await producer.connect();
  });

  afterAll(async () => {
    await producer?.disconnect();
    await proxy.stop();
    rmSync(workDir, { recursive: true, force: true });
  });

  it('waits for compaction, builds, verifies and announces the day; a re-run gives identical output; a failing step is retried then caught', async () => {
    // ---- produce through the codec, land with the sink's engine (hours stay open: no idle close)
    const codec = new RegistryCodec(createSchemaRegistry(config.schemaRegistry), { autoRegister: true });
    const outgoing = orders.flatMap(eventsOf);
    for (const source of Object.keys(orderTopics) as (keyof OrderTopics)[]) {
      const serializer = await codec.serializerFor<Record<string, unknown>>(orderTopics[source], schemaOf[source]);
      const messages = outgoing.filter((o) => o.topic === source).map((o) => ({ key: o.key, value: serializer.encode(o.value) }));
      await producer.send({ topic: orderTopics[source], acks: -1, messages });
    }
    const landing = loadLandingSettings(
      { LAKE_URL: lakeUrl, SINK_TOPICS: Object.values(orderTopics).join(','), SINK_GROUP_ID: uniqueName('s3-sink.batch-e2e'), SINK_FLUSH_IDLE: '200ms', LAKE_IDLE_CLOSE: '1h' },
      { defaultLakeUrl: lakeUrl, catalogTopics: [] },
    );
    const sink = new LandingSink({ kafka, store, registry: config.schemaRegistry, settings: landing, logger: createLogger({ service: 'batch-e2e-sink' }, 'error') });
    await sink.start();
    try {
      await waitFor(() => sink.progress().recordsCommitted >= outgoing.length, { timeoutMs: 60_000, what: `${outgoing.length} records landed` });
    } finally {
      await sink.stop();
    }

    // ---- the workflow starts before anything is compacted: it must wait (Choice → Wait → check again)
    const first = runner();
    const firstRun = first.run({ day: DAY, trigger: 'test', pollSeconds: 10 });
    await waitFor(() => progress.some((l) => l.includes('waiting')), { timeoutMs: 30_000, what: 'the workflow to wait for compaction' });
    expect(progress.some((l) => l.includes('not closed'))).toBe(true);
    // Close and compact every landed hour, as the sink's hour close and compaction consumer do.
    const landed = new Set<string>();
    for (const topic of Object.values(orderTopics)) {
      for (const o of await store.list(`raw/${topic}/`)) {
        const seg = parseRawSegmentKey(o.key);
        if (seg) landed.add(`${seg.topic}|${seg.hour}`);
      }
    }
    const compaction = loadCompactionSettings({});
    for (const entry of landed) {
      const [topic, hour] = entry.split('|');
      await closeHour(store, topic, hour, { reason: 'manual' });
      await runCompaction({ store, registry: config.schemaRegistry, settings: compaction, workDir }, topic, hour);
    }
    const record = await firstRun;
    await first.close();
    // On failure the progress lines say which step failed and why.
    if (record.status !== 'SUCCEEDED') throw new Error(`first run ${record.status}:\n${progress.join('\n')}`);
    expect(record).toMatchObject({ status: 'SUCCEEDED', failedAttempts: 0 });
    expect(record.events.filter((e) => e.type === 'WaitStarted').length).toBeGreaterThanOrEqual(1);
    expect(record.events.filter((e) => e.type === 'StateEntered').map((e) => (e as { state: string }).state)).toEqual(
      expect.arrayContaining(['ResolveDay', 'CheckCompaction', 'IsDayCompacted', 'WaitForCompaction', 'BuildDaily', 'VerifyCounts', 'PublishSucceeded', 'Done']),
    );

    // ---- the output, read through the manifests with DuckDB
    const daily = (await readBatchManifest(store, batchManifestKey('orders_daily', DAY)))!;
    const sales = (await readBatchManifest(store, batchManifestKey('sales_by_day', DAY)))!;
    const onTheDay = orders.filter((o) => o.onTheDay);
    expect(daily.rows).toBe(onTheDay.length);
    const rows = await query(store, `SELECT order_id, status, grand_total, currency, item_count, fraud_score FROM batch_orders_daily WHERE dt = '${DAY}' ORDER BY order_id`, workDir);
    expect(rows.map((r) => [r.order_id, r.status])).toEqual(onTheDay.map((o) => [o.orderId, o.status]).sort((a, b) => a[0].localeCompare(b[0])));
    const row20 = rows.find((r) => r.order_id === 'ord-20')!;
    expect(row20).toMatchObject({ status: 'CONFIRMED', fraud_score: 60 });
    expect(rows.find((r) => r.order_id === 'ord-3')).toMatchObject({ item_count: '1' });
    const salesRows = await query(store, 'SELECT currency, orders_placed, orders_confirmed, orders_cancelled, orders_open, confirmed_revenue FROM batch_sales_by_day ORDER BY currency', workDir);
    expect(salesRows).toHaveLength(sales.rows);
    const cents = (list: PlannedOrder[]) => list.reduce((n, o) => n + Math.round(Number(o.grandTotal) * 100), 0);
    for (const currency of ['EUR', 'USD'] as const) {
      const mine = onTheDay.filter((o) => o.currency === currency);
      const confirmed = mine.filter((o) => o.status === 'CONFIRMED');
      const row = salesRows.find((r) => r.currency === currency)!;
      expect(row).toMatchObject({
        orders_placed: String(mine.length),
        orders_confirmed: String(confirmed.length),
        orders_cancelled: String(mine.filter((o) => o.status === 'CANCELLED').length),
        orders_open: String(mine.filter((o) => o.status === 'REVIEW' || o.status === 'PENDING').length),
      });
      expect(Math.round(Number(row.confirmed_revenue) * 100)).toBe(cents(confirmed));
    }

    // ---- announced on Kafka, decoded through the registry
    const announced = async () => {
      const messages = await readTopic(kafka, completedTopic);
      const deserializer = codec.deserializerFor<BatchCompleted>(catalog.batchCompleted.schema);
      return Promise.all(messages.map((m) => deserializer.decode(m.value!)));
    };
    const [succeeded] = await announced();
    expect(succeeded).toMatchObject({ job: 'orders-daily', day: DAY, status: 'SUCCEEDED', runId: record.name, error: null });
    expect(succeeded.tables.map((t) => [t.name, t.rows])).toEqual([
      ['orders_daily', onTheDay.length],
      ['sales_by_day', 2],
    ]);

    // ---- a forced re-run writes the same files, byte for byte; a plain re-run changes nothing
    const firstFiles = await Promise.all([daily, sales].flatMap((m) => m.files.map(async (f) => [f.key, await sha256Of(store, f.key)])));
    const again = runner();
    const forced = await again.run({ day: DAY, force: true, trigger: 'test' });
    const plain = await again.run({ day: DAY, trigger: 'test' });
    await again.close();
    expect(forced.status).toBe('SUCCEEDED');
    expect((forced.output as { build: { tables: { status: string }[] } }).build.tables.map((t) => t.status)).toEqual(['built', 'built']);
    expect((plain.output as { build: { tables: { status: string }[] } }).build.tables.map((t) => t.status)).toEqual(['unchanged', 'unchanged']);
    const dailyAgain = (await readBatchManifest(store, batchManifestKey('orders_daily', DAY)))!;
    const salesAgain = (await readBatchManifest(store, batchManifestKey('sales_by_day', DAY)))!;
    const againFiles = await Promise.all([dailyAgain, salesAgain].flatMap((m) => m.files.map(async (f) => [f.key, await sha256Of(store, f.key)])));
    expect(againFiles).toEqual(firstFiles);
    expect((await store.list(`batch/orders_daily/dt=${DAY}/`)).map((o) => o.key).filter((k) => k.endsWith('.parquet'))).toEqual([daily.files[0].key]);

    // ---- S3 refuses the Parquet uploads: BuildDaily is retried (2 retries, backoff), then caught → FAILED
    const endpoint = await proxy.start();
    proxy.setRule((req) => (req.method === 'PUT' && req.url.includes('/batch/') && req.url.includes('.parquet') ? { status: 503, code: 'SlowDown' } : 'pass'));
    const faulty = runner(createObjectStore(lakeUrl, { ...config.objectStore, endpoint }, objectStoreTestDefaults));
    const failed = await faulty.run({ day: DAY, force: true, trigger: 'test' });
    await faulty.close();
    expect(failed).toMatchObject({ status: 'FAILED', error: 'OrdersDailyFailed', failedAttempts: 3 });
    const retries = failed.events.filter((e) => e.type === 'RetryScheduled') as { state: string; delayMs: number }[];
    expect(retries.map((r) => [r.state, r.delayMs])).toEqual([
      ['BuildDaily', 15_000],
      ['BuildDaily', 30_000],
    ]);
    expect(failed.events.find((e) => e.type === 'ErrorCaught')).toMatchObject({ state: 'BuildDaily', error: 'ObjectStoreUnavailableError', next: 'PublishFailed' });
    const events = await announced();
    expect(events.at(-1)).toMatchObject({ status: 'FAILED', runId: failed.name, tables: [] });
    expect(events.at(-1)!.error).toMatch(/^ObjectStoreUnavailableError/);
    // The published day is untouched: same manifest, same files.
    expect(await readBatchManifest(store, batchManifestKey('orders_daily', DAY))).toEqual(dailyAgain);

    // ---- the run history is in the lake, newest first
    const history = await runner().history.list('orders-daily');
    expect(history.map((r) => [r.name, r.status])).toEqual([
      [failed.name, 'FAILED'],
      [plain.name, 'SUCCEEDED'],
      [forced.name, 'SUCCEEDED'],
      [record.name, 'SUCCEEDED'],
    ]);
  });
});
