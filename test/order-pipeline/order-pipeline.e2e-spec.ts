/**
 * The order pipeline end to end on the real stack: order-service, inventory-service and fraud-service
 * run as real child processes (their own main.ts), clients talk HTTP, and the checks read the catalog
 * topics with read_committed. The services use the catalog topic names and their own consumer groups,
 * so every run uses its own SKUs, customers and order ids and only looks at those.
 */
import { Kafka, Partitioners } from 'kafkajs';
import { topics } from '@app/contracts';
import { DLQ_HEADERS } from '@app/runtime';
import { readTopic, uniqueName, waitFor } from '@app/testing';
import { orderIdFor } from '../../apps/order-service/src/orders/order-placement';
import { localServiceEnv } from '../../scripts/acl/local-principals';
import { exited, startService, type ServiceProcess } from '../support/service-process';
import { expectedOutcome, planMix, planOrder, type Catalog, type PlannedOrder } from './order-model';
import { driveOrder, pool, type Observed } from './pipeline-driver';

jest.setTimeout(480_000);

const BROKERS = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
const SERVICE_ENV = {
  // Long enough that no order times out while a killed service restarts; the timeout has unit tests.
  ORDER_VALIDATION_TIMEOUT_MS: '240000',
  // A killed instance's partitions move after 8 s instead of 30 s.
  RUNTIME_SESSION_TIMEOUT_MS: '8000',
  LOG_LEVEL: 'info',
  // The shared CI box can be slow to acknowledge; a 503 would only make the client retry.
  ORDER_PUBLISH_TIMEOUT_MS: '20000',
  KAFKAJS_NO_PARTITIONER_WARNING: '1',
};
const FINAL_TIMEOUT_MS = 180_000;

type PipelineService = 'order-service' | 'inventory-service' | 'fraud-service';
/**
 * Each service as in production: on the SCRAM listener as its own principal, with only the ACLs
 * `acl:apply` grants it (the e2e global setup applies them). The test's own client stays on PLAINTEXT.
 */
const start = (service: PipelineService, env: Record<string, string> = {}) =>
  startService(service, { ...SERVICE_ENV, ...localServiceEnv(service), ...env }, 120_000);

const kafka = new Kafka({ clientId: 'order-pipeline-e2e', brokers: BROKERS, logLevel: 1 });
const run = uniqueName('op');
const procs: Record<'order' | 'inventory' | 'fraud', ServiceProcess | undefined> & { extra: ServiceProcess[] } = {
  order: undefined,
  inventory: undefined,
  fraud: undefined,
  extra: [],
};
const endpoints = { orders: () => procs.order!.baseUrl };

async function putStock(sku: string, onHand: number, base = procs.inventory!.baseUrl): Promise<void> {
  const res = await fetch(`${base}/stock/${sku}`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ warehouseId: 'WH-1', onHand }) });
  expect([200, 202]).toContain(res.status);
  await waitFor(async () => (await getStock(sku))?.onHand === onHand, { timeoutMs: 30_000, what: `stock of ${sku}` });
}

async function getStock(sku: string): Promise<{ onHand: number; reserved: number; available: number } | undefined> {
  const res = await fetch(`${procs.inventory!.baseUrl}/stock/${sku}`);
  return res.status === 200 ? ((await res.json()) as { onHand: number; reserved: number; available: number }) : undefined;
}

/** Number of records per key on a topic (all of the topic, read_committed), for the given keys only. */
async function countByKey(topic: string, keys: Set<string>): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for (const m of await readTopic(kafka, topic, { timeoutMs: 60_000 })) {
    const key = m.key?.toString();
    if (key && keys.has(key)) counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return counts;
}

async function restart(name: 'inventory' | 'fraud'): Promise<void> {
  const proc = procs[name]!;
  proc.child.kill('SIGKILL');
  await exited(proc.child);
  procs[name] = await start(`${name}-service`);
}

/** Every order ended as the model says, once; placed once; one verdict each; stock adds up. */
async function checkRun(orders: PlannedOrder[], observed: Observed[], catalog: Catalog): Promise<void> {
  const problems = observed.flatMap((o) => o.problems.map((p) => `#${o.order.n} ${o.order.kind} ${o.orderId}: ${p}`));
  expect(problems.slice(0, 20)).toEqual([]);
  const mismatches = observed
    .map((o) => ({ n: o.order.n, kind: o.order.kind, orderId: o.orderId, got: { status: o.status, reasons: o.reasons }, want: expectedOutcome(o.order, catalog) }))
    .filter((o) => o.got.status !== o.want.status || o.got.reasons.join() !== o.want.reasons.join());
  expect(mismatches.slice(0, 10)).toEqual([]);

  const ids = new Set(observed.map((o) => o.orderId));
  expect(ids.size).toBe(orders.length);
  const [placed, confirmed, rejected, cancelled, assessed, reserved] = await Promise.all(
    [topics.orderPlaced, topics.orderConfirmed, topics.orderRejected, topics.orderCancelled, topics.fraudAssessed, topics.stockReserved].map((t) =>
      countByKey(t.name, ids),
    ),
  );
  const wrong: string[] = [];
  for (const o of observed) {
    const id = o.orderId;
    const c = (m: Map<string, number>) => m.get(id) ?? 0;
    if (c(placed) !== 1) wrong.push(`${id} placed ${c(placed)}x`);
    if (c(assessed) !== 1) wrong.push(`${id} assessed ${c(assessed)}x`);
    if (c(reserved) > 1) wrong.push(`${id} reserved ${c(reserved)}x`);
    const finals = { CONFIRMED: c(confirmed), REJECTED: c(rejected), CANCELLED: c(cancelled) };
    const want = { CONFIRMED: o.status === 'CONFIRMED' ? 1 : 0, REJECTED: o.status === 'REJECTED' ? 1 : 0, CANCELLED: o.status === 'CANCELLED' ? 1 : 0 };
    // A cancel inside the window may follow a confirmation: both published, each once.
    if (o.status === 'CANCELLED' && finals.CONFIRMED === 1) want.CONFIRMED = 1;
    if (JSON.stringify(finals) !== JSON.stringify(want)) wrong.push(`${id} ${o.status}: finals ${JSON.stringify(finals)}`);
    if (o.status === 'CONFIRMED' && c(reserved) !== 1) wrong.push(`${id} confirmed without its reservation`);
  }
  expect(wrong.slice(0, 10)).toEqual([]);

  // Stock: what is held is exactly what confirmed orders ordered; nothing negative, nothing leaked.
  for (const sku of [...catalog.plentiful, catalog.empty]) {
    const held = observed
      .filter((o) => o.status === 'CONFIRMED')
      .flatMap((o) => o.order.body.items)
      .filter((i) => i.sku === sku)
      .reduce((sum, i) => sum + i.quantity, 0);
    const level = await waitFor(async () => {
      const s = await getStock(sku);
      return s && s.reserved === held ? s : undefined;
    }, { timeoutMs: 30_000, what: `${sku} reserved = ${held}` }).catch(async () => getStock(sku));
    expect({ sku, reserved: level?.reserved }).toEqual({ sku, reserved: held });
    expect(level!.available).toBeGreaterThanOrEqual(0);
  }
}

async function newCatalog(tag: string, plentiful = 5): Promise<Catalog> {
  const catalog: Catalog = { plentiful: Array.from({ length: plentiful }, (_, i) => `${run}-${tag}-P${i}`), empty: `${run}-${tag}-EMPTY` };
  for (const sku of catalog.plentiful) await putStock(sku, 1_000_000);
  await putStock(catalog.empty, 0);
  return catalog;
}

beforeAll(async () => {
  [procs.order, procs.inventory, procs.fraud] = await Promise.all([
    start('order-service'),
    start('inventory-service'),
    start('fraud-service'),
  ]);
  // Listening comes before the state stores are restored from their changelogs (long on a stack that
  // has seen many runs): the tests start once every service owns its tasks.
  for (const proc of [procs.order!, procs.inventory!, procs.fraud!]) {
    await waitFor(() => /"message":"tasks ready"/.test(proc.output()), { timeoutMs: 240_000, intervalMs: 250, what: 'tasks ready' });
  }
});

afterAll(async () => {
  await Promise.all([procs.order, procs.inventory, procs.fraud, ...procs.extra].map((p) => p?.stop()));
});

describe('HTTP contract', () => {
  const valid = () => planOrder(run, 0, 'valid', { plentiful: ['X'], empty: 'Y' }).body;
  const post = (body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${endpoints.orders()}/orders`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) });

  it('answers 400 naming each bad field, unknown ones included', async () => {
    const body = {
      ...valid(),
      currency: 'EURO',
      shippingCountry: 'Germany',
      items: [{ sku: 'A', quantity: 0, unitPrice: '1.234' }, { sku: 'B', quantity: '2', unitPrice: 3 }],
      payment: { type: 'CARD', fingerprint: 'fp', cvv: '123' },
      coupon: 'FREE',
    };
    const res = await post(body, { 'x-client-country': 'DE' });
    expect(res.status).toBe(400);
    const fields = ((await res.json()) as { fields: { field: string }[] }).fields.map((f) => f.field).sort();
    expect(fields).toEqual(['coupon', 'currency', 'items.0.quantity', 'items.0.unitPrice', 'items.1.quantity', 'items.1.unitPrice', 'payment.cvv', 'shippingCountry'].sort());
    const empty = await post({ ...valid(), items: [] });
    expect(((await empty.json()) as { fields: { field: string }[] }).fields.map((f) => f.field)).toEqual(['items']);
    const badCountry = await post(valid(), { 'x-client-country': 'XX' });
    expect(((await badCountry.json()) as { fields: { field: string }[] }).fields.map((f) => f.field)).toEqual(['X-Client-Country']);
  });

  it('answers 413 over 1 MiB and accepts a large body under it', async () => {
    const big = await post({ ...valid(), sessionId: 'x'.repeat(1_100_000) });
    expect(big.status).toBe(413);
    // ~200 kB (over Nest's default 100 kB limit): parsed, then rejected by validation, not by size.
    const mid = await post({ ...valid(), padding: 'x'.repeat(200_000) });
    expect(mid.status).toBe(400);
  });

  it('returns the same order for the same Idempotency-Key and body, 409 for another body', async () => {
    const body = valid();
    const key = uniqueName('idem');
    const first = await post(body, { 'idempotency-key': key });
    expect(first.status).toBe(202);
    const { orderId, status } = (await first.json()) as { orderId: string; status: string };
    expect(status).toBe('PENDING');
    const again = await post({ ...body }, { 'idempotency-key': key });
    expect(again.status).toBe(202);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(((await again.json()) as { orderId: string }).orderId).toBe(orderId);
    const other = await post({ ...body, channel: 'MOBILE_APP' }, { 'idempotency-key': key });
    expect(other.status).toBe(409);
  });

  it('answers 404 for an unknown order and serves the OpenAPI document from the DTOs', async () => {
    const missing = await fetch(`${endpoints.orders()}/orders/00000000-0000-4000-8000-000000000000`);
    expect(missing.status).toBe(404);
    const doc = (await (await fetch(`${endpoints.orders()}/docs/json`)).json()) as { paths: Record<string, unknown>; components: { schemas: Record<string, { required?: string[] }> } };
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/orders', '/orders/{id}', '/orders/{id}/review', '/orders/{id}/cancel']));
    expect(doc.components.schemas.PlaceOrderDto.required).toEqual(expect.arrayContaining(['customerId', 'currency', 'items', 'payment']));
  });
});

describe('stock levels', () => {
  it('keeps one compacted stock-level record per sku@warehouse and sums the warehouses in GET /stock/:sku', async () => {
    const sku = `${run}-multi-wh`;
    const put = (warehouseId: string, onHand: number) =>
      fetch(`${procs.inventory!.baseUrl}/stock/${sku}`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ warehouseId, onHand }) });
    expect((await put('WH-A', 7)).status).toBe(200);
    const second = await put('WH-B', 5);
    expect(second.status).toBe(200);
    expect(await second.json()).toEqual({ sku, onHand: 12, reserved: 0, available: 12 });
    const keys = (await readTopic(kafka, topics.stockLevel.name)).map((m) => m.key?.toString()).filter((k) => k?.startsWith(sku));
    expect(keys.sort()).toEqual([`${sku}@WH-A`, `${sku}@WH-B`]);
    const bad = await fetch(`${procs.inventory!.baseUrl}/stock/${sku}`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ warehouseId: 'WH-A', onHand: -1, extra: 1 }) });
    expect(bad.status).toBe(400);
  });
});

describe('pipeline', () => {
  it('dead-letters a poison record on orders.order-placed.v1 with its original bytes, and later orders on that partition complete', async () => {
    const catalog = await newCatalog('poison', 1);
    const partition = 2;
    const partitioner = Partitioners.DefaultPartitioner();
    const partitionMetadata = Array.from({ length: 6 }, (_, p) => ({ partitionId: p, leader: 0, partitionErrorCode: 0, replicas: [0], isr: [0] }));
    const partitionOf = (key: string) => partitioner({ topic: topics.orderPlaced.name, partitionMetadata, message: { key, value: null } });
    const poison = Buffer.from(`not an avro record ${run}`);
    const producer = kafka.producer({ idempotent: true, createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    await producer.send({ topic: topics.orderPlaced.name, acks: -1, messages: [{ key: `poison-${run}`, value: poison, partition }] });
    await producer.disconnect();

    // Orders whose ids hash to the poisoned partition, placed after the poison.
    const orders: PlannedOrder[] = [];
    for (let n = 0; orders.length < 5; n++) {
      const order = planOrder(run, 100_000 + n, 'valid', catalog);
      if (partitionOf(orderIdFor(order.idempotencyKey)) === partition) orders.push(order);
    }
    const observed = await pool(orders, 5, (o) => driveOrder(endpoints, o, FINAL_TIMEOUT_MS));
    expect(observed.map((o) => o.status)).toEqual(orders.map(() => 'CONFIRMED'));

    const dead = await waitFor(async () => {
      const records = (await readTopic(kafka, topics.orderPlaced.dlq)).filter((m) => m.key?.toString() === `poison-${run}`);
      return records.length >= 3 ? records : undefined;
    }, { timeoutMs: 60_000, what: 'three dead letters (order, inventory, fraud)' });
    expect(dead.map((m) => m.headers?.[DLQ_HEADERS.service]?.toString()).sort()).toEqual(['fraud-service', 'inventory-service', 'order-service']);
    for (const m of dead) {
      expect(m.value?.equals(poison)).toBe(true);
      expect(m.headers?.[DLQ_HEADERS.sourceTopic]?.toString()).toBe(topics.orderPlaced.name);
      expect(m.headers?.[DLQ_HEADERS.sourcePartition]?.toString()).toBe(String(partition));
    }
  });

  it('brings 2,000 mixed orders to exactly the final state computed from their inputs, once each', async () => {
    const catalog = await newCatalog('mix');
    const orders = planMix(`${run}-mix`, {
      valid: 1050,
      'valid-abroad': 100,
      'out-of-stock': 150,
      'partial-stock': 100,
      'fraud-decline': 150,
      'decline-and-oos': 50,
      'review-oos': 20,
      'review-approve': 90,
      'review-decline': 90,
      retried: 150,
      cancelled: 50,
    }, catalog);
    expect(orders).toHaveLength(2000);
    const observed = await pool(orders, 100, (o) => driveOrder(endpoints, o, FINAL_TIMEOUT_MS));
    await checkRun(orders, observed, catalog);
  });

  it('reserves exactly 100 units for 500 concurrent orders of one SKU with 100 in stock, on two inventory instances', async () => {
    const second = await start('inventory-service');
    procs.extra.push(second);
    // Both instances own tasks once the group has rebalanced.
    await waitFor(() => /"message":"tasks ready"/.test(second.output()), { timeoutMs: 90_000, what: 'second inventory instance owns tasks' });
    const catalog: Catalog = { plentiful: [`${run}-hot`], empty: `${run}-hot-EMPTY` };
    await putStock(catalog.plentiful[0], 100);
    await putStock(catalog.empty, 0);
    const orders = Array.from({ length: 500 }, (_, i) => {
      const order = planOrder(`${run}-hot`, i, 'valid', catalog);
      order.body.items = [{ sku: catalog.plentiful[0], quantity: 1, unitPrice: '10.00' }];
      return order;
    });
    const observed = await pool(orders, 100, (o) => driveOrder(endpoints, o, FINAL_TIMEOUT_MS));
    expect(observed.flatMap((o) => o.problems)).toEqual([]);
    expect(observed.filter((o) => o.status === 'CONFIRMED')).toHaveLength(100);
    expect(observed.filter((o) => o.status === 'REJECTED' && o.reasons.join() === 'OUT_OF_STOCK')).toHaveLength(400);
    const reserved = await countByKey(topics.stockReserved.name, new Set(observed.map((o) => o.orderId)));
    expect([...reserved.values()].reduce((a, b) => a + b, 0)).toBe(100);
    expect(await getStock(catalog.plentiful[0])).toEqual({ sku: catalog.plentiful[0], onHand: 100, reserved: 100, available: 0 });
    await second.stop();
    procs.extra = procs.extra.filter((p) => p !== second);
  });

  it('keeps fraud windows across a kill -9: a payment fingerprint shared by more customers than allowed stays flagged', async () => {
    const catalog = await newCatalog('fp', 1);
    const orders = Array.from({ length: 6 }, (_, i) => {
      const order = planOrder(`${run}-fp`, i, 'valid', catalog);
      order.body.payment.fingerprint = `fp-shared-${run}`;
      // More than 3 customers on one fingerprint in 24 h: +50, REVIEW; the reviewer declines.
      if (i >= 3) order.review = 'DECLINE';
      return order;
    });
    const observed: Observed[] = [];
    for (const [i, order] of orders.entries()) {
      // The last order is scored by a fraud-service that was killed and restored its windows from the changelog.
      if (i === orders.length - 1) await restart('fraud');
      observed.push(await driveOrder(endpoints, order, FINAL_TIMEOUT_MS));
    }
    expect(observed.flatMap((o) => o.problems)).toEqual([]);
    expect(observed.map((o) => [o.status, o.reasons.join()])).toEqual([
      ['CONFIRMED', ''],
      ['CONFIRMED', ''],
      ['CONFIRMED', ''],
      ['REJECTED', 'FRAUD_DECLINED'],
      ['REJECTED', 'FRAUD_DECLINED'],
      ['REJECTED', 'FRAUD_DECLINED'],
    ]);
  });

  it('reaches the same final states when inventory-service and fraud-service are killed -9 twice mid-run', async () => {
    const catalog = await newCatalog('kill');
    const orders = planMix(`${run}-kill`, {
      valid: 260,
      'out-of-stock': 40,
      'partial-stock': 30,
      'fraud-decline': 30,
      'review-approve': 15,
      'review-decline': 15,
      retried: 20,
      cancelled: 10,
    }, catalog);
    let accepted = 0;
    const driving = pool(orders, 32, (o) => driveOrder(endpoints, o, FINAL_TIMEOUT_MS, () => accepted++));
    await waitFor(() => accepted >= 100, { timeoutMs: 120_000, what: '100 orders accepted' });
    await Promise.all([restart('inventory'), restart('fraud')]);
    await waitFor(() => accepted >= 250, { timeoutMs: 120_000, what: '250 orders accepted' });
    await Promise.all([restart('inventory'), restart('fraud')]);
    const observed = await driving;
    await checkRun(orders, observed, catalog);
  });
});

describe('validation deadline', () => {
  it('rejects with TIMEOUT when fraud-service never answers, releases the reserved stock, and publishes the rejection once', async () => {
    // No fraud verdict can come: fraud-service is stopped, and order-service restarts with a short deadline.
    await Promise.all([procs.fraud!.stop(), procs.order!.stop()]);
    // Long enough for inventory to hold the stock first (its release is what this test is about), even on a busy box.
    procs.order = await start('order-service', { ORDER_VALIDATION_TIMEOUT_MS: '20000', ORDER_TIMEOUT_CHECK_MS: '250' });
    const catalog = await newCatalog('deadline', 1);
    const sku = catalog.plentiful[0];
    const orders = Array.from({ length: 3 }, (_, i) => {
      const order = planOrder(`${run}-deadline`, i, 'valid', catalog);
      order.body.items = [{ sku, quantity: 2 + i, unitPrice: '10.00' }];
      return order;
    });
    const observed = await pool(orders, 3, (o) => driveOrder(endpoints, o, FINAL_TIMEOUT_MS));
    expect(observed.flatMap((o) => o.problems)).toEqual([]);
    expect(observed.map((o) => [o.status, o.reasons.join()])).toEqual(orders.map(() => ['REJECTED', 'TIMEOUT']));
    const view = (await (await fetch(`${endpoints.orders()}/orders/${observed[0].orderId}`)).json()) as { reasons: { code: string; detail: string }[] };
    expect(view.reasons).toEqual([{ code: 'TIMEOUT', detail: 'no fraud verdict within 20000 ms' }]);

    // Stock was held for each order (one StockReserved), then given back (one StockReleased): nothing stays reserved.
    const ids = new Set(observed.map((o) => o.orderId));
    // inventory-service releases after it reads the rejection, so the release may follow the final state.
    await waitFor(async () => [...(await countByKey(topics.stockReleased.name, ids)).keys()].length === ids.size, {
      timeoutMs: 30_000,
      what: 'a StockReleased for every timed-out order',
    });
    const [reserved, released, rejected, confirmed] = await Promise.all(
      [topics.stockReserved, topics.stockReleased, topics.orderRejected, topics.orderConfirmed].map((t) => countByKey(t.name, ids)),
    );
    for (const id of ids) {
      expect({ id, reserved: reserved.get(id), released: released.get(id), rejected: rejected.get(id), confirmed: confirmed.get(id) }).toEqual({
        id,
        reserved: 1,
        released: 1,
        rejected: 1,
        confirmed: undefined,
      });
    }
    const level = await waitFor(async () => {
      const s = await getStock(sku);
      return s?.reserved === 0 ? s : undefined;
    }, { timeoutMs: 30_000, what: `${sku} reserved back to 0` });
    expect(level).toEqual({ sku, onHand: 1_000_000, reserved: 0, available: 1_000_000 });
  });
});
