import { createHash, randomUUID } from 'node:crypto';
import { decimal, fromUnscaled, toUnscaled, type Decimal } from '@app/codec';
import type { OrderPlaced } from '@app/contracts';
import type { PlaceOrderDto } from './dto/place-order.dto';

export const SERVICE = 'order-service';

/** A UUID (v4 layout) derived from a hash: the same input always gives the same id. */
export function uuidFromHash(input: string): string {
  const hex = createHash('sha256').update(input).digest('hex');
  const variant = ((parseInt(hex[16], 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/**
 * The order id for a request: derived from the Idempotency-Key when there is one, so every instance
 * (and every retry) maps the same key to the same order, even before any state is shared.
 */
export function orderIdFor(idempotencyKey: string | undefined): string {
  return idempotencyKey === undefined ? randomUUID() : uuidFromHash(`securecart.order-id:${idempotencyKey}`);
}

function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.keys(value).sort().map((k) => [k, canonical((value as Record<string, unknown>)[k])]));
  }
  return value;
}

/** Identifies "the same request" for Idempotency-Key: the body (key order ignored) and the client country. */
export function requestHash(body: PlaceOrderDto, clientIpCountry: string | null): string {
  return createHash('sha256').update(JSON.stringify(canonical({ body, clientIpCountry }))).digest('hex');
}

export interface Totals {
  subtotal: Decimal;
  shippingTotal: Decimal;
  taxTotal: Decimal;
  grandTotal: Decimal;
}

/** Exact money arithmetic in cents (BigInt); throws DecimalError when a total exceeds decimal(18,2). */
export function computeTotals(body: Pick<PlaceOrderDto, 'items' | 'shippingTotal' | 'taxTotal'>): Totals {
  const cents = (value: string) => toUnscaled(value, 2);
  const subtotal = body.items.reduce((sum, item) => sum + cents(item.unitPrice) * BigInt(item.quantity), 0n);
  const shipping = cents(body.shippingTotal ?? '0');
  const tax = cents(body.taxTotal ?? '0');
  const checked = (unscaled: bigint) => decimal(fromUnscaled(unscaled, 2));
  return { subtotal: checked(subtotal), shippingTotal: checked(shipping), taxTotal: checked(tax), grandTotal: checked(subtotal + shipping + tax) };
}

export function buildOrderPlaced(body: PlaceOrderDto, orderId: string, clientIpCountry: string | null, now: Date): OrderPlaced {
  const totals = computeTotals(body);
  return {
    // Derived from the order id: a retried publish of the same order carries the same event id.
    eventId: uuidFromHash(`${orderId}:OrderPlaced`),
    occurredAt: now,
    producer: SERVICE,
    correlationId: orderId,
    orderId,
    customerId: body.customerId,
    channel: body.channel,
    currency: body.currency,
    lineItems: body.items.map((item) => ({ sku: item.sku, quantity: item.quantity, unitPrice: decimal(item.unitPrice) })),
    ...totals,
    shippingCountry: body.shippingCountry,
    billingCountry: body.billingCountry,
    payment: { type: body.payment.type, fingerprint: body.payment.fingerprint },
    clientIpCountry,
    sessionId: body.sessionId ?? null,
  };
}
