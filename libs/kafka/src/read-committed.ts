/**
 * read_committed done right for kafkajs consumers.
 *
 * kafkajs 2.2.4 (`src/consumer/filterAbortedMessages.js`) assumes the broker lists a partition's aborted
 * transactions by first offset and activates at most one of them per record. The broker lists them by
 * the offset of their abort marker (the transaction index's order), so when two producers' transactions
 * overlap and the later-started one is aborted first, the records of the other one are handed to the
 * application as committed. That is exactly what a kill -9 of a service with several transactional
 * tasks leaves behind on a shared output partition. The Java consumer keeps the list in a queue by first
 * offset and activates every transaction started at or before the record (`CompletedFetch`); so do we.
 *
 * We correct each fetched partition before kafkajs builds its batch: records of aborted transactions
 * are flagged as control records, which kafkajs already hides from the application while still moving
 * the position past them (a fetch of only aborted records must not stall the partition).
 */

/** The parts of a decoded kafkajs record this filter reads (`batchContext` is its record batch header). */
export interface FetchedRecord {
  offset: string;
  key?: Buffer | null;
  isControlRecord?: boolean;
  batchContext: { producerId: string; inTransaction: boolean };
}

export interface AbortedTransaction {
  producerId: string;
  firstOffset: string;
}

// A control record's key is version (int16) then type (int16): type 0 is ABORT, 1 is COMMIT.
const ABORT_MARKER_KEY = Buffer.from([0, 0, 0, 0]);

/** The records of `records` (one partition, in offset order) that belong to an aborted transaction. */
export function abortedRecords(records: FetchedRecord[], aborted: AbortedTransaction[]): Set<FetchedRecord> {
  const result = new Set<FetchedRecord>();
  if (aborted.length === 0) return result;
  const pending = [...aborted].sort((a, b) => (BigInt(a.firstOffset) < BigInt(b.firstOffset) ? -1 : BigInt(a.firstOffset) > BigInt(b.firstOffset) ? 1 : 0));
  const abortedProducers = new Set<string>();
  for (const record of records) {
    const offset = BigInt(record.offset);
    while (pending.length > 0 && BigInt(pending[0].firstOffset) <= offset) abortedProducers.add(pending.shift()!.producerId);
    const { producerId, inTransaction } = record.batchContext;
    if (record.isControlRecord) {
      if (record.key && Buffer.from(record.key).equals(ABORT_MARKER_KEY)) abortedProducers.delete(producerId);
      continue;
    }
    if (inTransaction && abortedProducers.has(producerId)) result.add(record);
  }
  return result;
}

interface FetchedPartition {
  abortedTransactions?: AbortedTransaction[];
  messages?: FetchedRecord[];
}

interface FetchResponse {
  responses?: Array<{ partitions?: FetchedPartition[] }>;
}

/** Hides aborted records in place and empties the list, so kafkajs' own filter has nothing left to do. */
export function hideAbortedRecords(response: FetchResponse): void {
  for (const topic of response.responses ?? []) {
    for (const partition of topic.partitions ?? []) {
      const aborted = partition.abortedTransactions ?? [];
      if (aborted.length === 0) continue;
      for (const record of abortedRecords(partition.messages ?? [], aborted)) record.isControlRecord = true;
      partition.abortedTransactions = [];
    }
  }
}

const READ_COMMITTED = 1; // kafkajs' ISOLATION_LEVEL.READ_COMMITTED
const INSTALLED = Symbol.for('securecart.readCommittedFilter');

type BrokerFetch = (this: unknown, request: { isolationLevel?: number }) => Promise<FetchResponse>;

/**
 * Wraps kafkajs' `Broker.prototype.fetch` once per process (every consumer fetches through it). Called
 * by `createKafkaClient`, the Kafka runtime and the test helpers; calling it again does nothing.
 */
export function installReadCommittedFilter(): void {
  // kafkajs has no `exports` map, so its broker module can be reached; its types do not cover it.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const Broker = require('kafkajs/src/broker') as { prototype: Record<string | symbol, unknown> };
  const proto = Broker.prototype;
  if (proto[INSTALLED]) return;
  const fetch = proto.fetch as BrokerFetch;
  if (typeof fetch !== 'function') throw new Error('kafkajs Broker.prototype.fetch not found: check the read_committed filter against this kafkajs version');
  proto.fetch = async function fetchReadCommitted(this: unknown, request: { isolationLevel?: number }) {
    const response = await fetch.call(this, request);
    if (request.isolationLevel === READ_COMMITTED) hideAbortedRecords(response);
    return response;
  };
  proto[INSTALLED] = true;
}
