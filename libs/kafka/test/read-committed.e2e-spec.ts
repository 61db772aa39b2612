/**
 * kafkajs 2.2.4 hands records of aborted transactions to read_committed consumers when transactions of
 * several producers overlap on a partition (what a killed service with several tasks leaves behind).
 * Against the real broker: with our filter installed, a plain kafkajs consumer sees only committed data.
 */
import { Kafka, type Producer } from 'kafkajs';
import { uniqueName, waitFor } from '@app/testing';
import { installReadCommittedFilter } from '@app/kafka';

jest.setTimeout(60_000);

const kafka = new Kafka({ clientId: 'read-committed-e2e', brokers: (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(','), logLevel: 1 });

async function transactional(name: string): Promise<Producer> {
  const producer = kafka.producer({ transactionalId: name, idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  return producer;
}

/** Reads one partition from `fromOffset` to its end with read_committed; returns the values seen. */
async function readCommitted(topic: string, fromOffset: string): Promise<string[]> {
  const admin = kafka.admin();
  await admin.connect();
  const [{ high }] = await admin.fetchTopicOffsets(topic);
  await admin.disconnect();
  const seen: string[] = [];
  let reached = false;
  const consumer = kafka.consumer({ groupId: uniqueName('read-committed'), readUncommitted: false, maxWaitTimeInMs: 100 });
  consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
    if (BigInt(payload.lastOffset) + 1n >= BigInt(high)) reached = true;
  });
  consumer.on(consumer.events.GROUP_JOIN, () => consumer.seek({ topic, partition: 0, offset: fromOffset }));
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({ autoCommit: false, eachMessage: async ({ message }) => void seen.push(message.value!.toString()) });
  try {
    await waitFor(() => reached, { timeoutMs: 20_000, what: `${topic} read to offset ${high}` });
  } finally {
    await consumer.disconnect();
  }
  return seen;
}

/** One committed transaction holding `value` (what the reader must see). */
async function commitOne(producer: Producer, topic: string, value: string): Promise<void> {
  const tx = await producer.transaction();
  await tx.send({ topic, messages: [{ value }] });
  await tx.commit();
}

describe('read_committed over overlapping aborted transactions (real broker)', () => {
  let topic: string;
  /** Two transactional producers of the test's topic. */
  let first: Producer;
  let second: Producer;

  beforeAll(() => installReadCommittedFilter());

  beforeEach(async () => {
    topic = uniqueName('read-committed');
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
    await admin.disconnect();
    [first, second] = await Promise.all([transactional(`${topic}-a`), transactional(`${topic}-b`)]);
  });

  afterEach(async () => {
    await Promise.all([first, second].map((p) => p.disconnect()));
  });

  it('hides both transactions when the later-started one is aborted first', async () => {
    const t1 = await first.transaction();
    await t1.send({ topic, messages: [{ value: 'aborted-first-started' }] });
    const t2 = await second.transaction();
    await t2.send({ topic, messages: [{ value: 'aborted-second-started' }] });
    await t2.abort();
    await t1.abort();
    await commitOne(second, topic, 'committed');
    expect(await readCommitted(topic, '0')).toEqual(['committed']);
  });

  it('hides every transaction begun before the first fetched offset', async () => {
    const t1 = await first.transaction();
    const t2 = await second.transaction();
    await t1.send({ topic, messages: [{ value: 'a0' }] }); // offset 0
    await t2.send({ topic, messages: [{ value: 'b1' }] }); // offset 1
    await t1.send({ topic, messages: [{ value: 'a2' }] }); // offset 2
    await t2.send({ topic, messages: [{ value: 'b3' }] }); // offset 3
    await t1.abort();
    await t2.abort();
    await commitOne(first, topic, 'committed');
    // From offset 3 both aborted transactions have begun already: b3 must stay hidden.
    expect(await readCommitted(topic, '3')).toEqual(['committed']);
  });
});
