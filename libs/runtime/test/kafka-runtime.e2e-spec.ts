/**
 * The runtime on the real broker and registry: consume-transform-produce exactly once, state restored
 * from its changelog after a restart, committed offsets, traceparent propagation.
 */
import type { Kafka, Producer } from 'kafkajs';
import { Registry } from 'prom-client';
import { avroSchema, createSchemaRegistry, RegistryCodec } from '@app/codec';
import { loadConfig } from '@app/config';
import { createKafkaClient } from '@app/kafka';
import { createLogger } from '@app/logging';
import { KafkaRuntime, parseTraceparent, producerWithCachedCoordinators, type KafkaRuntimeOptions } from '@app/runtime';
import { committedOffsets, endOffsets, readTopic, uniqueName, waitFor } from '@app/testing';

const config = loadConfig(process.env, { service: 'runtime-e2e', defaultHttpPort: 0 });
const logger = createLogger({ service: 'runtime-e2e' }, 'warn');

const countSchema = avroSchema({
  type: 'record',
  name: 'KeyCount',
  namespace: 'com.securecart.test',
  fields: [
    { name: 'id', type: 'string' },
    { name: 'n', type: 'int' },
  ],
});

interface KeyCount {
  id: string;
  n: number;
}

const fastTuning = { consumer: { maxWaitTimeInMs: 100, sessionTimeoutMs: 10_000, heartbeatIntervalMs: 1_000 }, backoff: { initialMs: 50, maxMs: 500 } };

describe('KafkaRuntime', () => {
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

  async function createTopics(...topics: Array<[string, number]>) {
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ waitForLeaders: true, topics: topics.map(([topic, numPartitions]) => ({ topic, numPartitions })) });
    await admin.disconnect();
  }

  function runtime(options: Partial<KafkaRuntimeOptions> & Pick<KafkaRuntimeOptions, 'handlers' | 'service'>): KafkaRuntime {
    const r = new KafkaRuntime({ kafka, codec, logger, metrics: new Registry(), tuning: fastTuning, ...options });
    runtimes.push(r);
    return r;
  }

  async function send(topic: string, records: KeyCount[], headers?: Record<string, string>) {
    const serializer = await codec.serializerFor<KeyCount>(topic, countSchema);
    await producer.send({ topic, acks: -1, messages: records.map((r) => ({ key: r.id, value: serializer.encode(r), headers })) });
  }

  async function decodeAll(topic: string) {
    const messages = await readTopic(kafka, topic);
    const decoded = await codec.deserializerFor<KeyCount>(countSchema).decodeAll(messages.map((m) => m.value!));
    return decoded.map((d, i) => {
      if (!d.ok) throw d.error;
      return { ...d.value, key: messages[i].key!.toString(), headers: messages[i].headers };
    });
  }

  it('commits outputs, state and offsets together exactly once, and restores state after a restart', async () => {
    const service = uniqueName('runtime-ctp');
    const input = uniqueName('test.counts-in.v1');
    const output = uniqueName('test.totals-out.v1');
    await createTopics([input, 3], [output, 3]);
    const keys = Array.from({ length: 20 }, (_, i) => `key-${i}`);
    const firstRound = Array.from({ length: 200 }, (_, i) => ({ id: keys[i % keys.length], n: 1 }));
    const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    await send(input, firstRound, { traceparent });

    // Running totals per key in a store: the output for the k-th record of a key is k.
    const options = {
      service,
      avroTopics: [
        { name: input, schema: countSchema },
        { name: output, schema: countSchema },
      ],
      stores: ['totals'],
      handlers: {
        [input]: (record: { value: KeyCount }, ctx: import('@app/runtime').HandlerContext) => {
          const totals = ctx.store<number>('totals');
          const total = (totals.get(record.value.id) ?? 0) + record.value.n;
          totals.put(record.value.id, total);
          ctx.emit({ topic: output, key: record.value.id, value: { id: record.value.id, n: total } });
        },
      },
    } as const;
    const first = runtime(options as unknown as KafkaRuntimeOptions);
    await first.start();
    const ends = await endOffsets(kafka, input);
    await waitFor(async () => {
      const committed = await committedOffsets(kafka, service, input);
      return [...ends].every(([p, end]) => committed.get(p) === end);
    }, { what: 'input offsets committed to the end' });

    const afterFirst = await decodeAll(output);
    expect(afterFirst).toHaveLength(200);
    for (const key of keys) {
      expect(afterFirst.filter((o) => o.id === key).map((o) => o.n).sort((a, b) => a - b)).toEqual(Array.from({ length: 10 }, (_, i) => i + 1));
    }
    // Same trace, a span of the runtime's own.
    const outTrace = parseTraceparent(afterFirst[0].headers!.traceparent!.toString());
    expect(outTrace?.traceId).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
    expect(outTrace?.spanId).not.toBe('00f067aa0ba902b7');

    await first.close();
    await send(input, keys.map((id) => ({ id, n: 5 })));
    const second = runtime(options as unknown as KafkaRuntimeOptions);
    await second.start();
    const ends2 = await endOffsets(kafka, input);
    await waitFor(async () => {
      const committed = await committedOffsets(kafka, service, input);
      return [...ends2].every(([p, end]) => committed.get(p) === end);
    }, { what: 'second run committed to the end' });
    const afterSecond = await decodeAll(output);
    expect(afterSecond).toHaveLength(220);
    // The restored totals continue where the first instance stopped: 10 + 5 for every key.
    expect(afterSecond.slice().filter((o) => o.n === 15).map((o) => o.id).sort()).toEqual([...keys].sort());
    expect(afterSecond.filter((o) => o.n > 15)).toEqual([]);
  });

  it('splits a batch whose outputs exceed the broker max message size into several requests of one transaction', async () => {
    const service = uniqueName('runtime-big-batch');
    const input = uniqueName('test.big-in.v1');
    const output = uniqueName('test.big-out.v1');
    await createTopics([input, 1], [output, 1]);
    const bigSchema = avroSchema({ type: 'record', name: 'Big', namespace: 'com.securecart.test', fields: [{ name: 'id', type: 'string' }, { name: 'blob', type: 'string' }] });
    const serializer = await codec.serializerFor<{ id: string; blob: string }>(input, bigSchema);
    const blob = 'b'.repeat(4_000);
    // One fetch brings up to 1 MiB of input; the handler emits each record twice, so one batch's outputs
    // to the single output partition are about 2 MiB, over the broker's default max.message.bytes.
    for (let from = 0; from < 600; from += 150) {
      await producer.send({ topic: input, acks: -1, messages: Array.from({ length: 150 }, (_, i) => ({ key: String(from + i), value: serializer.encode({ id: String(from + i), blob }) })) });
    }
    const r = runtime({
      service,
      avroTopics: [{ name: input, schema: bigSchema }, { name: output, schema: bigSchema }],
      handlers: {
        [input]: (record: { key: string | null; value: unknown }, ctx: import('@app/runtime').HandlerContext) => {
          ctx.emit({ topic: output, key: `${record.key}-a`, value: record.value });
          ctx.emit({ topic: output, key: `${record.key}-b`, value: record.value });
        },
      },
    } as unknown as KafkaRuntimeOptions);
    await r.start();
    await waitFor(async () => (await committedOffsets(kafka, service, input)).get(0) === 600n, { what: 'all 600 large records committed' });
    expect((await readTopic(kafka, output)).map((m) => m.key!.toString())).toEqual(Array.from({ length: 600 }, (_, i) => [`${i}-a`, `${i}-b`]).flat());
  });

  it('looks transaction and group coordinators up once per producer, not before every transactional request', async () => {
    const topic = uniqueName('test.coordinators.v1');
    await createTopics([topic, 1]);
    const countLookups = async (make: (config: Parameters<Kafka['producer']>[0]) => Producer) => {
      const p = make({ transactionalId: uniqueName('runtime-e2e.coordinators'), idempotent: true, maxInFlightRequests: 1 });
      let lookups = 0;
      p.on(p.events.REQUEST, ({ payload }) => {
        if (payload.apiName === 'GroupCoordinator' || payload.apiName === 'FindCoordinator') lookups++;
      });
      await p.connect();
      for (let i = 0; i < 3; i++) {
        const tx = await p.transaction();
        await tx.send({ topic, messages: [{ key: String(i), value: 'v' }] });
        await tx.sendOffsets({ consumerGroupId: uniqueName('runtime-e2e.group'), topics: [{ topic, partitions: [{ partition: 0, offset: String(i) }] }] });
        await tx.commit();
      }
      await p.disconnect();
      return lookups;
    };
    const plain = await countLookups((config) => kafka.producer(config));
    const cached = await countLookups((config) => producerWithCachedCoordinators(kafka, config!).producer);
    // Three transactions: kafkajs alone asks before every AddPartitions/AddOffsets/TxnOffsetCommit/EndTxn.
    expect(plain).toBeGreaterThanOrEqual(12);
    // Once for the transactional id (InitProducerId), once per consumer group (a new group per transaction here).
    expect(cached).toBeLessThanOrEqual(4);
    expect((await readTopic(kafka, topic)).map((m) => m.key!.toString())).toEqual(['0', '1', '2', '0', '1', '2']);
  });
});
