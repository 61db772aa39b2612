import type { FraudSettings } from './fraud-settings';

/**
 * Fraud scoring over event-time windows. The windows live with the key they count (customer, payment
 * fingerprint, session), each owned by one task, so an order travels by-customer → by-fingerprint →
 * by-session and collects its features on the way; the last stage scores it. Every window is measured
 * from the order's own `occurredAt`, never the wall clock: replaying the same inputs in the same order
 * gives the same scores.
 */
export const HOUR_MS = 3_600_000;
export const DAY_MS = 24 * HOUR_MS;

/** What travels between the stages: the order's facts plus the features found so far. */
export interface FraudCase {
  orderId: string;
  customerId: string;
  correlationId: string;
  /** OrderPlaced.occurredAt (ms): the event time every window is measured from. */
  occurredAt: number;
  /** grandTotal in cents. */
  amountCents: number;
  currency: string;
  billingCountry: string;
  shippingCountry: string;
  clientIpCountry: string | null;
  fingerprint: string;
  sessionId: string | null;
  customer?: CustomerFeatures;
  fingerprintCustomers24h?: number;
  sessionOrders?: number;
}

export interface CustomerFeatures {
  orders1h: number;
  amount1hCents: number;
  orders24h: number;
  amount24hCents: number;
  firstOrder: boolean;
}

export interface CustomerWindow {
  /** Orders of the last 24 h of event time: [orderId, occurredAt, amountCents]. */
  orders: [string, number, number][];
  /** Whether the customer ever ordered before (outlives the window). */
  seen: boolean;
}

export interface FingerprintWindow {
  /** [customerId, occurredAt] of the last 24 h. */
  uses: [string, number][];
}

export interface SessionWindow {
  /** [orderId, occurredAt] within the burst window. */
  orders: [string, number][];
}

export interface Observed<S, F> {
  state: S;
  features: F;
  /** The same order seen again (a retried publish): it must not count twice nor be scored twice. */
  duplicate: boolean;
}

/** Counts within (t - window, t]: later events (arriving out of order) never count for an earlier order. */
function within(at: number, t: number, windowMs: number): boolean {
  return at > t - windowMs && at <= t;
}

export function observeCustomer(window: CustomerWindow | undefined, order: FraudCase): Observed<CustomerWindow, CustomerFeatures> {
  const current = window ?? { orders: [], seen: false };
  const duplicate = current.orders.some(([id]) => id === order.orderId);
  const t = order.occurredAt;
  const orders: [string, number, number][] = duplicate ? current.orders : [...current.orders, [order.orderId, t, order.amountCents]];
  const features: CustomerFeatures = { orders1h: 0, amount1hCents: 0, orders24h: 0, amount24hCents: 0, firstOrder: !current.seen };
  for (const [, at, cents] of orders) {
    if (within(at, t, HOUR_MS)) {
      features.orders1h++;
      features.amount1hCents += cents;
    }
    if (within(at, t, DAY_MS)) {
      features.orders24h++;
      features.amount24hCents += cents;
    }
  }
  // Keep only what a later order can still count (bounded by 24 h of this customer's orders).
  const newest = Math.max(...orders.map(([, at]) => at));
  return { state: { orders: orders.filter(([, at]) => at > newest - DAY_MS), seen: true }, features, duplicate };
}

export function observeFingerprint(window: FingerprintWindow | undefined, order: FraudCase): Observed<FingerprintWindow, number> {
  const current = window ?? { uses: [] };
  const duplicate = current.uses.some(([customer, at]) => customer === order.customerId && at === order.occurredAt);
  const uses: [string, number][] = duplicate ? current.uses : [...current.uses, [order.customerId, order.occurredAt]];
  const customers = new Set(uses.filter(([, at]) => within(at, order.occurredAt, DAY_MS)).map(([customer]) => customer));
  const newest = Math.max(...uses.map(([, at]) => at));
  return { state: { uses: uses.filter(([, at]) => at > newest - DAY_MS) }, features: customers.size, duplicate };
}

export function observeSession(window: SessionWindow | undefined, order: FraudCase, windowMs: number): Observed<SessionWindow, number> {
  const current = window ?? { orders: [] };
  const duplicate = current.orders.some(([id]) => id === order.orderId);
  const orders: [string, number][] = duplicate ? current.orders : [...current.orders, [order.orderId, order.occurredAt]];
  const count = orders.filter(([, at]) => within(at, order.occurredAt, windowMs)).length;
  const newest = Math.max(...orders.map(([, at]) => at));
  return { state: { orders: orders.filter(([, at]) => at > newest - windowMs) }, features: count, duplicate };
}

export interface RuleHit {
  ruleId: string;
  points: number;
  detail: string;
}

export interface Assessment {
  score: number;
  decision: 'APPROVE' | 'REVIEW' | 'DECLINE';
  reasons: RuleHit[];
  ruleVersions: Record<string, string>;
}

/** Points per rule: part of the rule's version string, so a change shows in every assessment. */
export const RULE_POINTS = {
  CUSTOMER_ORDERS_1H: 20,
  CUSTOMER_AMOUNT_1H: 20,
  CUSTOMER_ORDERS_24H: 15,
  CUSTOMER_AMOUNT_24H: 15,
  FINGERPRINT_MANY_CUSTOMERS: 50,
  GEO_MISMATCH_TWO: 30,
  GEO_MISMATCH_THREE: 60,
  FIRST_ORDER_HIGH_VALUE: 40,
  SESSION_BURST: 40,
} as const;

const money = (cents: number): string => (cents / 100).toFixed(2);

/** The version of every rule, thresholds included, as `FraudAssessed.ruleVersions` records them. */
export function ruleVersions(s: FraudSettings): Record<string, string> {
  const v = s.rulesetVersion;
  const p = RULE_POINTS;
  return {
    CUSTOMER_ORDERS_1H: `${v};max=${s.maxOrders1h};points=${p.CUSTOMER_ORDERS_1H}`,
    CUSTOMER_AMOUNT_1H: `${v};max=${s.maxAmount1h};points=${p.CUSTOMER_AMOUNT_1H}`,
    CUSTOMER_ORDERS_24H: `${v};max=${s.maxOrders24h};points=${p.CUSTOMER_ORDERS_24H}`,
    CUSTOMER_AMOUNT_24H: `${v};max=${s.maxAmount24h};points=${p.CUSTOMER_AMOUNT_24H}`,
    FINGERPRINT_MANY_CUSTOMERS: `${v};max=${s.maxCustomersPerFingerprint24h};points=${p.FINGERPRINT_MANY_CUSTOMERS}`,
    GEO_MISMATCH: `${v};points=${p.GEO_MISMATCH_TWO}/${p.GEO_MISMATCH_THREE}`,
    FIRST_ORDER_HIGH_VALUE: `${v};basket=${s.usualBasket};multiplier=${s.firstOrderMultiplier};points=${p.FIRST_ORDER_HIGH_VALUE}`,
    SESSION_BURST: `${v};max=${s.sessionBurstMaxOrders};windowMs=${s.sessionBurstWindowMs};points=${p.SESSION_BURST}`,
    DECISION: `${v};review=${s.reviewScore};decline=${s.declineScore}`,
  };
}

/** Scores an order from its collected features. Pure: same case and settings, same assessment. */
export function assess(order: FraudCase, s: FraudSettings): Assessment {
  const hits: RuleHit[] = [];
  const hit = (ruleId: string, points: number, detail: string) => hits.push({ ruleId, points, detail });
  const c = order.customer;
  if (c) {
    if (c.orders1h > s.maxOrders1h) hit('CUSTOMER_ORDERS_1H', RULE_POINTS.CUSTOMER_ORDERS_1H, `${c.orders1h} orders in 1 h (max ${s.maxOrders1h})`);
    if (c.amount1hCents > s.maxAmount1h * 100) hit('CUSTOMER_AMOUNT_1H', RULE_POINTS.CUSTOMER_AMOUNT_1H, `${money(c.amount1hCents)} in 1 h (max ${s.maxAmount1h})`);
    if (c.orders24h > s.maxOrders24h) hit('CUSTOMER_ORDERS_24H', RULE_POINTS.CUSTOMER_ORDERS_24H, `${c.orders24h} orders in 24 h (max ${s.maxOrders24h})`);
    if (c.amount24hCents > s.maxAmount24h * 100) hit('CUSTOMER_AMOUNT_24H', RULE_POINTS.CUSTOMER_AMOUNT_24H, `${money(c.amount24hCents)} in 24 h (max ${s.maxAmount24h})`);
    const limit = s.usualBasket * s.firstOrderMultiplier * 100;
    if (c.firstOrder && order.amountCents > limit) {
      hit('FIRST_ORDER_HIGH_VALUE', RULE_POINTS.FIRST_ORDER_HIGH_VALUE, `first order of ${money(order.amountCents)} > ${s.firstOrderMultiplier} x usual basket ${s.usualBasket}`);
    }
  }
  const fp = order.fingerprintCustomers24h ?? 0;
  if (fp > s.maxCustomersPerFingerprint24h) {
    hit('FINGERPRINT_MANY_CUSTOMERS', RULE_POINTS.FINGERPRINT_MANY_CUSTOMERS, `${fp} customers used this payment in 24 h (max ${s.maxCustomersPerFingerprint24h})`);
  }
  const countries = [order.billingCountry, order.shippingCountry, ...(order.clientIpCountry ? [order.clientIpCountry] : [])];
  const distinct = new Set(countries).size;
  if (distinct >= 2) {
    const detail = `billing ${order.billingCountry}, shipping ${order.shippingCountry}, ip ${order.clientIpCountry ?? 'unknown'}`;
    hit('GEO_MISMATCH', distinct >= 3 ? RULE_POINTS.GEO_MISMATCH_THREE : RULE_POINTS.GEO_MISMATCH_TWO, detail);
  }
  const burst = order.sessionOrders ?? 0;
  if (burst > s.sessionBurstMaxOrders) {
    hit('SESSION_BURST', RULE_POINTS.SESSION_BURST, `${burst} orders from one session in ${s.sessionBurstWindowMs / 1000} s (max ${s.sessionBurstMaxOrders})`);
  }
  const score = Math.min(100, hits.reduce((sum, h) => sum + h.points, 0));
  const decision = score >= s.declineScore ? 'DECLINE' : score >= s.reviewScore ? 'REVIEW' : 'APPROVE';
  return { score, decision, reasons: hits, ruleVersions: ruleVersions(s) };
}
