import type { Kafka, KafkaMessage } from 'kafkajs';
import { installReadCommittedFilter } from '@app/kafka';
import { uniqueName } from './index';

export type ReadMessage = KafkaMessage & {
  topic: string;
  partition: number;
};

/**
 * Everything a topic holds right now, read in a throwaway group up to each partition's end offset
 * (read_committed unless asked otherwise: aborted records and transaction markers are not returned).
 * Unlike "wait until N arrived" it also proves nothing beyond N is there.
 */
export async function readTopic(
  kafka: Kafka,
  topic: string,
  { readUncommitted = false, timeoutMs = 30_000 }: { readUncommitted?: boolean; timeoutMs?: number } = {},
): Promise<ReadMessage[]> {
  const admin = kafka.admin();
  await admin.connect();
  let ends: Map<number, bigint>;
  try {
    const offsets = await admin.fetchTopicOffsets(topic);
    ends = new Map(offsets.filter((o) => BigInt(o.high) > BigInt(o.low)).map((o) => [o.partition, BigInt(o.high)]));
  } finally {
    await admin.disconnect();
  }
  const messages: ReadMessage[] = [];
  if (ends.size === 0) return messages;
  installReadCommittedFilter();
  const consumer = kafka.consumer({ groupId: uniqueName('read-topic'), readUncommitted, maxWaitTimeInMs: 100 });
  const pending = new Map(ends);
  let timer: NodeJS.Timeout | undefined;
  const done = new Promise<void>((resolve, reject) => {
    consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
      const end = pending.get(payload.partition);
      if (end !== undefined && BigInt(payload.lastOffset) + 1n >= end) pending.delete(payload.partition);
      if (pending.size === 0) resolve();
    });
    timer = setTimeout(() => reject(new Error(`readTopic(${topic}): partitions ${[...pending.keys()]} not read to their end in ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        for (const m of batch.messages) messages.push({ ...m, topic: batch.topic, partition: batch.partition });
      },
    });
    await done;
  } finally {
    clearTimeout(timer);
    await consumer.disconnect();
  }
  return messages.sort((a, b) => a.partition - b.partition || Number(BigInt(a.offset) - BigInt(b.offset)));
}

/** The group's committed offset per partition of `topic` (-1 where nothing is committed). */
export async function committedOffsets(kafka: Kafka, groupId: string, topic: string): Promise<Map<number, bigint>> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const [result] = await admin.fetchOffsets({ groupId, topics: [topic] });
    return new Map(result.partitions.map((p) => [p.partition, BigInt(p.offset)]));
  } finally {
    await admin.disconnect();
  }
}

/** Each partition's end offset (high watermark). */
export async function endOffsets(kafka: Kafka, topic: string): Promise<Map<number, bigint>> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    return new Map((await admin.fetchTopicOffsets(topic)).map((o) => [o.partition, BigInt(o.high)]));
  } finally {
    await admin.disconnect();
  }
}
