import { randomUUID } from 'node:crypto';

/**
 * The test's own model of the pipeline: it generates orders of known kinds and computes each order's
 * final state from its inputs alone (stock on hand, countries, amount, the client's review decision or
 * cancel), without using any service code. Every order has its own customer, payment fingerprint and
 * session, so only the per-order fraud rules (country mismatch, a first order far above the usual
 * basket) can fire; the window rules are covered by the fraud-service's unit tests.
 */
export type Kind =
  | 'valid'
  | 'valid-abroad'
  | 'out-of-stock'
  | 'partial-stock'
  | 'fraud-decline'
  | 'decline-and-oos'
  | 'review-oos'
  | 'review-approve'
  | 'review-decline'
  | 'retried'
  | 'cancelled';

export interface OrderBody {
  customerId: string;
  currency: string;
  items: { sku: string; quantity: number; unitPrice: string }[];
  shippingCountry: string;
  billingCountry: string;
  payment: { type: string; fingerprint: string };
  channel: string;
  sessionId: string;
}

export interface PlannedOrder {
  n: number;
  kind: Kind;
  body: OrderBody;
  clientCountry?: string;
  idempotencyKey: string;
  review?: 'APPROVE' | 'DECLINE';
  cancel: boolean;
  /** Same key and body sent again: two at once, then one more. */
  retried: boolean;
  /** Same key with another body: must be 409. */
  conflictingRetry: boolean;
}

export interface Expected {
  status: 'CONFIRMED' | 'REJECTED' | 'CANCELLED';
  reasons: string[];
}

export interface Catalog {
  /** SKUs with far more stock than the run can order. */
  plentiful: string[];
  /** A SKU with nothing on hand. */
  empty: string;
}

const PRICES = ['9.99', '24.50', '59.00', '12.00'];

function cents(price: string): number {
  const [whole, fraction = ''] = price.split('.');
  return Number(whole) * 100 + Number(fraction.padEnd(2, '0'));
}

/** The fraud decision the rules must reach for an order of a fresh customer, fingerprint and session. */
export function expectedFraud(order: PlannedOrder): 'APPROVE' | 'REVIEW' | 'DECLINE' {
  const b = order.body;
  const countries = new Set([b.billingCountry, b.shippingCountry, ...(order.clientCountry ? [order.clientCountry] : [])]).size;
  let score = countries >= 3 ? 60 : countries === 2 ? 30 : 0;
  const total = b.items.reduce((sum, i) => sum + cents(i.unitPrice) * i.quantity, 0);
  if (total > 150 * 5 * 100) score += 40; // first order above 5 x the usual basket of 150
  return score >= 80 ? 'DECLINE' : score >= 50 ? 'REVIEW' : 'APPROVE';
}

export function expectedOutcome(order: PlannedOrder, catalog: Catalog): Expected {
  if (order.cancel) return { status: 'CANCELLED', reasons: ['CANCELLED'] };
  const stockOk = order.body.items.every((i) => catalog.plentiful.includes(i.sku));
  const fraud = expectedFraud(order);
  const reasons: string[] = [];
  if (!stockOk) reasons.push('OUT_OF_STOCK');
  if (fraud === 'DECLINE') reasons.push('FRAUD_DECLINED');
  if (fraud === 'REVIEW' && !stockOk) reasons.push('FRAUD_REVIEW');
  if (fraud === 'REVIEW' && stockOk && order.review === 'DECLINE') reasons.push('FRAUD_DECLINED');
  return reasons.length > 0 ? { status: 'REJECTED', reasons: reasons.sort() } : { status: 'CONFIRMED', reasons: [] };
}

function pick<T>(items: readonly T[], n: number): T {
  return items[n % items.length];
}

/** One order of `kind`; `n` makes every choice deterministic. */
export function planOrder(run: string, n: number, kind: Kind, catalog: Catalog): PlannedOrder {
  const id = `${run}-${n}`;
  const plentifulLines = Array.from({ length: 1 + (n % 3) }, (_, i) => ({
    sku: pick(catalog.plentiful, n + i),
    quantity: 1 + ((n + i) % 3),
    unitPrice: pick(PRICES, n + i),
  }));
  const emptyLine = { sku: catalog.empty, quantity: 1 + (n % 2), unitPrice: '19.90' };
  const bigLine = { sku: pick(catalog.plentiful, n), quantity: 2, unitPrice: '450.00' };
  const home = pick(['DE', 'AT', 'NL', 'FR'], n);
  const abroad = home === 'FR' ? 'ES' : 'FR';
  const body: OrderBody = {
    customerId: `cust-${id}`,
    currency: 'EUR',
    items: plentifulLines,
    shippingCountry: home,
    billingCountry: home,
    payment: { type: pick(['CARD', 'PAYPAL', 'APPLE_PAY'], n), fingerprint: `fp-${id}` },
    channel: pick(['WEB', 'MOBILE_APP'], n),
    sessionId: `sess-${id}`,
  };
  let clientCountry: string | undefined = n % 5 === 0 ? undefined : home;
  const threeCountries = () => {
    body.shippingCountry = abroad;
    clientCountry = 'BR';
  };
  const order = (): PlannedOrder => ({ n, kind, body, clientCountry, idempotencyKey: `key-${id}-${randomUUID()}`, cancel: false, retried: false, conflictingRetry: false });
  switch (kind) {
    case 'valid':
      return order();
    case 'valid-abroad':
      body.shippingCountry = abroad;
      clientCountry = home;
      return order();
    case 'out-of-stock':
      body.items = [emptyLine];
      return order();
    case 'partial-stock':
      body.items = [...plentifulLines, emptyLine];
      return order();
    case 'fraud-decline':
      body.items = [bigLine];
      threeCountries();
      return order();
    case 'decline-and-oos':
      body.items = [bigLine, emptyLine];
      threeCountries();
      return order();
    case 'review-oos':
      body.items = [emptyLine];
      threeCountries();
      return order();
    case 'review-approve':
      threeCountries();
      return { ...order(), review: 'APPROVE' };
    case 'review-decline':
      threeCountries();
      return { ...order(), review: 'DECLINE' };
    case 'retried':
      return { ...order(), retried: true, conflictingRetry: n % 3 === 0 };
    case 'cancelled':
      return { ...order(), cancel: true };
  }
}

/** A shuffled mix of kinds (deterministic), `counts` per kind. */
export function planMix(run: string, counts: Partial<Record<Kind, number>>, catalog: Catalog): PlannedOrder[] {
  const kinds = Object.entries(counts).flatMap(([kind, count]) => Array.from({ length: count ?? 0 }, () => kind as Kind));
  // Interleave deterministically so every kind is spread over the whole run.
  const order = kinds.map((kind, i) => ({ kind, rank: (i * 7919) % kinds.length }));
  order.sort((a, b) => a.rank - b.rank);
  return order.map(({ kind }, n) => planOrder(run, n, kind, catalog));
}
