import { randomUUID } from 'node:crypto';

/**
 * The demo traffic `npm start` sends: mostly valid orders, plus the cases the pipeline must handle —
 * out-of-stock lines, fraud patterns, client retries with the same Idempotency-Key, cancels and review
 * decisions. It follows each order to its final state through the public HTTP API, like a client would.
 */
export type OrderKind = 'valid' | 'out-of-stock' | 'fraud' | 'retried' | 'cancelled';

export interface TrafficStats {
  placed: number;
  finals: Record<string, number>;
  reasons: Record<string, number>;
  inReview: number;
  inFlight: number;
  httpErrors: number;
  lastError?: string;
  /** POST → final state latencies (ms) of the last orders, for p50/p99. */
  latencies: number[];
  /** Wall-clock times of final states, for throughput over the last seconds. */
  finalTimes: number[];
}

export interface TrafficOptions {
  orderServiceUrl: string;
  inventoryServiceUrl: string;
  ratePerSecond: number;
}

const PLENTIFUL_SKUS = Array.from({ length: 12 }, (_, i) => `DEMO-SKU-${String(i + 1).padStart(3, '0')}`);
const SCARCE_SKU = 'DEMO-SKU-SCARCE';
const KIND_WEIGHTS: [OrderKind, number][] = [
  ['valid', 0.74],
  ['out-of-stock', 0.08],
  ['fraud', 0.08],
  ['retried', 0.06],
  ['cancelled', 0.04],
];
const LATENCY_WINDOW = 2000;

function pick<T>(items: readonly T[]): T {
  return items[Math.floor(Math.random() * items.length)];
}

function pickKind(): OrderKind {
  let r = Math.random();
  for (const [kind, weight] of KIND_WEIGHTS) {
    if ((r -= weight) < 0) return kind;
  }
  return 'valid';
}

function orderBody(kind: OrderKind): Record<string, unknown> {
  const customer = kind === 'fraud' ? `demo-fraud-${randomUUID().slice(0, 4)}` : `demo-customer-${Math.floor(Math.random() * 400)}`;
  const line =
    kind === 'out-of-stock'
      ? { sku: SCARCE_SKU, quantity: 5, unitPrice: '19.99' }
      : { sku: pick(PLENTIFUL_SKUS), quantity: 1 + Math.floor(Math.random() * 3), unitPrice: pick(['9.99', '24.50', '59.00', '120.00']) };
  const items = kind === 'fraud' ? [{ ...line, quantity: 3, unitPrice: '2499.00' }] : [line];
  return {
    customerId: customer,
    currency: 'EUR',
    items,
    shippingCountry: kind === 'fraud' ? 'BR' : 'DE',
    billingCountry: 'DE',
    payment: { type: 'CARD', fingerprint: kind === 'fraud' ? 'fp_shared_stolen' : `fp_${customer}` },
    channel: pick(['WEB', 'MOBILE_APP']),
    sessionId: `demo-session-${randomUUID().slice(0, 8)}`,
  };
}

export class TrafficGenerator {
  readonly stats: TrafficStats = { placed: 0, finals: {}, reasons: {}, inReview: 0, inFlight: 0, httpErrors: 0, latencies: [], finalTimes: [] };
  private timer?: NodeJS.Timeout;
  private stopped = false;
  private readonly pending = new Set<Promise<void>>();

  constructor(private readonly options: TrafficOptions) {}

  /** Puts stock on the demo SKUs (one scarce SKU makes out-of-stock rejections), then sends orders at the rate. */
  async start(): Promise<void> {
    for (const sku of PLENTIFUL_SKUS) await this.putStock(sku, 1_000_000);
    await this.putStock(SCARCE_SKU, 3);
    const intervalMs = Math.max(10, Math.round(1000 / this.options.ratePerSecond));
    this.timer = setInterval(() => this.track(this.placeOne(pickKind())), intervalMs);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await Promise.race([Promise.allSettled([...this.pending]), new Promise((r) => setTimeout(r, 2000))]);
  }

  private track(work: Promise<void>): void {
    this.pending.add(work);
    void work.finally(() => this.pending.delete(work));
  }

  private async putStock(sku: string, onHand: number): Promise<void> {
    const res = await fetch(`${this.options.inventoryServiceUrl}/stock/${encodeURIComponent(sku)}`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ warehouseId: 'demo-warehouse', onHand }),
    });
    if (!res.ok) throw new Error(`PUT /stock/${sku} answered ${res.status}: ${await res.text()}`);
  }

  private async placeOne(kind: OrderKind): Promise<void> {
    const body = JSON.stringify(orderBody(kind));
    const idempotencyKey = randomUUID();
    const started = Date.now();
    this.stats.inFlight++;
    try {
      const orderId = await this.post(body, idempotencyKey);
      if (orderId === undefined) return;
      this.stats.placed++;
      if (kind === 'retried') {
        // A client that lost the answer retries with the same key: it must get the same order back.
        const again = await this.post(body, idempotencyKey);
        if (again !== undefined && again !== orderId) this.fail(`retry returned ${again}, expected ${orderId}`);
      }
      if (kind === 'cancelled') await this.command(`/orders/${orderId}/cancel`, {});
      await this.followToFinal(orderId, started);
    } catch (err) {
      this.fail((err as Error).message);
    } finally {
      this.stats.inFlight--;
    }
  }

  private async post(body: string, idempotencyKey: string): Promise<string | undefined> {
    const res = await fetch(`${this.options.orderServiceUrl}/orders`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'idempotency-key': idempotencyKey, 'x-client-country': 'DE' },
      body,
    });
    if (res.status !== 202 && res.status !== 200) {
      this.fail(`POST /orders answered ${res.status}: ${(await res.text()).slice(0, 120)}`);
      return undefined;
    }
    return ((await res.json()) as { orderId: string }).orderId;
  }

  private async command(path: string, payload: object): Promise<void> {
    const res = await fetch(`${this.options.orderServiceUrl}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(payload),
    });
    // 409: the order was already final (e.g. confirmed before the cancel arrived) — a normal race.
    if (!res.ok && res.status !== 409) this.fail(`POST ${path} answered ${res.status}`);
  }

  private async followToFinal(orderId: string, started: number): Promise<void> {
    let reviewed = false;
    while (!this.stopped) {
      const res = await fetch(`${this.options.orderServiceUrl}/orders/${orderId}?waitForFinal=true&timeoutMs=20000`);
      if (!res.ok) {
        this.fail(`GET /orders/${orderId} answered ${res.status}`);
        return;
      }
      const order = (await res.json()) as { status: string; reasons?: { code: string }[] };
      if (order.status === 'REVIEW' && !reviewed) {
        // A human would look at it; the demo approves half and declines the rest after a pause.
        reviewed = true;
        this.stats.inReview++;
        await new Promise((r) => setTimeout(r, 3000));
        this.stats.inReview--;
        await this.command(`/orders/${orderId}/review`, { decision: Math.random() < 0.5 ? 'APPROVE' : 'DECLINE' });
        continue;
      }
      if (order.status === 'PENDING' || order.status === 'REVIEW') continue;
      this.stats.finals[order.status] = (this.stats.finals[order.status] ?? 0) + 1;
      for (const reason of order.reasons ?? []) this.stats.reasons[reason.code] = (this.stats.reasons[reason.code] ?? 0) + 1;
      const now = Date.now();
      this.stats.latencies.push(now - started);
      this.stats.finalTimes.push(now);
      if (this.stats.latencies.length > LATENCY_WINDOW) this.stats.latencies.splice(0, this.stats.latencies.length - LATENCY_WINDOW);
      while (this.stats.finalTimes.length && this.stats.finalTimes[0] < now - 10_000) this.stats.finalTimes.shift();
      return;
    }
  }

  private fail(message: string): void {
    this.stats.httpErrors++;
    this.stats.lastError = message;
  }
}
