import { decimal } from '@app/codec';
import { topics, type FraudAssessed, type OrderPlaced, type RejectionCode, type StockReservationRejected, type StockReserved } from '@app/contracts';
import { NonRetriableError, type HandlerContext, type InboundRecord } from '@app/runtime';
import { applyOrderInput, expireOrder, toView, type OrderInput, type OrderRecord, type Transition } from './order-fan-in';
import { SERVICE, uuidFromHash } from './order-placement';
import type { OrderSettings } from './order-settings';
import { IDEMPOTENCY_HASH_HEADER, ORDER_STATE_TOPIC, type OrderCommand } from './order-topics';

/** The fan-in's state store: one record per order, partitioned like every order topic (by orderId). */
export const ORDERS_STORE = 'orders';

/**
 * The fan-in as runtime handlers. Every input is keyed by orderId and every topic has the same partition
 * count, so partition p of all of them is one task with one store: a single writer per order. Each
 * handler folds its input into the order (pure state machine) and emits, in the same transaction, the
 * new public view (order-state topic) and at most one final event.
 */
export class OrderFanInHandlers {
  constructor(private readonly settings: OrderSettings) {}

  onOrderPlaced(record: InboundRecord<OrderPlaced>, ctx: HandlerContext): void {
    const order = record.value;
    this.apply(order.orderId, record, ctx, {
      type: 'placed',
      facts: {
        customerId: order.customerId,
        currency: order.currency,
        grandTotal: order.grandTotal,
        placedAt: order.occurredAt.getTime(),
        requestHash: record.headers[IDEMPOTENCY_HASH_HEADER],
      },
    });
  }

  onStockReserved(record: InboundRecord<StockReserved>, ctx: HandlerContext): void {
    this.apply(record.value.orderId, record, ctx, { type: 'stock', verdict: { ok: true, reservationId: record.value.reservationId } });
  }

  onStockReservationRejected(record: InboundRecord<StockReservationRejected>, ctx: HandlerContext): void {
    this.apply(record.value.orderId, record, ctx, { type: 'stock', verdict: { ok: false, shortages: record.value.shortages } });
  }

  onFraudAssessed(record: InboundRecord<FraudAssessed>, ctx: HandlerContext): void {
    const { orderId, decision, score, reasons } = record.value;
    this.apply(orderId, record, ctx, { type: 'fraud', verdict: { decision, score, ruleIds: reasons.map((r) => r.ruleId) } });
  }

  onCommand(record: InboundRecord<OrderCommand>, ctx: HandlerContext): void {
    const command = record.value;
    if (!command || typeof command.orderId !== 'string' || typeof command.commandId !== 'string') {
      throw new NonRetriableError('order command without orderId or commandId');
    }
    if (command.type === 'REVIEW' && (command.decision === 'APPROVE' || command.decision === 'DECLINE')) {
      this.apply(command.orderId, record, ctx, { type: 'review', commandId: command.commandId, decision: command.decision });
    } else if (command.type === 'CANCEL') {
      this.apply(command.orderId, record, ctx, { type: 'cancel', commandId: command.commandId, reason: String(command.reason ?? '') });
    } else {
      throw new NonRetriableError(`unknown order command ${JSON.stringify((command as { type?: unknown }).type)}`);
    }
  }

  /** Timeout punctuation (wall clock says when; the deadline itself is event time + the timeout). */
  punctuate(ctx: HandlerContext, now = Date.now()): void {
    const store = ctx.store<OrderRecord>(ORDERS_STORE);
    // Collect first: the store must not change under its own iterator.
    const due: [string, Transition][] = [];
    for (const [orderId, record] of store.entries()) {
      const t = expireOrder(record, now, this.settings.fanIn);
      if (t) due.push([orderId, t]);
    }
    for (const [orderId, t] of due) this.commit(orderId, t, now, ctx);
  }

  private apply(orderId: string, record: InboundRecord<unknown>, ctx: HandlerContext, input: OrderInput): void {
    const store = ctx.store<OrderRecord>(ORDERS_STORE);
    const t = applyOrderInput(store.get(orderId), orderId, input, record.timestamp, this.settings.fanIn);
    this.commit(orderId, t, record.timestamp, ctx);
  }

  private commit(orderId: string, t: Transition, now: number, ctx: HandlerContext): void {
    const store = ctx.store<OrderRecord>(ORDERS_STORE);
    const current = store.get(orderId);
    // Transitions return the same object when nothing changed (a duplicate): no changelog write then.
    if (t.record && t.record !== current) store.put(orderId, t.record);
    else if (!t.record && current) {
      store.delete(orderId);
      // Readers drop the order too (JSON null: the views delete it), so their memory is bounded as well.
      ctx.emit({ topic: ORDER_STATE_TOPIC, key: orderId, value: null });
    }
    if (t.record && t.changed) ctx.emit({ topic: ORDER_STATE_TOPIC, key: orderId, value: toView(t.record, now) });
    if (t.final && t.record?.placed) emitFinal(orderId, t.record, t.final, now, ctx);
  }
}

function emitFinal(orderId: string, record: OrderRecord, final: NonNullable<Transition['final']>, now: number, ctx: HandlerContext): void {
  const placed = record.placed!;
  // Deterministic event ids: the one final event of an order always has the same id.
  const envelope = { eventId: uuidFromHash(`${orderId}:${final.kind}`), occurredAt: new Date(now), producer: SERVICE, correlationId: orderId, orderId, customerId: placed.customerId };
  switch (final.kind) {
    case 'CONFIRMED':
      ctx.emit({
        topic: topics.orderConfirmed.name,
        key: orderId,
        value: { ...envelope, currency: placed.currency, grandTotal: decimal(placed.grandTotal), reservationId: final.reservationId, fraudScore: final.fraudScore },
      });
      return;
    case 'REJECTED':
      ctx.emit({
        topic: topics.orderRejected.name,
        key: orderId,
        value: { ...envelope, reasons: final.reasons.map((r) => ({ code: r.code as RejectionCode, detail: r.detail })) },
      });
      return;
    case 'CANCELLED':
      ctx.emit({ topic: topics.orderCancelled.name, key: orderId, value: { ...envelope, cancelledBy: 'CUSTOMER', reason: final.reason } });
      return;
  }
}
