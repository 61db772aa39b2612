/**
 * Every timeout, size and backoff of the Kafka runtime in one place (defaults are data). Tests pass a
 * faster profile through `KafkaRuntimeOptions.tuning`.
 */
export interface RuntimeDefaults {
  consumer: {
    sessionTimeoutMs: number;
    rebalanceTimeoutMs: number;
    heartbeatIntervalMs: number;
    maxWaitTimeInMs: number;
    maxBytesPerPartition: number;
    partitionsConsumedConcurrently: number;
    fromBeginning: boolean;
  };
  producer: { transactionTimeoutMs: number; retries: number; maxRequestBytes: number };
  backoff: { initialMs: number; maxMs: number; multiplier: number; jitter: number };
  unclassifiedErrorAttempts: number;
  shutdownGraceMs: number;
  lagRefreshMs: number;
  changelogConfigs: Readonly<Record<string, string>>;
}

export const runtimeDefaults: Readonly<RuntimeDefaults> = {
  consumer: {
    /** Broker-side minimum is `group.min.session.timeout.ms` (6 s by default). */
    sessionTimeoutMs: 30_000,
    rebalanceTimeoutMs: 30_000,
    heartbeatIntervalMs: 3_000,
    /** A fetch returns as soon as one byte is there (minBytes 1); this only bounds an idle poll. */
    maxWaitTimeInMs: 500,
    maxBytesPerPartition: 1_048_576,
    /** Batches of different partitions handled at once; batches of one task are serialized by a lock. */
    partitionsConsumedConcurrently: 3,
    /** Where a group with no committed offset starts: catalog events are the system's input, read them all. */
    fromBeginning: true,
  },
  producer: {
    /** Broker's `transaction.max.timeout.ms` caps it; a crashed owner's open transaction is aborted by the next owner's InitProducerId anyway. */
    transactionTimeoutMs: 30_000,
    /** kafkajs retries inside a send; beyond that the runtime aborts the transaction and backs off itself. */
    retries: 5,
    /** Keys + values per produce request; the broker's max.message.bytes (1 MiB default) caps one partition's batch. */
    maxRequestBytes: 512 * 1024,
  },
  backoff: {
    initialMs: 200,
    maxMs: 10_000,
    multiplier: 2,
    /** Each delay is drawn uniformly from [delay * (1 - jitter), delay]. */
    jitter: 0.5,
  },
  /** An error without a `retriable` flag (a bug, most likely) is retried this often, then dead-lettered. */
  unclassifiedErrorAttempts: 3,
  /** SIGTERM: the batch in flight gets this long to finish before its transaction is aborted. */
  shutdownGraceMs: 5_000,
  /** Consumer lag is also refreshed on this period, so a stalled or backing-off partition shows its growing lag. */
  lagRefreshMs: 15_000,
  /** A store's changelog is compacted; tombstones are kept a day so a restoring owner sees deletes. */
  changelogConfigs: {
    'cleanup.policy': 'compact',
    'min.compaction.lag.ms': '0',
    'delete.retention.ms': String(24 * 3_600_000),
  },
};

export type RuntimeTuning = {
  consumer?: Partial<RuntimeDefaults['consumer']>;
  producer?: Partial<RuntimeDefaults['producer']>;
  backoff?: Partial<RuntimeDefaults['backoff']>;
  unclassifiedErrorAttempts?: number;
  shutdownGraceMs?: number;
  lagRefreshMs?: number;
};
