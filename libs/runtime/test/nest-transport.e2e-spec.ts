/**
 * The runtime as a Nest custom transport: `@EventPattern(topic)` handlers get the InboundRecord and the
 * HandlerContext, their outputs commit exactly once, and a handler's NonRetriableError keeps its class
 * through Nest's exception layer, so the record lands in the DLQ and the partition moves on.
 */
import { Controller, Injectable, Module, type INestApplication, type OnModuleInit, Inject } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import type { Kafka, Producer } from 'kafkajs';
import { avroSchema, createSchemaRegistry, RegistryCodec } from '@app/codec';
import { loadConfig } from '@app/config';
import { createKafkaClient } from '@app/kafka';
import { createLogger } from '@app/logging';
import { attachKafkaTransport, KAFKA_TRANSPORT, KafkaTransportModule, PlatformModule, type KafkaRuntimeTransport } from '@app/platform';
import { DLQ_HEADERS, NonRetriableError, type HandlerContext, type InboundRecord } from '@app/runtime';
import { committedOffsets, endOffsets, readTopic, uniqueName, waitFor } from '@app/testing';

const service = uniqueName('runtime-nest');
const config = loadConfig(process.env, { service, defaultHttpPort: 0 });
const logger = createLogger({ service }, 'warn');
const input = uniqueName('test.nest-in.v1');
const output = uniqueName('test.nest-out.v1');
const ticks = `${service}.ticks`;

const itemSchema = avroSchema({
  type: 'record',
  name: 'Item',
  namespace: 'com.securecart.test',
  fields: [
    { name: 'id', type: 'string' },
    { name: 'valid', type: 'boolean' },
  ],
});
interface Item {
  id: string;
  valid: boolean;
}

@Controller()
class ItemsHandler {
  @EventPattern(input)
  onItem(@Payload() record: InboundRecord<Item>, @Ctx() ctx: HandlerContext): void {
    if (!record.value.valid) throw new NonRetriableError(`item ${record.value.id} is invalid`, 'INVALID_ITEM');
    ctx.store<number>('seen').put(record.value.id, 1);
    ctx.emit({ topic: output, key: record.value.id, value: { id: record.value.id, valid: true } });
  }
}

/** A punctuation that counts the store's live keys into an internal (JSON) topic. */
@Injectable()
class Ticker implements OnModuleInit {
  constructor(@Inject(KAFKA_TRANSPORT) private readonly transport: KafkaRuntimeTransport) {}
  onModuleInit(): void {
    this.transport.punctuate(200, (task, ctx) => {
      const seen = [...ctx.store<number>('seen').entries()].length;
      if (seen > 0) ctx.emit({ topic: ticks, key: `task-${task}`, value: { task, seen } });
    });
  }
}

@Module({
  imports: [
    PlatformModule.forRoot(config, logger),
    KafkaTransportModule.forRoot({
      avroTopics: [
        { name: input, schema: itemSchema },
        { name: output, schema: itemSchema },
      ],
      internalTopics: [{ name: ticks, partitions: 2 }],
      stores: ['seen'],
      tuning: { consumer: { maxWaitTimeInMs: 100 } },
    }),
  ],
  controllers: [ItemsHandler],
  providers: [Ticker],
})
class TestAppModule {}

describe('KafkaRuntimeTransport (Nest custom transport)', () => {
  let kafka: Kafka;
  let producer: Producer;
  let app: INestApplication | undefined;

  beforeAll(async () => {
    kafka = createKafkaClient(config.kafka);
    producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ waitForLeaders: true, topics: [{ topic: input, numPartitions: 2 }, { topic: output, numPartitions: 2 }] });
    await admin.disconnect();
  });

  afterAll(async () => {
    await app?.close();
    await producer.disconnect();
  });

  it('runs @EventPattern handlers exactly once, dead-letters NonRetriableError, runs punctuations', async () => {
    const codec = new RegistryCodec(createSchemaRegistry(config.schemaRegistry), { autoRegister: true });
    const serializer = await codec.serializerFor<Item>(input, itemSchema);
    const items = Array.from({ length: 40 }, (_, i) => ({ id: `item-${i}`, valid: i % 10 !== 3 }));
    await producer.send({
      topic: input,
      acks: -1,
      messages: items.map((item) => ({ key: item.id, value: serializer.encode(item), headers: { origin: 'test' } })),
    });

    app = await NestFactory.create(TestAppModule, { logger: false });
    attachKafkaTransport(app);
    await app.init();
    await app.startAllMicroservices();

    const ends = await endOffsets(kafka, input);
    await waitFor(async () => {
      const committed = await committedOffsets(kafka, service, input);
      return [...ends].every(([p, end]) => committed.get(p) === end);
    }, { what: 'offsets committed through the bad records' });

    const outputs = await readTopic(kafka, output);
    expect(outputs.map((m) => m.key!.toString()).sort()).toEqual(items.filter((i) => i.valid).map((i) => i.id).sort());

    const dead = await readTopic(kafka, `${input}.dlq`);
    expect(dead.map((m) => m.key!.toString()).sort()).toEqual(['item-13', 'item-23', 'item-3', 'item-33']);
    const first = dead.find((m) => m.key!.toString() === 'item-3')!;
    const header = (name: string) => first.headers?.[name]?.toString();
    expect(first.value).toEqual(serializer.encode({ id: 'item-3', valid: false }));
    expect(header(DLQ_HEADERS.errorClass)).toBe('NonRetriableError');
    expect(header(DLQ_HEADERS.errorMessage)).toBe('item item-3 is invalid');
    expect(header(DLQ_HEADERS.errorCode)).toBe('INVALID_ITEM');
    expect(header(DLQ_HEADERS.sourceTopic)).toBe(input);
    expect(header(DLQ_HEADERS.service)).toBe(service);
    expect(header('origin')).toBe('test');
    const original = (await readTopic(kafka, input)).find((m) => m.key!.toString() === 'item-3')!;
    expect(header(DLQ_HEADERS.sourcePartition)).toBe(String(original.partition));
    expect(header(DLQ_HEADERS.sourceOffset)).toBe(original.offset);
    expect(Number.isNaN(Date.parse(header(DLQ_HEADERS.time)!))).toBe(false);

    // Punctuations see the committed store: together the tasks report every valid item.
    await waitFor(async () => {
      const latest = new Map<string, number>();
      for (const m of await readTopic(kafka, ticks)) latest.set(m.key!.toString(), JSON.parse(m.value!.toString()).seen);
      return [...latest.values()].reduce((a, b) => a + b, 0) === 36;
    }, { what: 'punctuations counting 36 stored items' });

    await app.close();
    app = undefined;
  });
});
