import { randomUUID } from 'node:crypto';
import type { Admin, Kafka } from 'kafkajs';
import type { Logger } from '@app/logging';
import type { TaskStore } from './task-store';

/**
 * Reads each store's changelog partition from the beginning up to its end offset, read_committed, into
 * memory. Called after the task's InitProducerId, which aborted any transaction a previous owner left
 * open: nobody else writes that partition, so the end offset is final and every record below it settled.
 * One throwaway consumer (kafkajs cannot assign partitions without a group) reads all stores of all
 * tasks that start together; partitions no store asked for are paused as soon as they show up.
 */
export async function restoreStores(
  kafka: Kafka,
  admin: Admin,
  groupPrefix: string,
  stores: TaskStore[],
  logger: Logger,
): Promise<number> {
  if (stores.length === 0) return 0;
  const topics = [...new Set(stores.map((s) => s.changelogTopic))];
  const pending = new Map<string, { store: TaskStore; end: bigint }>();
  for (const topic of topics) {
    const offsets = await admin.fetchTopicOffsets(topic);
    for (const store of stores.filter((s) => s.changelogTopic === topic)) {
      const partition = offsets.find((o) => o.partition === store.task);
      if (!partition) throw new Error(`changelog ${topic} has no partition ${store.task}`);
      const end = BigInt(partition.high);
      if (end > BigInt(partition.low)) pending.set(`${topic}:${store.task}`, { store, end });
    }
  }
  if (pending.size === 0) return 0;

  let restored = 0;
  const consumer = kafka.consumer({
    groupId: `${groupPrefix}.restore-${randomUUID()}`,
    readUncommitted: false,
    maxWaitTimeInMs: 100,
    sessionTimeout: 30_000,
  });
  const done = new Promise<void>((resolve, reject) => {
    // Emitted after every fetched batch, also one of only control records (commit markers end every
    // transaction, so the last offset of a changelog is never a data record).
    consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
      const key = `${payload.topic}:${payload.partition}`;
      const target = pending.get(key);
      if (target && BigInt(payload.lastOffset) + 1n >= target.end) pending.delete(key);
      if (pending.size === 0) resolve();
    });
    consumer.on(consumer.events.CRASH, ({ payload }) => reject(payload.error));
  });
  try {
    await consumer.connect();
    await consumer.subscribe({ topics, fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        const target = pending.get(`${batch.topic}:${batch.partition}`);
        if (!target) {
          consumer.pause([{ topic: batch.topic, partitions: [batch.partition] }]);
          return;
        }
        for (const message of batch.messages) {
          if (!message.key) continue;
          target.store.restore(message.key.toString('utf8'), message.value ? JSON.parse(message.value.toString('utf8')) : null);
          restored++;
        }
      },
    });
    await done;
  } finally {
    await consumer.disconnect().catch((err) => logger.warn('restore consumer did not disconnect cleanly', { err }));
  }
  return restored;
}
