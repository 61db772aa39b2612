import { createHash } from 'node:crypto';
import { topics, type OrderCancelled, type OrderPlaced, type OrderRejected, type StockLevelChanged } from '@app/contracts';
import { NonRetriableError, type HandlerContext, type InboundRecord } from '@app/runtime';
import { applyReservationInput, type OrderReservation, type ReleaseReason, type ReservationInput } from './order-reservation';
import { applySkuRequest, emptyLedger, type SkuLedger } from './sku-ledger';
import { SKU_REPLIES_TOPIC, SKU_REQUESTS_TOPIC, stockLevelKey, type SkuReplyMessage, type SkuRequestMessage } from './inventory-topics';
import type { InventorySettings } from './inventory-settings';

export const SERVICE = 'inventory-service';
/** Per order (keyed by orderId): the all-or-nothing coordinator's state. */
export const RESERVATIONS_STORE = 'reservations';
/** Per SKU (keyed by sku): warehouse counts and open holds. */
export const SKUS_STORE = 'skus';

/** Same input, same id: a re-run after a crash writes the same event ids. */
export function deterministicId(input: string): string {
  const hex = createHash('sha256').update(input).digest('hex');
  const variant = ((parseInt(hex[16], 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

function envelope(orderId: string, kind: string, at: number) {
  return { eventId: deterministicId(`${orderId}:${kind}`), occurredAt: new Date(at), producer: SERVICE, correlationId: orderId, orderId };
}

const VALID_ID = /^[A-Za-z0-9._:-]{1,64}$/;

/**
 * The inventory as runtime handlers: order topics (keyed by orderId) drive the per-order coordinator;
 * the SKU request topic (keyed by sku) drives the per-SKU ledgers. Everything a handler changes — store,
 * requests, replies, catalog events — commits in the transaction of its input offset.
 */
export class InventoryHandlers {
  constructor(private readonly settings: InventorySettings) {}

  onOrderPlaced(record: InboundRecord<OrderPlaced>, ctx: HandlerContext): void {
    const order = record.value;
    const lines = order.lineItems.map((l) => ({ sku: l.sku, quantity: l.quantity }));
    if (lines.length === 0 || lines.some((l) => !VALID_ID.test(l.sku) || !Number.isInteger(l.quantity) || l.quantity < 1)) {
      throw new NonRetriableError(`order ${order.orderId} has no lines or an invalid line`);
    }
    this.coordinate(order.orderId, record.timestamp, ctx, { type: 'placed', lines, placedAt: order.occurredAt.getTime() });
  }

  onOrderRejected(record: InboundRecord<OrderRejected>, ctx: HandlerContext): void {
    // VALIDATION_TIMEOUT is the code order-service wrote before the schema's v2 named it TIMEOUT.
    const expired = record.value.reasons.some((r) => r.code === 'TIMEOUT' || r.code === 'VALIDATION_TIMEOUT');
    this.ended(record.value.orderId, record.timestamp, ctx, expired ? 'RESERVATION_EXPIRED' : 'ORDER_REJECTED');
  }

  onOrderCancelled(record: InboundRecord<OrderCancelled>, ctx: HandlerContext): void {
    this.ended(record.value.orderId, record.timestamp, ctx, 'ORDER_CANCELLED');
  }

  onSkuReply(record: InboundRecord<SkuReplyMessage>, ctx: HandlerContext): void {
    const reply = record.value;
    if (!reply || typeof reply.orderId !== 'string' || typeof reply.sku !== 'string') throw new NonRetriableError('SKU reply without orderId or sku');
    this.coordinate(reply.orderId, record.timestamp, ctx, { type: 'reply', reply });
  }

  onSkuRequest(record: InboundRecord<SkuRequestMessage>, ctx: HandlerContext): void {
    const request = record.value;
    if (!request || typeof request.sku !== 'string' || !VALID_ID.test(request.sku)) throw new NonRetriableError('SKU request without a valid sku');
    if (request.type === 'SET_ON_HAND' && (!Number.isInteger(request.onHand) || request.onHand < 0 || !VALID_ID.test(request.warehouseId))) {
      throw new NonRetriableError('SET_ON_HAND needs a warehouseId and a whole onHand >= 0');
    }
    const store = ctx.store<SkuLedger>(SKUS_STORE);
    const step = applySkuRequest(store.get(request.sku) ?? emptyLedger(request.sku), request);
    if (step.changed.length > 0 || request.type === 'SET_ON_HAND') store.put(request.sku, step.ledger);
    if (step.reply) ctx.emit({ topic: SKU_REPLIES_TOPIC, key: step.reply.orderId, value: step.reply });
    const correlationId = request.type === 'SET_ON_HAND' ? request.requestId : request.orderId;
    for (const level of step.changed) {
      const event: StockLevelChanged = {
        eventId: deterministicId(`${record.topic}:${record.partition}:${record.offset}:${level.warehouseId}`),
        occurredAt: new Date(record.timestamp),
        producer: SERVICE,
        correlationId,
        sku: level.sku,
        warehouseId: level.warehouseId,
        onHand: level.onHand,
        reserved: level.reserved,
        changeReason: step.changeReason ?? 'UNKNOWN',
      };
      // Keyed by sku@warehouse: compaction keeps the latest level of every warehouse, not one per sku.
      ctx.emit({ topic: topics.stockLevel.name, key: stockLevelKey(level.sku, level.warehouseId), value: event });
    }
  }

  private ended(orderId: string, at: number, ctx: HandlerContext, reason: ReleaseReason): void {
    this.coordinate(orderId, at, ctx, { type: 'ended', reason });
  }

  private coordinate(orderId: string, at: number, ctx: HandlerContext, input: ReservationInput): void {
    const store = ctx.store<OrderReservation>(RESERVATIONS_STORE);
    const step = applyReservationInput(store.get(orderId), orderId, input, this.settings.holdMs);
    if (step.record) store.put(orderId, step.record);
    else if (store.get(orderId)) store.delete(orderId);
    for (const { sku, request } of step.skuRequests) {
      const message: SkuRequestMessage = { ...request, sku };
      ctx.emit({ topic: SKU_REQUESTS_TOPIC, key: sku, value: message });
    }
    if (step.reserved) {
      ctx.emit({
        topic: topics.stockReserved.name,
        key: orderId,
        value: { ...envelope(orderId, 'StockReserved', at), reservationId: step.reserved.reservationId, items: step.reserved.items, expiresAt: new Date(step.reserved.expiresAt) },
      });
    }
    if (step.short) {
      ctx.emit({ topic: topics.stockReservationRejected.name, key: orderId, value: { ...envelope(orderId, 'StockReservationRejected', at), shortages: step.short } });
    }
    if (step.released) {
      ctx.emit({
        topic: topics.stockReleased.name,
        key: orderId,
        value: { ...envelope(orderId, 'StockReleased', at), reservationId: step.released.reservationId, items: step.released.items, reason: step.released.reason },
      });
    }
  }
}
