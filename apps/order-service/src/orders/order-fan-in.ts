/**
 * The order's single writer: one pure state machine per orderId that folds the placed order, the stock
 * verdict, the fraud verdict and the HTTP commands (review, cancel) into exactly one final state.
 * No I/O and no clock of its own: the caller passes `now` (the input record's timestamp, or the wall
 * clock for the timeout punctuation), so the same inputs always give the same transitions.
 */
export type OrderStatus = 'PENDING' | 'REVIEW' | 'CONFIRMED' | 'REJECTED' | 'CANCELLED';
export const FINAL_STATUSES: readonly OrderStatus[] = ['CONFIRMED', 'REJECTED', 'CANCELLED'];

/** Codes of `OrderRejected.reasons` (the catalog's `RejectionCode`) plus `CANCELLED` for the view. */
export type ReasonCode = 'OUT_OF_STOCK' | 'FRAUD_DECLINED' | 'FRAUD_REVIEW' | 'TIMEOUT' | 'CANCELLED';

export interface Reason {
  code: ReasonCode;
  detail: string;
}

export interface Shortage {
  sku: string;
  requested: number;
  available: number;
}

export type StockVerdict = { ok: true; reservationId: string } | { ok: false; shortages: Shortage[] };

export interface FraudVerdict {
  decision: 'APPROVE' | 'REVIEW' | 'DECLINE';
  score: number;
  ruleIds: string[];
}

export interface PlacedFacts {
  customerId: string;
  currency: string;
  grandTotal: string;
  /** Event time of OrderPlaced (ms). */
  placedAt: number;
  /** When the validation deadline passes (ms): placedAt + the configured timeout. */
  deadline: number;
  /** Hash of the HTTP request that placed it, for Idempotency-Key checks on any instance. */
  requestHash?: string;
}

export interface CommandOutcome {
  commandId: string;
  outcome: 'APPLIED' | 'REFUSED';
  detail: string;
}

export interface OrderRecord {
  orderId: string;
  status: OrderStatus;
  placed?: PlacedFacts;
  stock?: StockVerdict;
  fraud?: FraudVerdict;
  reviewDecision?: 'APPROVE' | 'DECLINE';
  /** A cancel that arrived before the order itself (different topics, no order between them). */
  pendingCancel?: { commandId: string; reason: string };
  reasons: Reason[];
  /** When the record was created (ms), to expire orphans (verdicts whose order never arrives). */
  createdAt: number;
  finalAt?: number;
  /** The latest command results, so the HTTP side can tell its caller what happened. */
  commands: CommandOutcome[];
}

export type OrderInput =
  | { type: 'placed'; facts: Omit<PlacedFacts, 'deadline'> }
  | { type: 'stock'; verdict: StockVerdict }
  | { type: 'fraud'; verdict: FraudVerdict }
  | { type: 'review'; commandId: string; decision: 'APPROVE' | 'DECLINE' }
  | { type: 'cancel'; commandId: string; reason: string };

export type FinalEvent =
  | { kind: 'CONFIRMED'; reservationId: string; fraudScore: number }
  | { kind: 'REJECTED'; reasons: Reason[] }
  | { kind: 'CANCELLED'; reason: string };

export interface FanInSettings {
  /** How long stock and fraud have to answer before the order is rejected with TIMEOUT. */
  validationTimeoutMs: number;
  /** A confirmed order can still be cancelled for this long (until it ships). */
  cancelWindowMs: number;
  /** Final orders (and orphans) are forgotten this long after they ended; must exceed cancelWindowMs. */
  retentionMs: number;
}

export interface Transition {
  /** The record to store; undefined deletes it. */
  record: OrderRecord | undefined;
  /** The final event to publish, at most once per order. */
  final?: FinalEvent;
  /** Whether the public view of the order changed (publish it to the order-state topic). */
  changed: boolean;
}

const MAX_COMMANDS = 8;

export function isFinal(status: OrderStatus): boolean {
  return FINAL_STATUSES.includes(status);
}

function blank(orderId: string, now: number): OrderRecord {
  return { orderId, status: 'PENDING', reasons: [], createdAt: now, commands: [] };
}

function withCommand(record: OrderRecord, outcome: CommandOutcome): OrderRecord {
  return { ...record, commands: [...record.commands, outcome].slice(-MAX_COMMANDS) };
}

/** Folds one input into the order. Inputs for an order that is already final change nothing. */
export function applyOrderInput(
  current: OrderRecord | undefined,
  orderId: string,
  input: OrderInput,
  now: number,
  settings: FanInSettings,
): Transition {
  const record = current ?? blank(orderId, now);
  switch (input.type) {
    case 'placed': {
      // A retried publish of the same order (same id) is the same order: first one wins.
      if (record.placed) return { record: current, changed: false };
      const placed = { ...input.facts, deadline: input.facts.placedAt + settings.validationTimeoutMs };
      let next: OrderRecord = { ...record, placed };
      if (next.pendingCancel) {
        const { commandId, reason } = next.pendingCancel;
        next = { ...next, pendingCancel: undefined };
        return cancel(next, commandId, reason, now, settings);
      }
      return settle(next, now, true);
    }
    case 'stock':
      if (isFinal(record.status) || record.stock) return { record: current, changed: false };
      return settle({ ...record, stock: input.verdict }, now, false);
    case 'fraud':
      if (isFinal(record.status) || record.fraud) return { record: current, changed: false };
      return settle({ ...record, fraud: input.verdict }, now, false);
    case 'review': {
      if (record.status !== 'REVIEW') {
        const detail = `order is ${record.placed ? record.status : 'unknown'}, not in REVIEW`;
        return { record: withCommand(record, { commandId: input.commandId, outcome: 'REFUSED', detail }), changed: true };
      }
      const next = withCommand(
        { ...record, reviewDecision: input.decision },
        { commandId: input.commandId, outcome: 'APPLIED', detail: `review ${input.decision}` },
      );
      return settle(next, now, true);
    }
    case 'cancel':
      if (!record.placed) {
        return { record: { ...record, pendingCancel: { commandId: input.commandId, reason: input.reason } }, changed: false };
      }
      return cancel(record, input.commandId, input.reason, now, settings);
  }
}

function cancel(record: OrderRecord, commandId: string, reason: string, now: number, settings: FanInSettings): Transition {
  const cancellable =
    record.status === 'PENDING' ||
    record.status === 'REVIEW' ||
    (record.status === 'CONFIRMED' && record.finalAt !== undefined && now < record.finalAt + settings.cancelWindowMs);
  if (!cancellable) {
    const detail = record.status === 'CONFIRMED' ? 'order confirmed and past the cancel window (shipping)' : `order is already ${record.status}`;
    return { record: withCommand(record, { commandId, outcome: 'REFUSED', detail }), changed: true };
  }
  const next = withCommand(
    { ...record, status: 'CANCELLED', reasons: [{ code: 'CANCELLED', detail: reason }], finalAt: now },
    { commandId, outcome: 'APPLIED', detail: 'cancelled' },
  );
  return { record: next, final: { kind: 'CANCELLED', reason }, changed: true };
}

/** Every reason the verdicts give against the order (empty when nothing failed). */
export function failureReasons(record: OrderRecord): Reason[] {
  const reasons: Reason[] = [];
  const { stock, fraud } = record;
  if (stock && !stock.ok) {
    const detail = stock.shortages.map((s) => `${s.sku}: requested ${s.requested}, available ${s.available}`).join('; ');
    reasons.push({ code: 'OUT_OF_STOCK', detail });
  }
  if (fraud?.decision === 'DECLINE') {
    reasons.push({ code: 'FRAUD_DECLINED', detail: `score ${fraud.score} (${fraud.ruleIds.join(', ') || 'no rule'})` });
  }
  if (fraud?.decision === 'REVIEW' && record.reviewDecision === 'DECLINE') {
    reasons.push({ code: 'FRAUD_DECLINED', detail: `declined in manual review (score ${fraud.score})` });
  }
  // A review is moot when stock already failed; the order is rejected with both facts.
  if (fraud?.decision === 'REVIEW' && !record.reviewDecision && stock && !stock.ok) {
    reasons.push({ code: 'FRAUD_REVIEW', detail: `score ${fraud.score} needed review (${fraud.ruleIds.join(', ')})` });
  }
  return reasons;
}

/** Decides once both verdicts are in; until then the order waits (bounded by the deadline). */
function settle(record: OrderRecord, now: number, changedAlready: boolean): Transition {
  if (!record.placed || !record.stock || !record.fraud) return { record, changed: changedAlready };
  const failures = failureReasons(record);
  if (failures.length > 0) {
    return { record: { ...record, status: 'REJECTED', reasons: failures, finalAt: now }, final: { kind: 'REJECTED', reasons: failures }, changed: true };
  }
  const approved = record.fraud.decision === 'APPROVE' || record.reviewDecision === 'APPROVE';
  if (approved && record.stock.ok) {
    const final: FinalEvent = { kind: 'CONFIRMED', reservationId: record.stock.reservationId, fraudScore: record.fraud.score };
    return { record: { ...record, status: 'CONFIRMED', reasons: [], finalAt: now }, final, changed: true };
  }
  if (record.status === 'REVIEW') return { record, changed: changedAlready };
  return { record: { ...record, status: 'REVIEW' }, changed: true };
}

/**
 * The timeout punctuation for one stored order: rejects a PENDING order past its deadline with
 * TIMEOUT (plus whatever failed already), and forgets orders that ended long ago.
 */
export function expireOrder(record: OrderRecord, now: number, settings: FanInSettings): Transition | undefined {
  if (record.status === 'PENDING' && record.placed && now >= record.placed.deadline) {
    const missing = [!record.stock && 'stock', !record.fraud && 'fraud'].filter(Boolean).join(' and ');
    const reasons: Reason[] = [
      { code: 'TIMEOUT', detail: `no ${missing} verdict within ${settings.validationTimeoutMs} ms` },
      ...failureReasons(record),
    ];
    return { record: { ...record, status: 'REJECTED', reasons, finalAt: now }, final: { kind: 'REJECTED', reasons }, changed: true };
  }
  const endedAt = isFinal(record.status) ? record.finalAt : record.placed ? undefined : record.createdAt;
  if (endedAt !== undefined && now >= endedAt + settings.retentionMs) return { record: undefined, changed: false };
  return undefined;
}

/** What GET /orders/:id shows, and what the compacted order-state topic carries. */
export interface OrderView {
  orderId: string;
  status: OrderStatus;
  reasons: Reason[];
  customerId?: string;
  currency?: string;
  grandTotal?: string;
  placedAt?: string;
  updatedAt: string;
  fraudScore?: number;
  reservationId?: string;
  commands: CommandOutcome[];
  requestHash?: string;
}

export function toView(record: OrderRecord, now: number): OrderView {
  return {
    orderId: record.orderId,
    status: record.status,
    reasons: record.reasons,
    customerId: record.placed?.customerId,
    currency: record.placed?.currency,
    grandTotal: record.placed?.grandTotal,
    placedAt: record.placed ? new Date(record.placed.placedAt).toISOString() : undefined,
    updatedAt: new Date(now).toISOString(),
    fraudScore: record.fraud?.score,
    reservationId: record.stock?.ok ? record.stock.reservationId : undefined,
    commands: record.commands,
    requestHash: record.placed?.requestHash,
  };
}
