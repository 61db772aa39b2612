import { decimal } from '@app/codec';
import type { EventOf, TopicKey } from './topic-catalog';

const at = new Date('2026-11-26T10:15:30.123Z');
const envelope = (producer: string, correlationId: string) => ({
  eventId: '6f1c0a52-3f5e-4b8e-9a57-0c1d2e3f4a5b',
  occurredAt: at,
  producer,
  correlationId,
});

/** One realistic, valid event per catalog topic: documentation, test fixtures and benchmark input. */
export const exampleEvents: { [K in TopicKey]: EventOf<K> } = {
  orderPlaced: {
    ...envelope('order-service', 'ord-1001'),
    orderId: 'ord-1001',
    customerId: 'cus-42',
    channel: 'WEB',
    currency: 'EUR',
    lineItems: [
      { sku: 'SKU-RED-MUG', quantity: 2, unitPrice: decimal('12.50') },
      { sku: 'SKU-BLUE-TEE', quantity: 1, unitPrice: decimal('19.99') },
    ],
    subtotal: decimal('44.99'),
    shippingTotal: decimal('4.90'),
    taxTotal: decimal('9.48'),
    grandTotal: decimal('59.37'),
    shippingCountry: 'DE',
    billingCountry: 'DE',
    payment: { type: 'CARD', fingerprint: 'fp_9c1e5b7d' },
    clientIpCountry: 'DE',
    sessionId: 'ses-77',
  },
  orderConfirmed: {
    ...envelope('order-service', 'ord-1001'),
    orderId: 'ord-1001',
    customerId: 'cus-42',
    currency: 'EUR',
    grandTotal: decimal('59.37'),
    reservationId: 'res-9',
    fraudScore: 12,
  },
  orderRejected: {
    ...envelope('order-service', 'ord-1002'),
    orderId: 'ord-1002',
    customerId: 'cus-43',
    reasons: [{ code: 'OUT_OF_STOCK', detail: 'SKU-RED-MUG: requested 5, available 2' }],
  },
  orderCancelled: {
    ...envelope('order-service', 'ord-1003'),
    orderId: 'ord-1003',
    customerId: 'cus-44',
    cancelledBy: 'CUSTOMER',
    reason: 'ordered twice by mistake',
  },
  stockLevel: {
    ...envelope('inventory-service', 'SKU-RED-MUG'),
    sku: 'SKU-RED-MUG',
    warehouseId: 'wh-berlin',
    onHand: 120,
    reserved: 4,
    changeReason: 'FILE_IMPORT',
  },
  stockReserved: {
    ...envelope('inventory-service', 'ord-1001'),
    orderId: 'ord-1001',
    reservationId: 'res-9',
    items: [{ sku: 'SKU-RED-MUG', warehouseId: 'wh-berlin', quantity: 2 }],
    expiresAt: new Date('2026-11-26T10:30:30.123Z'),
  },
  stockReservationRejected: {
    ...envelope('inventory-service', 'ord-1002'),
    orderId: 'ord-1002',
    shortages: [{ sku: 'SKU-RED-MUG', requested: 5, available: 2 }],
  },
  stockReleased: {
    ...envelope('inventory-service', 'ord-1003'),
    orderId: 'ord-1003',
    reservationId: 'res-10',
    items: [{ sku: 'SKU-BLUE-TEE', warehouseId: 'wh-berlin', quantity: 1 }],
    reason: 'ORDER_CANCELLED',
  },
  fraudAssessed: {
    ...envelope('fraud-service', 'ord-1001'),
    orderId: 'ord-1001',
    customerId: 'cus-42',
    score: 12,
    decision: 'APPROVE',
    reasons: [{ ruleId: 'ip-country-mismatch', points: 10, detail: 'billing DE, IP DE: no mismatch' }],
    ruleVersions: { 'ip-country-mismatch': '3', velocity: '7' },
  },
  clickstream: {
    ...envelope('clickstream-collector', 'ses-77'),
    eventType: 'PRODUCT_VIEW',
    sessionId: 'ses-77',
    customerId: null,
    productSku: 'SKU-RED-MUG',
    searchQuery: null,
    pageUrl: '/products/red-mug',
    referrer: 'www.example-search.com',
    userAgentClass: 'MOBILE',
    country: 'DE',
  },
  batchCompleted: {
    ...envelope('daily-batch', 'orders-daily-2026-11-26-manual-1'),
    job: 'orders-daily',
    runId: 'orders-daily-2026-11-26-manual-1',
    day: '2026-11-26',
    status: 'SUCCEEDED',
    tables: [{ name: 'orders_daily', manifestKey: 'batch/orders_daily/dt=2026-11-26/_manifest.json', rows: 1520, files: 1 }],
    durationMs: 48_210,
    error: null,
  },
};
