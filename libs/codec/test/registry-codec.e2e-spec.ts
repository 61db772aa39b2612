/**
 * The codec against the real schema registry (and broker): round trips, evolution across registered
 * versions, the compatibility rule, and every typed error provoked for real.
 */
import type { Kafka } from 'kafkajs';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '@app/config';
import {
  avroSchema,
  createSchemaRegistry,
  IncompatibleSchemaError,
  MagicByteError,
  RegistryCodec,
  RegistryRequestCounter,
  RegistryUnavailableError,
  TruncatedPayloadError,
  UnknownSchemaIdError,
  type CodecError,
} from '@app/codec';
import { allTopics, exampleEvents, topics, type OrderPlaced } from '@app/contracts';
import { createKafkaClient } from '@app/kafka';
import { uniqueName, waitFor } from '@app/testing';

const config = loadConfig(process.env, { service: 'codec-e2e', defaultHttpPort: 0 });

function freshCodec(autoRegister = true) {
  const counter = new RegistryRequestCounter();
  const registry = createSchemaRegistry(config.schemaRegistry, counter);
  return { codec: new RegistryCodec(registry, { autoRegister }), counter };
}

async function failureOf(promise: Promise<unknown>): Promise<CodecError> {
  return promise.then(
    () => {
      throw new Error('expected the codec to fail');
    },
    (err: CodecError) => err,
  );
}

const orderPlacedV2 = avroSchema(
  readFileSync(join(__dirname, '../../contracts/test/evolution/order-placed.v2.avsc'), 'utf8'),
);

describe('RegistryCodec against the real registry', () => {
  it.each(allTopics.map((t) => [t.name, t] as const))('round-trips the example event of %s', async (_name, topic) => {
    const { codec } = freshCodec();
    const key = (Object.keys(topics) as (keyof typeof topics)[]).find((k) => topics[k] === topic)!;
    const event = exampleEvents[key];
    const testTopic = uniqueName(topic.name);
    const bytes = await codec.encode(testTopic, topic.schema, event);
    expect(await codec.deserializerFor(topic.schema).decode(bytes)).toEqual(event);
  });

  it('makes no registry call once schema ids are cached', async () => {
    const { codec, counter } = freshCodec();
    const topic = uniqueName('orders.order-placed.v1');
    const serializer = await codec.serializerFor<OrderPlaced>(topic, topics.orderPlaced.schema);
    const deserializer = codec.deserializerFor<OrderPlaced>(topics.orderPlaced.schema);
    await deserializer.decode(serializer.encode(exampleEvents.orderPlaced));
    const afterWarmUp = counter.count;
    expect(afterWarmUp).toBeGreaterThan(0);
    for (let i = 0; i < 500; i++) {
      await deserializer.decode(serializer.encode({ ...exampleEvents.orderPlaced, orderId: `ord-${i}` }));
    }
    expect(counter.count).toBe(afterWarmUp);
  });

  it('lets v1 and v2 consumers read each other\'s events through Kafka', async () => {
    const { codec } = freshCodec();
    const topic = uniqueName('orders.order-placed.v1');
    const kafka: Kafka = createKafkaClient(config.kafka);
    const admin = kafka.admin();
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await Promise.all([admin.connect(), producer.connect()]);
    await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });

    const v1Event = exampleEvents.orderPlaced;
    const v2Event = { ...v1Event, orderId: 'ord-v2', channel: 'SOCIAL_COMMERCE', giftMessage: 'Enjoy!' };
    const v1Bytes = await codec.encode(topic, topics.orderPlaced.schema, v1Event);
    const v2Bytes = await codec.encode(topic, orderPlacedV2, v2Event);
    expect(v2Bytes.readUInt32BE(1)).not.toBe(v1Bytes.readUInt32BE(1));
    await producer.send({ topic, acks: -1, messages: [{ value: v1Bytes }, { value: v2Bytes }] });

    const consumed: Buffer[] = [];
    const consumer = kafka.consumer({ groupId: uniqueName('codec-e2e') });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({ eachMessage: async ({ message }) => void consumed.push(message.value!) });
    try {
      await waitFor(() => consumed.length === 2, { what: 'both events' });
    } finally {
      await consumer.disconnect();
      await Promise.all([producer.disconnect(), admin.disconnect()]);
    }

    const asV1 = await codec.deserializerFor(topics.orderPlaced.schema).decodeAll(consumed);
    expect(asV1).toEqual([
      { ok: true, value: v1Event },
      { ok: true, value: { ...v1Event, orderId: 'ord-v2', channel: 'UNKNOWN' } },
    ]);
    const asV2 = await codec.deserializerFor(orderPlacedV2).decodeAll(consumed);
    expect(asV2).toEqual([
      { ok: true, value: { ...v1Event, giftMessage: null } },
      { ok: true, value: v2Event },
    ]);
  });

  it('is refused by the registry when a schema breaks BACKWARD_TRANSITIVE', async () => {
    const { codec } = freshCodec();
    const topic = uniqueName('orders.order-placed.v1');
    await codec.encode(topic, topics.orderPlaced.schema, exampleEvents.orderPlaced);
    const breaking = JSON.parse(topics.orderPlaced.schema.json);
    breaking.fields.push({ name: 'loyaltyTier', type: 'string', doc: 'no default: breaks old data' });
    const error = await failureOf(codec.serializerFor(topic, avroSchema(breaking)));
    expect(error).toBeInstanceOf(IncompatibleSchemaError);
    expect(error.retriable).toBe(false);
  });

  it('reports an id the registry does not know as UnknownSchemaIdError', async () => {
    const { codec } = freshCodec();
    const payload = Buffer.from([0, 0x7f, 0xff, 0xff, 0x00, 0x02]);
    const error = await failureOf(codec.deserializerFor(topics.orderPlaced.schema).decode(payload));
    expect(error).toBeInstanceOf(UnknownSchemaIdError);
    expect(error.retriable).toBe(false);
  });

  it('reports a bad magic byte and a truncated payload', async () => {
    const { codec } = freshCodec();
    const bytes = await codec.encode(uniqueName('orders.order-placed.v1'), topics.orderPlaced.schema, exampleEvents.orderPlaced);
    const deserializer = codec.deserializerFor(topics.orderPlaced.schema);
    const plainJson = Buffer.from(JSON.stringify({ orderId: 'x' }));
    expect(await failureOf(deserializer.decode(plainJson))).toBeInstanceOf(MagicByteError);
    expect(await failureOf(deserializer.decode(bytes.subarray(0, bytes.length - 10)))).toBeInstanceOf(TruncatedPayloadError);
  });

  it('reports a registry URL with a wrong path as retriable, not as an unknown schema', async () => {
    const registry = createSchemaRegistry({ url: config.schemaRegistry.url.replace('/apis/ccompat/v7', '/wrong') });
    const codec = new RegistryCodec(registry, { autoRegister: false });
    const error = await failureOf(codec.deserializerFor(topics.orderPlaced.schema).decode(Buffer.from([0, 0, 0, 0, 1, 0])));
    expect(error).toBeInstanceOf(RegistryUnavailableError);
  });

  it('reports an unreachable registry as retriable RegistryUnavailableError', async () => {
    const registry = createSchemaRegistry({ url: 'http://127.0.0.1:9/apis/ccompat/v7' });
    const codec = new RegistryCodec(registry, { autoRegister: true });
    const error = await failureOf(codec.serializerFor(uniqueName('orders.order-placed.v1'), topics.orderPlaced.schema));
    expect(error).toBeInstanceOf(RegistryUnavailableError);
    expect(error.retriable).toBe(true);
    const decodeError = await failureOf(codec.deserializerFor(topics.orderPlaced.schema).decode(Buffer.from([0, 0, 0, 0, 1, 0])));
    expect(decodeError).toBeInstanceOf(RegistryUnavailableError);
  });
});
