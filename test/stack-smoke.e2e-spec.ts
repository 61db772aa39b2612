/**
 * Proves the local stack is real: a Kafka broker, a Confluent-compatible registry and an S3 API,
 * reached through the same config, clients and auth code the services use.
 */
import { SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import {
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
} from '@aws-sdk/client-s3';
import type { Admin, Consumer, Kafka, Producer } from 'kafkajs';
import { loadConfig } from '@app/config';
import { createKafkaClient } from '@app/kafka';
import { createS3Client, sseKmsParams } from '@app/object-store';
import { uniqueName, waitFor } from '@app/testing';

const config = loadConfig(process.env, { service: 'stack-smoke-test', defaultHttpPort: 0 });

const smokeSchema = {
  type: 'record',
  name: 'SmokeRecord',
  namespace: 'com.securecart.test',
  fields: [
    { name: 'id', type: 'int' },
    { name: 'sku', type: 'string' },
    { name: 'note', type: ['null', 'string'], default: null },
  ],
};

interface SmokeRecord {
  id: number;
  sku: string;
  note: string | null;
}

describe('local stack smoke', () => {
  let kafka: Kafka;
  let admin: Admin;
  let producer: Producer;
  let consumer: Consumer | undefined;

  beforeAll(async () => {
    kafka = createKafkaClient(config.kafka);
    admin = kafka.admin();
    producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await Promise.all([admin.connect(), producer.connect()]);
  });

  afterAll(async () => {
    await consumer?.disconnect();
    await Promise.all([producer.disconnect(), admin.disconnect()]);
  });

  it('produces 1,000 Avro records in the Confluent wire format and consumes them in a group', async () => {
    const topic = uniqueName('smoke.records.v1');
    await admin.createTopics({ topics: [{ topic, numPartitions: 3 }], waitForLeaders: true });

    const registry = new SchemaRegistry({ host: config.schemaRegistry.url });
    const { id: schemaId } = await registry.register(
      { type: SchemaType.AVRO, schema: JSON.stringify(smokeSchema) },
      { subject: `${topic}-value` },
    );
    expect(await registry.getLatestSchemaId(`${topic}-value`)).toBe(schemaId);

    const sent: SmokeRecord[] = Array.from({ length: 1000 }, (_, i) => ({
      id: i,
      sku: `SKU-${i % 37}`,
      note: i % 3 === 0 ? null : `note ${i}`,
    }));
    const messages = await Promise.all(
      sent.map(async (record) => ({ key: String(record.id), value: await registry.encode(schemaId, record) })),
    );
    // Confluent wire format: magic byte 0, then the 4-byte big-endian schema id.
    expect(messages[0].value[0]).toBe(0);
    expect(messages[0].value.readInt32BE(1)).toBe(schemaId);
    await producer.send({ topic, acks: -1, messages });

    const received = new Map<number, SmokeRecord>();
    const groupId = uniqueName('smoke-group');
    consumer = kafka.consumer({ groupId });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        const record = (await registry.decode(message.value!)) as SmokeRecord;
        received.set(record.id, record);
      },
    });
    await waitFor(() => received.size === sent.length, { what: '1,000 records', timeoutMs: 60_000 });

    const decoded = [...received.values()].sort((a, b) => a.id - b.id);
    expect(decoded).toEqual(sent);

    // The group committed its progress on the broker: committed offsets add up to every record.
    await waitFor(
      async () => {
        const [{ partitions }] = await admin.fetchOffsets({ groupId, topics: [topic] });
        return partitions.reduce((sum, p) => sum + Math.max(0, Number(p.offset)), 0) === sent.length;
      },
      { what: 'committed offsets to reach 1,000' },
    );
  });

  it('puts, lists and gets an object with SSE-KMS on the S3 endpoint', async () => {
    const s3 = createS3Client(config.objectStore);
    const Bucket = uniqueName('smoke');
    await s3.send(new CreateBucketCommand({ Bucket }));
    const Key = 'topics/smoke/dt=2026-11-26/hour=01/part-0.avro';
    try {
      const put = await s3.send(
        new PutObjectCommand({ Bucket, Key, Body: 'hello lake', ...sseKmsParams(config.objectStore) }),
      );
      expect(put.ServerSideEncryption).toBe('aws:kms');

      const listed = await s3.send(new ListObjectsV2Command({ Bucket, Prefix: 'topics/smoke/' }));
      expect(listed.Contents?.map((o) => o.Key)).toEqual([Key]);

      const got = await s3.send(new GetObjectCommand({ Bucket, Key }));
      expect(await got.Body!.transformToString()).toBe('hello lake');
      expect(got.ServerSideEncryption).toBe('aws:kms');
    } finally {
      await s3.send(new DeleteObjectCommand({ Bucket, Key }));
      await s3.send(new DeleteBucketCommand({ Bucket }));
      s3.destroy();
    }
  });
});
