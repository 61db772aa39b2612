/**
 * The three services' real handlers wired together over an in-memory bus: every topic a FIFO per
 * consumer (partition order kept), consumers interleaved at random (seeded), so the fan-in, the
 * reservations and the fraud stages see their inputs in many different orders. Same Given/When/Then
 * as the e2e run, in milliseconds, for thousands of interleavings.
 */
import { topics, type OrderPlaced } from '@app/contracts';
import type { HandlerContext, InboundRecord, OutboundRecord, StateStore } from '@app/runtime';
import { FraudHandlers } from '../../apps/fraud-service/src/rules/fraud.handlers';
import { loadFraudSettings } from '../../apps/fraud-service/src/rules/fraud-settings';
import { InventoryHandlers } from '../../apps/inventory-service/src/reservations/inventory.handlers';
import { loadInventorySettings } from '../../apps/inventory-service/src/reservations/inventory-settings';
import { SKU_REPLIES_TOPIC, SKU_REQUESTS_TOPIC } from '../../apps/inventory-service/src/reservations/inventory-topics';
import { BY_CUSTOMER_TOPIC, BY_FINGERPRINT_TOPIC, BY_SESSION_TOPIC } from '../../apps/fraud-service/src/rules/fraud.handlers';
import { OrderFanInHandlers } from '../../apps/order-service/src/orders/order-fan-in.handlers';
import { loadOrderSettings } from '../../apps/order-service/src/orders/order-settings';
import { buildOrderPlaced, orderIdFor } from '../../apps/order-service/src/orders/order-placement';
import { ORDER_COMMANDS_TOPIC, type OrderCommand } from '../../apps/order-service/src/orders/order-topics';
import type { PlaceOrderDto } from '../../apps/order-service/src/orders/dto/place-order.dto';
import { expectedOutcome, planMix, type Catalog } from './order-model';

class MemoryStore<V> implements StateStore<V> {
  readonly map = new Map<string, V>();
  get(key: string) {
    return this.map.get(key);
  }
  put(key: string, value: V) {
    // Like the changelog: only JSON survives.
    this.map.set(key, JSON.parse(JSON.stringify(value)) as V);
  }
  delete(key: string) {
    this.map.delete(key);
  }
  entries() {
    return [...this.map.entries()][Symbol.iterator]();
  }
}

type Handler = (record: InboundRecord<never>, ctx: HandlerContext) => void;

/** A seeded PRNG so a failing interleaving can be replayed. */
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32);
}

function pipeline(seed: number) {
  const orderSettings = loadOrderSettings({ ORDER_VALIDATION_TIMEOUT_MS: '600000' });
  const fanIn = new OrderFanInHandlers(orderSettings);
  const inventory = new InventoryHandlers(loadInventorySettings({}));
  const fraud = new FraudHandlers(loadFraudSettings({}));
  const stores = new Map<string, MemoryStore<unknown>>();
  const contextFor = (service: string): HandlerContext => ({
    emit: (record) => publish(record),
    store: <V>(name: string) => {
      const key = `${service}/${name}`;
      if (!stores.has(key)) stores.set(key, new MemoryStore());
      return stores.get(key) as MemoryStore<V>;
    },
  });
  const contexts = { order: contextFor('order'), inventory: contextFor('inventory'), fraud: contextFor('fraud') };
  const subscribers: Record<string, [keyof typeof contexts, Handler][]> = {
    [topics.orderPlaced.name]: [['order', fanIn.onOrderPlaced.bind(fanIn) as Handler], ['inventory', inventory.onOrderPlaced.bind(inventory) as Handler], ['fraud', fraud.onOrderPlaced.bind(fraud) as Handler]],
    [topics.stockReserved.name]: [['order', fanIn.onStockReserved.bind(fanIn) as Handler]],
    [topics.stockReservationRejected.name]: [['order', fanIn.onStockReservationRejected.bind(fanIn) as Handler]],
    [topics.fraudAssessed.name]: [['order', fanIn.onFraudAssessed.bind(fanIn) as Handler]],
    [ORDER_COMMANDS_TOPIC]: [['order', fanIn.onCommand.bind(fanIn) as Handler]],
    [topics.orderRejected.name]: [['inventory', inventory.onOrderRejected.bind(inventory) as Handler]],
    [topics.orderCancelled.name]: [['inventory', inventory.onOrderCancelled.bind(inventory) as Handler]],
    [SKU_REQUESTS_TOPIC]: [['inventory', inventory.onSkuRequest.bind(inventory) as Handler]],
    [SKU_REPLIES_TOPIC]: [['inventory', inventory.onSkuReply.bind(inventory) as Handler]],
    [BY_CUSTOMER_TOPIC]: [['fraud', fraud.onByCustomer.bind(fraud) as Handler]],
    [BY_FINGERPRINT_TOPIC]: [['fraud', fraud.onByFingerprint.bind(fraud) as Handler]],
    [BY_SESSION_TOPIC]: [['fraud', fraud.onBySession.bind(fraud) as Handler]],
  };
  const queues = new Map<string, { ctx: HandlerContext; handler: Handler; records: InboundRecord<never>[] }>();
  const published: OutboundRecord[] = [];
  let clock = Date.UTC(2026, 0, 1);
  let offset = 0;
  function publish(record: OutboundRecord): void {
    published.push(record);
    (subscribers[record.topic] ?? []).forEach(([service, handler], i) => {
      const id = `${record.topic}/${i}`;
      if (!queues.has(id)) queues.set(id, { ctx: contexts[service], handler, records: [] });
      queues.get(id)!.records.push({ topic: record.topic, partition: 0, offset: String(offset++), key: record.key, value: record.value as never, headers: record.headers ?? {}, timestamp: clock });
    });
  }
  const random = prng(seed);
  /** Delivers records (random consumer each time, FIFO within it) until `until` holds or nothing is left. */
  function drain(until: () => boolean = () => false): void {
    for (;;) {
      if (until()) return;
      const ready = [...queues.values()].filter((q) => q.records.length > 0);
      if (ready.length === 0) return;
      const q = ready[Math.floor(random() * ready.length)];
      clock += 1;
      q.handler(q.records.shift()!, q.ctx);
    }
  }
  const status = (orderId: string) => (stores.get('order/orders')?.get(orderId) as { status: string; reasons: { code: string }[] } | undefined);
  /** The fan-in's timeout punctuation at wall-clock time `at`. */
  const punctuate = (at: number) => fanIn.punctuate(contexts.order, at);
  /** Loses every record of a topic from now on (a service that never answers). */
  const silence = (topic: string) => delete subscribers[topic];
  return { publish, drain, published, status, stores, punctuate, silence, now: () => clock, timeoutMs: orderSettings.fanIn.validationTimeoutMs };
}

describe('the three services over an in-memory bus', () => {
  const catalog: Catalog = { plentiful: ['P0', 'P1', 'P2'], empty: 'EMPTY' };

  it.each([1, 2, 3, 4, 5])('every order ends as the model says, once, whatever the interleaving (seed %i)', (seed) => {
    const p = pipeline(seed);
    for (const sku of catalog.plentiful) p.publish({ topic: SKU_REQUESTS_TOPIC, key: sku, value: { type: 'SET_ON_HAND', sku, warehouseId: 'W1', onHand: 100_000, requestId: 'r' } });
    p.publish({ topic: SKU_REQUESTS_TOPIC, key: 'EMPTY', value: { type: 'SET_ON_HAND', sku: 'EMPTY', warehouseId: 'W1', onHand: 0, requestId: 'r' } });
    p.drain();
    const orders = planMix(`s${seed}`, { valid: 40, 'out-of-stock': 10, 'partial-stock': 10, 'fraud-decline': 10, 'decline-and-oos': 5, 'review-oos': 5, 'review-approve': 5, 'review-decline': 5, cancelled: 5, retried: 5 }, catalog);
    const ids = orders.map((o) => orderIdFor(o.idempotencyKey));
    orders.forEach((o, i) => {
      const event: OrderPlaced = buildOrderPlaced(o.body as unknown as PlaceOrderDto, ids[i], o.clientCountry ?? null, new Date(p.now()));
      // A retried request whose send timed out but landed: the same order twice on the topic.
      for (let copy = 0; copy < (o.retried ? 2 : 1); copy++) p.publish({ topic: topics.orderPlaced.name, key: ids[i], value: event });
      if (o.cancel) p.publish({ topic: ORDER_COMMANDS_TOPIC, key: ids[i], value: { commandId: `c${i}`, orderId: ids[i], type: 'CANCEL', reason: 'test' } satisfies OrderCommand });
    });
    p.drain();
    // Reviews: a human decides once the order is parked.
    orders.forEach((o, i) => {
      if (o.review && p.status(ids[i])?.status === 'REVIEW') {
        p.publish({ topic: ORDER_COMMANDS_TOPIC, key: ids[i], value: { commandId: `r${i}`, orderId: ids[i], type: 'REVIEW', decision: o.review } satisfies OrderCommand });
      }
    });
    p.drain();

    orders.forEach((o, i) => {
      const got = p.status(ids[i]);
      expect({ n: o.n, kind: o.kind, status: got?.status, reasons: got?.reasons.map((r) => r.code).sort() }).toEqual({ n: o.n, kind: o.kind, ...expectedOutcome(o, catalog) });
    });
    const finals = p.published.filter((r) => [topics.orderConfirmed.name, topics.orderRejected.name, topics.orderCancelled.name].includes(r.topic));
    for (const [i, id] of ids.entries()) {
      const mine = finals.filter((r) => r.key === id).map((r) => r.topic);
      const cancelled = orders[i].cancel;
      expect(mine.length === 1 || (cancelled && mine.join() === [topics.orderConfirmed.name, topics.orderCancelled.name].join())).toBe(true);
      expect(p.published.filter((r) => r.topic === topics.fraudAssessed.name && r.key === id)).toHaveLength(1);
    }
    // Stock held = what confirmed orders ordered; nothing negative.
    const ledgers = p.stores.get('inventory/skus')!;
    for (const sku of catalog.plentiful) {
      const ledger = ledgers.get(sku) as { onHand: Record<string, number>; holds: Record<string, { quantity: number }[]> };
      const held = Object.values(ledger.holds).flat().reduce((a, b) => a + b.quantity, 0);
      const want = orders
        .filter((_o, i) => p.status(ids[i])?.status === 'CONFIRMED')
        .flatMap((o) => o.body.items)
        .filter((it) => it.sku === sku)
        .reduce((a, b) => a + b.quantity, 0);
      expect({ sku, held }).toEqual({ sku, held: want });
    }
  });

  it('rejects with TIMEOUT when fraud never answers, and releases the stock that was held', () => {
    const p = pipeline(7);
    p.publish({ topic: SKU_REQUESTS_TOPIC, key: 'P0', value: { type: 'SET_ON_HAND', sku: 'P0', warehouseId: 'W1', onHand: 10, requestId: 'r' } });
    p.drain();
    p.silence(BY_CUSTOMER_TOPIC);
    const [order] = planMix('timeout', { valid: 1 }, { plentiful: ['P0'], empty: 'EMPTY' });
    const id = orderIdFor(order.idempotencyKey);
    const placedAt = p.now();
    p.publish({ topic: topics.orderPlaced.name, key: id, value: buildOrderPlaced(order.body as unknown as PlaceOrderDto, id, null, new Date(placedAt)) });
    p.drain();
    const ledger = () => p.stores.get('inventory/skus')!.get('P0') as { holds: Record<string, unknown> };
    expect(p.status(id)?.status).toBe('PENDING');
    expect(Object.keys(ledger().holds)).toEqual([id]);

    p.punctuate(placedAt + p.timeoutMs - 1);
    expect(p.status(id)?.status).toBe('PENDING');
    p.punctuate(placedAt + p.timeoutMs);
    p.drain();
    expect(p.status(id)).toMatchObject({ status: 'REJECTED', reasons: [{ code: 'TIMEOUT' }] });
    expect(Object.keys(ledger().holds)).toEqual([]);
    const released = p.published.filter((r) => r.topic === topics.stockReleased.name && r.key === id);
    expect(released.map((r) => (r.value as { reason: string }).reason)).toEqual(['RESERVATION_EXPIRED']);
    // A second punctuation publishes nothing more.
    const before = p.published.length;
    p.punctuate(placedAt + 2 * p.timeoutMs);
    expect(p.published.length).toBe(before);
  });
});
