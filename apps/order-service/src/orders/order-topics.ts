/** Internal topics of the order-service (JSON values, keyed by orderId, co-partitioned with the catalog). */
export const ORDER_COMMANDS_TOPIC = 'order-service.order-commands';
/** Compacted: the latest public view of every order; every instance tails it to answer GET /orders/:id. */
export const ORDER_STATE_TOPIC = 'order-service.order-state';
export const ORDER_STATE_CONFIGS = { 'cleanup.policy': 'compact', 'min.compaction.lag.ms': '0' };
/** Same partition count as the catalog's order topics, so partition p of each holds the same orders. */
export const ORDER_PARTITIONS = 6;

/** Headers OrderPlaced carries for the fan-in (not part of the event schema). */
export const IDEMPOTENCY_HASH_HEADER = 'securecart-request-hash';

export type OrderCommand =
  | { commandId: string; orderId: string; type: 'REVIEW'; decision: 'APPROVE' | 'DECLINE' }
  | { commandId: string; orderId: string; type: 'CANCEL'; reason: string };
