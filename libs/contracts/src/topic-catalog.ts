import { avroSchema, type AvroSchema } from '@app/codec';
import {
  BatchCompletedSchema,
  ClickstreamEventSchema,
  FraudAssessedSchema,
  OrderCancelledSchema,
  OrderConfirmedSchema,
  OrderPlacedSchema,
  OrderRejectedSchema,
  PartnerFileReceivedSchema,
  StockLevelChangedSchema,
  StockReleasedSchema,
  StockReservationRejectedSchema,
  StockReservedSchema,
  type BatchCompleted,
  type ClickstreamEvent,
  type EventEnvelope,
  type FraudAssessed,
  type OrderCancelled,
  type OrderConfirmed,
  type OrderPlaced,
  type OrderRejected,
  type PartnerFileReceived,
  type StockLevelChanged,
  type StockReleased,
  type StockReservationRejected,
  type StockReserved,
} from './generated';

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

export type CleanupPolicy = 'delete' | 'compact';

/** Everything a producer, consumer, sink or operator needs to know about one topic. */
export interface TopicDefinition<T extends EventEnvelope = EventEnvelope> {
  /** `<domain>.<event-name>.v<major>`; a breaking change is a new major, i.e. a new topic. */
  readonly name: string;
  /**
   * Field of the value the record key starts with: the whole key when `keyFields` has only this field,
   * else its first part (partitioning and compaction go by the full key, see `recordKeyOf`).
   */
  readonly keyField: keyof T & string;
  /** Every field of the key, in order; the key is their string forms joined with `@`. */
  readonly keyFields: readonly (keyof T & string)[];
  readonly schema: AvroSchema;
  readonly partitions: number;
  readonly cleanupPolicy: CleanupPolicy;
  /** -1 keeps records forever (compacted topics keep the latest per key). */
  readonly retentionMs: number;
  /** Where records that cannot be processed go, with their original bytes and the reason in headers. */
  readonly dlq: string;
  readonly description: string;
}

export const DLQ_PARTITIONS = 3;
export const DLQ_RETENTION_MS = 14 * DAY_MS;

function topic<T extends EventEnvelope>(
  definition: Omit<TopicDefinition<T>, 'schema' | 'dlq' | 'keyFields'> & { schema: object; keyFields?: readonly (keyof T & string)[] },
): TopicDefinition<T> {
  const keyFields = definition.keyFields ?? [definition.keyField];
  if (keyFields[0] !== definition.keyField) throw new Error(`${definition.name}: keyFields must start with keyField`);
  return { ...definition, keyFields, schema: avroSchema(definition.schema), dlq: `${definition.name}.dlq` };
}

/** The record key of `value` (an event, or just its key fields) on `topic`: key fields joined with `@`. */
export function recordKeyOf<T extends EventEnvelope>(topic: TopicDefinition<T>, value: { readonly [K in keyof T & string]?: unknown }): string {
  return topic.keyFields
    .map((field) => {
      const part = value[field];
      if (part === undefined || part === null) throw new Error(`${topic.name}: key field ${field} missing`);
      return String(part);
    })
    .join('@');
}

/** The single list of the platform's topics. Names never change; a new major is a new entry. */
export const topics = {
  orderPlaced: topic<OrderPlaced>({
    name: 'orders.order-placed.v1',
    keyField: 'orderId',
    schema: OrderPlacedSchema,
    partitions: 6,
    cleanupPolicy: 'delete',
    retentionMs: 7 * DAY_MS,
    description: 'Orders accepted over HTTP, before validation.',
  }),
  orderConfirmed: topic<OrderConfirmed>({
    name: 'orders.order-confirmed.v1',
    keyField: 'orderId',
    schema: OrderConfirmedSchema,
    partitions: 6,
    cleanupPolicy: 'delete',
    retentionMs: 7 * DAY_MS,
    description: 'Orders that passed stock and fraud validation.',
  }),
  orderRejected: topic<OrderRejected>({
    name: 'orders.order-rejected.v1',
    keyField: 'orderId',
    schema: OrderRejectedSchema,
    partitions: 6,
    cleanupPolicy: 'delete',
    retentionMs: 7 * DAY_MS,
    description: 'Orders that failed validation, with reasons.',
  }),
  orderCancelled: topic<OrderCancelled>({
    name: 'orders.order-cancelled.v1',
    keyField: 'orderId',
    schema: OrderCancelledSchema,
    partitions: 6,
    cleanupPolicy: 'delete',
    retentionMs: 7 * DAY_MS,
    description: 'Orders cancelled after they were placed.',
  }),
  stockLevel: topic<StockLevelChanged>({
    name: 'inventory.stock-level.v1',
    // One count per warehouse: `sku@warehouseId`, so compaction keeps every warehouse's latest count.
    keyField: 'sku',
    keyFields: ['sku', 'warehouseId'],
    schema: StockLevelChangedSchema,
    partitions: 6,
    cleanupPolicy: 'compact',
    retentionMs: -1,
    description: 'Latest stock level per SKU and warehouse (compacted, keyed sku@warehouseId).',
  }),
  stockReserved: topic<StockReserved>({
    name: 'inventory.stock-reserved.v1',
    keyField: 'orderId',
    schema: StockReservedSchema,
    partitions: 6,
    cleanupPolicy: 'delete',
    retentionMs: 7 * DAY_MS,
    description: 'Stock held for an order.',
  }),
  stockReservationRejected: topic<StockReservationRejected>({
    name: 'inventory.stock-reservation-rejected.v1',
    keyField: 'orderId',
    schema: StockReservationRejectedSchema,
    partitions: 6,
    cleanupPolicy: 'delete',
    retentionMs: 7 * DAY_MS,
    description: 'Orders whose stock could not be held, with the short SKUs.',
  }),
  stockReleased: topic<StockReleased>({
    name: 'inventory.stock-released.v1',
    keyField: 'orderId',
    schema: StockReleasedSchema,
    partitions: 6,
    cleanupPolicy: 'delete',
    retentionMs: 7 * DAY_MS,
    description: 'Reservations given back to available stock.',
  }),
  fraudAssessed: topic<FraudAssessed>({
    name: 'fraud.fraud-assessed.v1',
    keyField: 'orderId',
    schema: FraudAssessedSchema,
    partitions: 6,
    cleanupPolicy: 'delete',
    retentionMs: 7 * DAY_MS,
    description: 'Fraud score and decision per order.',
  }),
  clickstream: topic<ClickstreamEvent>({
    name: 'clickstream.events.v1',
    keyField: 'sessionId',
    schema: ClickstreamEventSchema,
    partitions: 12,
    cleanupPolicy: 'delete',
    retentionMs: 3 * DAY_MS,
    description: 'Web and app interactions, keyed by session.',
  }),
  batchCompleted: topic<BatchCompleted>({
    name: 'batch.batch-completed.v1',
    keyField: 'job',
    schema: BatchCompletedSchema,
    partitions: 3,
    cleanupPolicy: 'delete',
    retentionMs: 30 * DAY_MS,
    description: 'A daily batch run ended (day built, outcome, tables published in the lake), keyed by job.',
  }),
  partnerFileReceived: topic<PartnerFileReceived>({
    name: 'partners.file-received.v1',
    keyField: 'partner',
    schema: PartnerFileReceivedSchema,
    partitions: 3,
    cleanupPolicy: 'delete',
    retentionMs: 30 * DAY_MS,
    description: 'A partner file arrived over SFTP and is stored in the lake (partners/), keyed by partner.',
  }),
} as const;

export type TopicKey = keyof typeof topics;

/** The event type carried by a catalog topic, e.g. `EventOf<'orderPlaced'>` is `OrderPlaced`. */
export type EventOf<K extends TopicKey> = (typeof topics)[K] extends TopicDefinition<infer T> ? T : never;

export const allTopics: readonly TopicDefinition[] = Object.values(topics) as TopicDefinition[];

export function topicByName(name: string): TopicDefinition | undefined {
  return allTopics.find((t) => t.name === name);
}
