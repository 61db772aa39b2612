import type { Allocation, ReserveReply, SkuRequest } from './sku-ledger';

/**
 * All-or-nothing for one order, owned by the task of the orderId's partition: it asks each SKU's single
 * writer for its line (requests keyed by SKU), collects the replies (keyed by orderId, back to this
 * task), and either reports the order reserved or gives back the lines it got (compensation) and
 * reports the shortages. When the order ends (rejected, timed out, cancelled) it releases the holds.
 */
export type ReleaseReason = 'ORDER_REJECTED' | 'ORDER_CANCELLED' | 'RESERVATION_EXPIRED';

export interface OrderLine {
  sku: string;
  quantity: number;
}

export interface OrderReservation {
  orderId: string;
  /** ENDED: the order ended before this service saw it placed; the placed event is then ignored. */
  state: 'RESERVING' | 'RESERVED' | 'SHORT' | 'ENDED';
  lines: OrderLine[];
  replies: Record<string, ReserveReply>;
  /** The order ended while its lines were still being reserved: release as soon as all replies are in. */
  endedWith?: ReleaseReason;
  expiresAt: number;
}

export interface ReservedItem {
  sku: string;
  warehouseId: string;
  quantity: number;
}

export type ReservationInput =
  | { type: 'placed'; lines: OrderLine[]; placedAt: number }
  | { type: 'reply'; reply: ReserveReply }
  | { type: 'ended'; reason: ReleaseReason };

export interface ReservationStep {
  /** undefined deletes the record. */
  record: OrderReservation | undefined;
  /** Requests to the SKUs' single writers. */
  skuRequests: { sku: string; request: SkuRequest }[];
  reserved?: { reservationId: string; items: ReservedItem[]; expiresAt: number };
  short?: { sku: string; requested: number; available: number }[];
  released?: { reservationId: string; items: ReservedItem[]; reason: ReleaseReason };
}

export function reservationIdOf(orderId: string): string {
  return `res-${orderId}`;
}

/** One line per SKU: an order listing a SKU twice asks for the sum. */
export function mergeLines(lines: OrderLine[]): OrderLine[] {
  const bySku = new Map<string, number>();
  for (const line of lines) bySku.set(line.sku, (bySku.get(line.sku) ?? 0) + line.quantity);
  return [...bySku.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([sku, quantity]) => ({ sku, quantity }));
}

function itemsOf(record: OrderReservation): ReservedItem[] {
  return record.lines.flatMap((line) => {
    const reply = record.replies[line.sku];
    return reply?.ok ? reply.allocations.map((a: Allocation) => ({ sku: line.sku, warehouseId: a.warehouseId, quantity: a.quantity })) : [];
  });
}

function releaseAll(record: OrderReservation): { sku: string; request: SkuRequest }[] {
  return record.lines
    .filter((line) => record.replies[line.sku]?.ok)
    .map((line) => ({ sku: line.sku, request: { type: 'RELEASE', orderId: record.orderId } }));
}

const nothing = (record: OrderReservation | undefined): ReservationStep => ({ record, skuRequests: [] });

export function applyReservationInput(
  current: OrderReservation | undefined,
  orderId: string,
  input: ReservationInput,
  holdMs: number,
): ReservationStep {
  switch (input.type) {
    case 'placed': {
      if (current?.state === 'ENDED') return nothing(undefined);
      if (current) return nothing(current); // the same order delivered again
      const lines = mergeLines(input.lines);
      const record: OrderReservation = { orderId, state: 'RESERVING', lines, replies: {}, expiresAt: input.placedAt + holdMs };
      return {
        record,
        skuRequests: lines.map((line) => ({ sku: line.sku, request: { type: 'RESERVE', orderId, quantity: line.quantity } })),
      };
    }
    case 'reply': {
      const { reply } = input;
      if (current?.replies[reply.sku]) return nothing(current); // the same reply again
      if (!current || current.state !== 'RESERVING') {
        // A hold nobody waits for any more must not leak: give it back.
        return { record: current, skuRequests: reply.ok ? [{ sku: reply.sku, request: { type: 'RELEASE', orderId } }] : [] };
      }
      const record = { ...current, replies: { ...current.replies, [reply.sku]: reply } };
      if (record.lines.some((line) => !record.replies[line.sku])) return nothing(record);
      const shortages = record.lines
        .map((line) => record.replies[line.sku])
        .filter((r): r is ReserveReply & { ok: false } => !r.ok)
        .map((r) => ({ sku: r.sku, requested: r.requested, available: r.available }));
      const reservationId = reservationIdOf(orderId);
      if (shortages.length > 0) {
        // All or nothing: the lines that were held go back.
        return { record: record.endedWith ? undefined : { ...record, state: 'SHORT' }, skuRequests: releaseAll(record), short: shortages };
      }
      if (record.endedWith) {
        return { record: undefined, skuRequests: releaseAll(record), released: { reservationId, items: itemsOf(record), reason: record.endedWith } };
      }
      return { record: { ...record, state: 'RESERVED' }, skuRequests: [], reserved: { reservationId, items: itemsOf(record), expiresAt: record.expiresAt } };
    }
    case 'ended': {
      if (!current) {
        return nothing({ orderId, state: 'ENDED', lines: [], replies: {}, expiresAt: 0 });
      }
      switch (current.state) {
        case 'RESERVING':
          return nothing({ ...current, endedWith: current.endedWith ?? input.reason });
        case 'RESERVED':
          return {
            record: undefined,
            skuRequests: releaseAll(current),
            released: { reservationId: reservationIdOf(orderId), items: itemsOf(current), reason: input.reason },
          };
        case 'SHORT':
          return nothing(undefined);
        case 'ENDED':
          return nothing(current);
      }
    }
  }
}
