/**
 * Zombie fencing without KIP-447: instance A stalls inside its transaction (outputs and offsets sent,
 * commit not yet), is evicted from the group, and B takes the partition over. B's InitProducerId for the
 * same task id aborts A's open transaction and bumps the epoch, so when A wakes up its commit fails and
 * its output never becomes visible to read_committed consumers: every record is in the output once.
 */
import type { Kafka, Producer } from 'kafkajs';
import { Registry } from 'prom-client';
import { avroSchema, createSchemaRegistry, RegistryCodec } from '@app/codec';
import { loadConfig } from '@app/config';
import { createKafkaClient } from '@app/kafka';
import { createLogger } from '@app/logging';
import { KafkaRuntime, type HandlerContext, type InboundRecord } from '@app/runtime';
import { committedOffsets, readTopic, uniqueName, waitFor } from '@app/testing';

const config = loadConfig(process.env, { service: 'runtime-zombie-e2e', defaultHttpPort: 0 });
const logger = createLogger({ service: 'runtime-zombie-e2e' }, 'error');

const eventSchema = avroSchema({
  type: 'record',
  name: 'Tagged',
  namespace: 'com.securecart.test',
  fields: [
    { name: 'seq', type: 'int' },
    { name: 'by', type: 'string' },
  ],
});
interface Tagged {
  seq: number;
  by: string;
}

// The broker's minimum session timeout (group.min.session.timeout.ms) is 6 s: eviction takes that long.
const tuning = { consumer: { maxWaitTimeInMs: 100, sessionTimeoutMs: 6_000, rebalanceTimeoutMs: 6_000, heartbeatIntervalMs: 500 } };

describe('zombie fencing', () => {
  let kafka: Kafka;
  let producer: Producer;
  const codec = new RegistryCodec(createSchemaRegistry(config.schemaRegistry), { autoRegister: true });
  const runtimes: KafkaRuntime[] = [];

  beforeAll(async () => {
    kafka = createKafkaClient(config.kafka);
    producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
  });

  afterAll(async () => {
    await Promise.all(runtimes.map((r) => r.close()));
    await producer.disconnect();
  });

  it('an instance whose partition was reassigned cannot commit output for it anymore', async () => {
    const service = uniqueName('runtime-zombie');
    const input = uniqueName('test.zombie-in.v1');
    const output = uniqueName('test.zombie-out.v1');
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ waitForLeaders: true, topics: [{ topic: input, numPartitions: 1 }, { topic: output, numPartitions: 1 }] });
    await admin.disconnect();
    const serializer = await codec.serializerFor<Tagged>(input, eventSchema);
    await producer.send({ topic: input, acks: -1, messages: Array.from({ length: 10 }, (_, i) => ({ key: String(i), value: serializer.encode({ seq: i, by: 'input' }) })) });

    const instance = (name: string, beforeCommit?: () => Promise<void>) => {
      const metrics = new Registry();
      const runtime = new KafkaRuntime({
        kafka,
        codec,
        logger,
        metrics,
        service,
        tuning,
        avroTopics: [{ name: input, schema: eventSchema }, { name: output, schema: eventSchema }],
        handlers: {
          [input]: (record: InboundRecord<Tagged>, ctx: HandlerContext) =>
            ctx.emit({ topic: output, key: String(record.value.seq), value: { seq: record.value.seq, by: name } }),
        },
        beforeCommit,
      });
      runtimes.push(runtime);
      return { runtime, metrics };
    };

    // A blocks inside its first transaction, after sending outputs and offsets.
    let stalled!: () => void;
    const inCommit = new Promise<void>((resolve) => (stalled = resolve));
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    let blocked = false;
    const a = instance('A', async () => {
      if (blocked) return;
      blocked = true;
      stalled();
      await released;
    });
    await a.runtime.start();
    await inCommit;

    // B joins; A cannot heartbeat while stalled, is evicted, and B gets the partition.
    const b = instance('B');
    await b.runtime.start();
    await waitFor(async () => (await committedOffsets(kafka, service, input)).get(0) === 10n, { what: 'B committing every record', timeoutMs: 60_000 });
    expect(b.runtime.ownedTasks()).toEqual([0]);

    // A wakes up and tries to commit: fenced.
    release();
    const aborts = async () => (await a.metrics.getSingleMetricAsString('kafka_runtime_transactions_total')).match(/result="abort"} (\d+)/)?.[1];
    await waitFor(async () => Number(await aborts()) >= 1, { what: "A's commit failing" });
    expect(a.runtime.ownedTasks()).not.toContain(0);

    const committed = await readTopic(kafka, output);
    const decoded = await codec.deserializerFor<Tagged>(eventSchema).decodeAll(committed.map((m) => m.value!));
    const values = decoded.map((d) => (d.ok ? d.value : undefined));
    expect(values.map((v) => v?.seq)).toEqual(Array.from({ length: 10 }, (_, i) => i));
    expect(new Set(values.map((v) => v?.by))).toEqual(new Set(['B']));
    // A's records did reach the log: they are there for read_uncommitted readers, aborted.
    const everything = await readTopic(kafka, output, { readUncommitted: true });
    const all = await codec.deserializerFor<Tagged>(eventSchema).decodeAll(everything.map((m) => m.value!));
    expect(all.some((d) => d.ok && d.value.by === 'A')).toBe(true);
    expect((await committedOffsets(kafka, service, input)).get(0)).toBe(10n);
  });
});
