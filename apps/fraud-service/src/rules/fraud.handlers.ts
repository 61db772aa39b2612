import { createHash } from 'node:crypto';
import { toUnscaledCents } from './money';
import { topics, type FraudAssessed, type OrderPlaced } from '@app/contracts';
import { NonRetriableError, type HandlerContext, type InboundRecord } from '@app/runtime';
import { assess, observeCustomer, observeFingerprint, observeSession, type CustomerWindow, type FingerprintWindow, type FraudCase, type SessionWindow } from './fraud-rules';
import type { FraudSettings } from './fraud-settings';

export const SERVICE = 'fraud-service';

/**
 * Repartition topics (JSON): each window has one writer, the task that owns its key's partition.
 * An order visits customer → fingerprint → session, collecting features, and is scored at the end.
 */
export const BY_CUSTOMER_TOPIC = 'fraud-service.by-customer';
export const BY_FINGERPRINT_TOPIC = 'fraud-service.by-fingerprint';
export const BY_SESSION_TOPIC = 'fraud-service.by-session';
export const FRAUD_PARTITIONS = 6;

export const CUSTOMERS_STORE = 'customers';
export const FINGERPRINTS_STORE = 'fingerprints';
export const SESSIONS_STORE = 'sessions';

function deterministicId(input: string): string {
  const hex = createHash('sha256').update(input).digest('hex');
  const variant = ((parseInt(hex[16], 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

function checkCase(value: FraudCase): FraudCase {
  if (!value || typeof value.orderId !== 'string' || typeof value.customerId !== 'string' || typeof value.occurredAt !== 'number') {
    throw new NonRetriableError('fraud case without orderId, customerId or occurredAt');
  }
  return value;
}

export class FraudHandlers {
  constructor(private readonly settings: FraudSettings) {}

  /** Stage 0 (keyed by orderId): no state, only moves the order to its customer's partition. */
  onOrderPlaced(record: InboundRecord<OrderPlaced>, ctx: HandlerContext): void {
    const o = record.value;
    const order: FraudCase = {
      orderId: o.orderId,
      customerId: o.customerId,
      correlationId: o.correlationId,
      occurredAt: o.occurredAt.getTime(),
      amountCents: toUnscaledCents(o.grandTotal),
      currency: o.currency,
      billingCountry: o.billingCountry,
      shippingCountry: o.shippingCountry,
      clientIpCountry: o.clientIpCountry,
      fingerprint: o.payment.fingerprint,
      sessionId: o.sessionId,
    };
    ctx.emit({ topic: BY_CUSTOMER_TOPIC, key: order.customerId, value: order });
  }

  onByCustomer(record: InboundRecord<FraudCase>, ctx: HandlerContext): void {
    const order = checkCase(record.value);
    const store = ctx.store<CustomerWindow>(CUSTOMERS_STORE);
    const seen = observeCustomer(store.get(order.customerId), order);
    if (seen.duplicate) return; // the same order again (a retried publish): already on its way
    store.put(order.customerId, seen.state);
    ctx.emit({ topic: BY_FINGERPRINT_TOPIC, key: order.fingerprint, value: { ...order, customer: seen.features } });
  }

  onByFingerprint(record: InboundRecord<FraudCase>, ctx: HandlerContext): void {
    const order = checkCase(record.value);
    const store = ctx.store<FingerprintWindow>(FINGERPRINTS_STORE);
    const seen = observeFingerprint(store.get(order.fingerprint), order);
    store.put(order.fingerprint, seen.state);
    const next = { ...order, fingerprintCustomers24h: seen.features };
    if (order.sessionId) ctx.emit({ topic: BY_SESSION_TOPIC, key: order.sessionId, value: next });
    else this.decide(next, ctx);
  }

  onBySession(record: InboundRecord<FraudCase>, ctx: HandlerContext): void {
    const order = checkCase(record.value);
    const store = ctx.store<SessionWindow>(SESSIONS_STORE);
    const seen = observeSession(store.get(order.sessionId!), order, this.settings.sessionBurstWindowMs);
    store.put(order.sessionId!, seen.state);
    this.decide({ ...order, sessionOrders: seen.features }, ctx);
  }

  private decide(order: FraudCase, ctx: HandlerContext): void {
    const result = assess(order, this.settings);
    const event: FraudAssessed = {
      eventId: deterministicId(`${order.orderId}:FraudAssessed`),
      // Event time of the order: a replay writes the same event.
      occurredAt: new Date(order.occurredAt),
      producer: SERVICE,
      correlationId: order.correlationId,
      orderId: order.orderId,
      customerId: order.customerId,
      score: result.score,
      decision: result.decision,
      reasons: result.reasons,
      ruleVersions: result.ruleVersions,
    };
    ctx.emit({ topic: topics.fraudAssessed.name, key: order.orderId, value: event });
  }
}
