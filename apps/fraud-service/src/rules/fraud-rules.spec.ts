import { assess, HOUR_MS, observeCustomer, observeFingerprint, observeSession, type CustomerWindow, type FingerprintWindow, type FraudCase, type SessionWindow } from './fraud-rules';
import { loadFraudSettings } from './fraud-settings';

const settings = loadFraudSettings({});
const T0 = Date.UTC(2026, 0, 1, 12);

function order(overrides: Partial<FraudCase> = {}): FraudCase {
  return {
    orderId: 'o1',
    customerId: 'c1',
    correlationId: 'o1',
    occurredAt: T0,
    amountCents: 2500,
    currency: 'EUR',
    billingCountry: 'DE',
    shippingCountry: 'DE',
    clientIpCountry: 'DE',
    fingerprint: 'fp1',
    sessionId: 's1',
    ...overrides,
  };
}

/** Runs orders through the three stages like the service does, then scores each. */
function pipeline(orders: FraudCase[]) {
  const customers = new Map<string, CustomerWindow>();
  const fingerprints = new Map<string, FingerprintWindow>();
  const sessions = new Map<string, SessionWindow>();
  return orders.map((o) => {
    const c = observeCustomer(customers.get(o.customerId), o);
    customers.set(o.customerId, c.state);
    const f = observeFingerprint(fingerprints.get(o.fingerprint), o);
    fingerprints.set(o.fingerprint, f.state);
    const s = observeSession(sessions.get(o.sessionId!), o, settings.sessionBurstWindowMs);
    sessions.set(o.sessionId!, s.state);
    return assess({ ...o, customer: c.features, fingerprintCustomers24h: f.features, sessionOrders: s.features }, settings);
  });
}

describe('fraud rules', () => {
  it.each([
    ['an ordinary first order', order(), 0, 'APPROVE', []],
    ['shipping abroad', order({ shippingCountry: 'FR' }), 30, 'APPROVE', ['GEO_MISMATCH']],
    ['three countries', order({ shippingCountry: 'FR', clientIpCountry: 'BR' }), 60, 'REVIEW', ['GEO_MISMATCH']],
    ['no IP country known, two agree', order({ clientIpCountry: null }), 0, 'APPROVE', []],
    // 800.00 is over 5 x the usual basket of 150 but under the 1 h amount limit.
    ['a first order far above the usual basket', order({ amountCents: 80_000 }), 40, 'APPROVE', ['FIRST_ORDER_HIGH_VALUE']],
    ['three countries and a huge first order', order({ shippingCountry: 'FR', clientIpCountry: 'BR', amountCents: 100_000 }), 100, 'DECLINE', ['FIRST_ORDER_HIGH_VALUE', 'GEO_MISMATCH']],
  ] as [string, FraudCase, number, string, string[]][])('given %s, the score and decision follow the rules that fire', (_case, o, score, decision, rules) => {
    const [result] = pipeline([o]);
    expect(result).toMatchObject({ score, decision });
    expect(result.reasons.map((r) => r.ruleId)).toEqual(rules);
  });

  it('counts orders and amount per customer in 1 h and 24 h of event time', () => {
    const orders = Array.from({ length: 12 }, (_, i) => order({ orderId: `o${i}`, sessionId: `s${i}`, occurredAt: T0 + i * 60_000, amountCents: 50_000 }));
    const results = pipeline(orders);
    // 11th order: 11 orders > 10 in 1 h; amount 5,500 > 5,000 already from the 11th.
    expect(results[10].reasons.map((r) => r.ruleId)).toEqual(['CUSTOMER_ORDERS_1H', 'CUSTOMER_AMOUNT_1H']);
    expect(results[9].reasons.map((r) => r.ruleId)).toEqual([]);
  });

  it('forgets orders older than the window (event time, not arrival)', () => {
    const early = Array.from({ length: 11 }, (_, i) => order({ orderId: `e${i}`, sessionId: `s${i}`, occurredAt: T0 + i }));
    const later = order({ orderId: 'late', occurredAt: T0 + HOUR_MS + 100 });
    const results = pipeline([...early, later]);
    expect(results[10].reasons.map((r) => r.ruleId)).toContain('CUSTOMER_ORDERS_1H');
    expect(results[11].reasons.map((r) => r.ruleId)).not.toContain('CUSTOMER_ORDERS_1H');
  });

  it('flags a payment fingerprint used by more than 3 customers in 24 h', () => {
    const orders = ['a', 'b', 'c', 'd', 'e'].map((c, i) => order({ orderId: `o${c}`, customerId: c, sessionId: c, occurredAt: T0 + i }));
    const results = pipeline(orders);
    expect(results.map((r) => r.reasons.some((h) => h.ruleId === 'FINGERPRINT_MANY_CUSTOMERS'))).toEqual([false, false, false, true, true]);
    expect(results[4]).toMatchObject({ score: 50, decision: 'REVIEW' });
  });

  it('flags a burst of orders from one session', () => {
    const orders = [0, 1, 2, 3].map((i) => order({ orderId: `o${i}`, customerId: `c${i}`, fingerprint: `f${i}`, occurredAt: T0 + i * 1000 }));
    const results = pipeline(orders);
    expect(results.map((r) => r.score)).toEqual([0, 0, 0, 40]);
  });

  it('does not count a repeated order twice', () => {
    const c = observeCustomer(undefined, order());
    const again = observeCustomer(c.state, order());
    expect(again.duplicate).toBe(true);
    expect(again.features.orders1h).toBe(1);
  });

  it('gives the same decisions when the same input is replayed, whatever the wall clock says', () => {
    const orders = Array.from({ length: 40 }, (_, i) =>
      order({ orderId: `o${i}`, customerId: `c${i % 4}`, fingerprint: `f${i % 3}`, sessionId: `s${i % 5}`, occurredAt: T0 + i * 30_000, amountCents: 10_000 + i * 3_000 }),
    );
    const first = pipeline(orders);
    const realNow = Date.now;
    Date.now = () => T0 + 10 * 24 * HOUR_MS;
    try {
      expect(pipeline(orders)).toEqual(first);
    } finally {
      Date.now = realNow;
    }
  });

  it('records every rule version with its thresholds', () => {
    const [result] = pipeline([order()]);
    expect(result.ruleVersions.FINGERPRINT_MANY_CUSTOMERS).toBe('v1;max=3;points=50');
    expect(result.ruleVersions.DECISION).toBe('v1;review=50;decline=80');
  });

  it('names each bad threshold variable', () => {
    expect(() => loadFraudSettings({ FRAUD_REVIEW_SCORE: '90', FRAUD_MAX_ORDERS_1H: 'many' })).toThrow(/FRAUD_MAX_ORDERS_1H/);
    expect(() => loadFraudSettings({ FRAUD_REVIEW_SCORE: '90' })).toThrow(/FRAUD_REVIEW_SCORE/);
  });
});
