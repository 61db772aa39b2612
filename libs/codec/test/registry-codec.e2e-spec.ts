/**
 * The codec against the real schema registry (and broker): round trips, evolution across registered
 * versions, the compatibility rule, and every typed error provoked for real.
 */
import type { Kafka } from 'kafkajs';
import { readFileSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { loadConfig } from '@app/config';
import {
  avroSchema,
  CorruptPayloadError,
  createSchemaRegistry,
  IncompatibleSchemaError,
  InvalidRecordError,
  MagicByteError,
  RegistryAuthError,
  RegistryCodec,
  RegistryRejectedError,
  RegistryRequestCounter,
  RegistryUnavailableError,
  SchemaMismatchError,
  SchemaNotRegisteredError,
  TruncatedPayloadError,
  UnknownSchemaIdError,
  valueSubject,
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

  describe('ambiguous unions (wrapped values) through the real registry', () => {
    const placed = { type: 'record', name: 'Placed', namespace: 'com.securecart.test', fields: [{ name: 'orderId', type: 'string' }] };
    const cancelled = { type: 'record', name: 'Cancelled', namespace: 'com.securecart.test', fields: [{ name: 'orderId', type: 'string' }, { name: 'reason', type: 'string' }] };

    it('registers, encodes and decodes a record with ["int","long"] and a union of two records', async () => {
      const schema = avroSchema({
        type: 'record',
        name: 'OrderEvent',
        namespace: 'com.securecart.test',
        fields: [
          { name: 'event', type: [placed, cancelled] },
          { name: 'quantity', type: ['int', 'long'] },
        ],
      });
      const { codec } = freshCodec();
      const topic = uniqueName('test.order-events.v1');
      const value = { event: { 'com.securecart.test.Cancelled': { orderId: 'o-1', reason: 'late' } }, quantity: { long: 2 ** 40 } };
      const bytes = await codec.encode(topic, schema, value);
      // A fresh codec: the writer schema comes back from the registry and is parsed there, not reused.
      expect(await freshCodec().codec.deserializerFor(schema).decode(bytes)).toEqual(value);
    });

    it('registers, encodes and decodes a top-level union of two records (several event types on one topic)', async () => {
      const schema = avroSchema([placed, cancelled]);
      const { codec } = freshCodec();
      const topic = uniqueName('test.order-events.v1');
      const value = { 'com.securecart.test.Placed': { orderId: 'o-2' } };
      const bytes = await codec.encode(topic, schema, value);
      expect(await freshCodec(false).codec.serializerFor(topic, schema)).toMatchObject({ schemaId: bytes.readUInt32BE(1) });
      const rule = await fetch(`${config.schemaRegistry.url}/config/${encodeURIComponent(valueSubject(topic))}`);
      expect(await rule.json()).toMatchObject({ compatibilityLevel: 'BACKWARD_TRANSITIVE' });
      // Registering again finds the rule in place and keeps the id.
      expect(await freshCodec().codec.encode(topic, schema, value)).toEqual(bytes);
      expect(await freshCodec().codec.deserializerFor(schema).decode(bytes)).toEqual(value);
    });
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

  it('is refused by the registry when a schema breaks BACKWARD_TRANSITIVE, naming the field', async () => {
    const { codec } = freshCodec();
    const topic = uniqueName('orders.order-placed.v1');
    await codec.encode(topic, topics.orderPlaced.schema, exampleEvents.orderPlaced);
    const breaking = JSON.parse(topics.orderPlaced.schema.json);
    breaking.fields.push({ name: 'loyaltyTier', type: 'string', doc: 'no default: breaks old data' });
    const error = await failureOf(codec.serializerFor(topic, avroSchema(breaking)));
    expect(error).toBeInstanceOf(IncompatibleSchemaError);
    expect(error.retriable).toBe(false);
    // The registry's own verdict, not a local guess: its diff names the field, and it kept one version.
    expect(error.message).toMatch(/loyaltyTier/);
    const versions = await fetch(`${config.schemaRegistry.url}/subjects/${encodeURIComponent(valueSubject(topic))}/versions`);
    expect(await versions.json()).toEqual([1]);
  });

  describe('on the production path (autoRegister: false)', () => {
    it('refuses a schema that was never registered under the subject, as SchemaNotRegisteredError', async () => {
      const topic = uniqueName('orders.order-placed.v1');
      await freshCodec(true).codec.encode(topic, topics.orderPlaced.schema, exampleEvents.orderPlaced);
      const { codec } = freshCodec(false);
      // Registered: found, same id as the one the auto-registering producer got.
      await expect(codec.serializerFor(topic, topics.orderPlaced.schema)).resolves.toMatchObject({ schemaId: expect.any(Number) });
      // Not registered under an existing subject, and under a subject that does not exist at all.
      for (const [t, schema] of [
        [topic, orderPlacedV2],
        [uniqueName('orders.order-placed.v1'), topics.orderPlaced.schema],
      ] as const) {
        const error = await failureOf(codec.serializerFor(t, schema));
        expect(error).toBeInstanceOf(SchemaNotRegisteredError);
        expect((error as SchemaNotRegisteredError).subject).toBe(valueSubject(t));
        expect(error.retriable).toBe(false);
      }
    });
  });

  it('reports a request the registry refuses as a non-retriable RegistryRejectedError', async () => {
    // Subjects longer than 512 characters are refused with 400 by the registry itself: sending the same
    // request again can never succeed, so records must not wait for it.
    for (const autoRegister of [true, false]) {
      const { codec } = freshCodec(autoRegister);
      const error = await failureOf(codec.serializerFor('t'.repeat(600), topics.orderPlaced.schema));
      expect(error).toBeInstanceOf(RegistryRejectedError);
      expect((error as RegistryRejectedError).status).toBe(400);
      expect(error.message).toMatch(/512/);
      expect(error.retriable).toBe(false);
    }
  });

  it('reports a writer schema the reader cannot resolve as SchemaMismatchError, and corrupt bodies', async () => {
    const { codec } = freshCodec();
    const unrelated = avroSchema({ type: 'record', name: 'Unrelated', namespace: 'com.securecart.test', fields: [{ name: 'x', type: 'int' }] });
    const foreign = await codec.encode(uniqueName('orders.order-placed.v1'), unrelated, { x: 1 });
    const deserializer = codec.deserializerFor(topics.orderPlaced.schema);
    const mismatch = await failureOf(deserializer.decode(foreign));
    expect(mismatch).toBeInstanceOf(SchemaMismatchError);
    expect(mismatch.retriable).toBe(false);

    const good = await codec.encode(uniqueName('orders.order-placed.v1'), topics.orderPlaced.schema, exampleEvents.orderPlaced);
    const corrupt = await failureOf(deserializer.decode(Buffer.concat([good, Buffer.from([1])])));
    expect(corrupt).toBeInstanceOf(CorruptPayloadError);
    expect(corrupt.retriable).toBe(false);
  });

  it('names the invalid field of a record that does not match its registered schema', async () => {
    const { codec } = freshCodec();
    const serializer = await codec.serializerFor(uniqueName('orders.order-placed.v1'), topics.orderPlaced.schema);
    let error: unknown;
    try {
      serializer.encode({ ...exampleEvents.orderPlaced, grandTotal: 12.5 });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(InvalidRecordError);
    expect((error as InvalidRecordError).paths).toEqual(['grandTotal']);
    expect((error as InvalidRecordError).retriable).toBe(false);
  });

  describe('behind a gateway that demands credentials', () => {
    // The local registry runs without auth, as most do behind an authenticating gateway: this proxy
    // plays the gateway (401 without the right Basic credentials) and forwards to the real registry.
    let gateway: Server;
    let gatewayUrl: string;
    const expected = 'Basic ' + Buffer.from('codec:right-password').toString('base64');
    const upstream = new URL(config.schemaRegistry.url);

    beforeAll(async () => {
      gateway = createServer((req, res) => {
        if (req.headers.authorization !== expected) {
          res.writeHead(401, { 'Content-Type': 'application/json' }).end('{"error_code":40101,"message":"Unauthorized"}');
          return;
        }
        const forward = request(
          { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers },
          (answer) => {
            res.writeHead(answer.statusCode ?? 502, answer.headers);
            answer.pipe(res);
          },
        );
        req.pipe(forward);
      });
      await new Promise<void>((resolve) => gateway.listen(0, '127.0.0.1', resolve));
      gatewayUrl = `http://127.0.0.1:${(gateway.address() as AddressInfo).port}${upstream.pathname}`;
    });
    afterAll(() => new Promise((resolve) => gateway.close(resolve)));

    it('pauses (retriable RegistryAuthError) on wrong credentials and works with the right ones', async () => {
      const topic = uniqueName('orders.order-placed.v1');
      const wrong = new RegistryCodec(createSchemaRegistry({ url: gatewayUrl, username: 'codec', password: 'wrong' }), { autoRegister: true });
      const produceError = await failureOf(wrong.serializerFor(topic, topics.orderPlaced.schema));
      expect(produceError).toBeInstanceOf(RegistryAuthError);
      expect(produceError.retriable).toBe(true);
      const consumeError = await failureOf(wrong.deserializerFor(topics.orderPlaced.schema).decode(Buffer.from([0, 0, 0, 0, 1, 0])));
      expect(consumeError).toBeInstanceOf(RegistryAuthError);

      const right = new RegistryCodec(createSchemaRegistry({ url: gatewayUrl, username: 'codec', password: 'right-password' }), { autoRegister: true });
      const bytes = await right.encode(topic, topics.orderPlaced.schema, exampleEvents.orderPlaced);
      expect(await right.deserializerFor(topics.orderPlaced.schema).decode(bytes)).toEqual(exampleEvents.orderPlaced);
    });
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
