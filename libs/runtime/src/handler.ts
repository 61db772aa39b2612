/**
 * The contract between the Kafka runtime and the services' handlers. A handler gets one decoded input
 * record and a context; everything it emits or stores is committed atomically with the input offset
 * (one Kafka transaction), so a handler is exactly-once as long as it has no other side effect.
 */
export interface InboundRecord<T = unknown> {
  topic: string;
  partition: number;
  offset: string;
  /** The record key as a UTF-8 string (our keys are ids), or null. */
  key: string | null;
  value: T;
  headers: Record<string, string>;
  /** Kafka record timestamp (ms). Handlers that need time use event time (`value.occurredAt`), never the wall clock. */
  timestamp: number;
}

export interface OutboundRecord {
  /** A catalog topic: the value is Avro-encoded with the topic's schema through the registry. */
  topic: string;
  key: string;
  value: unknown;
  headers?: Record<string, string>;
}

/** Partition-local key-value state, restored from a compacted changelog topic on assignment. */
export interface StateStore<V> {
  get(key: string): V | undefined;
  /** Written to the changelog in the same transaction as the input offset. */
  put(key: string, value: V): void;
  delete(key: string): void;
  /** Every live entry of this partition (for punctuations such as timeouts). */
  entries(): IterableIterator<[string, V]>;
}

export interface HandlerContext {
  emit(record: OutboundRecord): void;
  /** A named store, partitioned like the input topic (same partition number). */
  store<V>(name: string): StateStore<V>;
}

export type RecordHandler<T = unknown> = (record: InboundRecord<T>, context: HandlerContext) => Promise<void> | void;

/** A handler's verdict that the record itself is wrong: it goes to the topic's DLQ, the partition moves on. */
export class NonRetriableError extends Error {
  readonly retriable = false;
  constructor(message: string, readonly code = 'INVALID') {
    super(message);
    this.name = 'NonRetriableError';
  }
}
