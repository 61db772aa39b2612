/**
 * Proves the local stack is real: a Kafka broker, a Confluent-compatible registry and an S3 API,
 * reached through the same config, clients and auth code the services use. It is also the proof that
 * kafkajs 2.2.4 works against Kafka 4.4: produce, consume in a group, commit, and transactions.
 */
import { SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import {
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  UploadPartCommand,
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

  it('commits and aborts Kafka transactions that a read_committed consumer honours', async () => {
    const topic = uniqueName('smoke.transactions.v1');
    await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
    const txProducer = kafka.producer({ transactionalId: uniqueName('smoke-tx'), idempotent: true, maxInFlightRequests: 1 });
    await txProducer.connect();
    try {
      const aborted = await txProducer.transaction();
      await aborted.send({ topic, messages: [{ key: 'a', value: 'aborted' }] });
      await aborted.abort();
      const committed = await txProducer.transaction();
      await committed.send({ topic, messages: [{ key: 'c', value: 'committed' }] });
      await committed.commit();
    } finally {
      await txProducer.disconnect();
    }

    const seen: string[] = [];
    const reader = kafka.consumer({ groupId: uniqueName('smoke-tx-reader'), readUncommitted: false });
    await reader.connect();
    await reader.subscribe({ topic, fromBeginning: true });
    await reader.run({ eachMessage: async ({ message }) => void seen.push(message.value!.toString()) });
    try {
      await waitFor(() => seen.includes('committed'), { what: 'the committed record' });
    } finally {
      await reader.disconnect();
    }
    expect(seen).toEqual(['committed']);
  });

  it('takes a multipart upload with SSE-KMS and SDK checksums', async () => {
    const s3 = createS3Client(config.objectStore);
    const Bucket = uniqueName('smoke-multipart');
    const Key = 'raw/smoke/dt=2026-11-26/hour=01/smoke+0+0.avro';
    await s3.send(new CreateBucketCommand({ Bucket }));
    try {
      const partOne = Buffer.alloc(5 * 1024 * 1024, 'a'); // S3's minimum size for every part but the last
      const partTwo = Buffer.from('tail of the segment');
      const { UploadId } = await s3.send(
        new CreateMultipartUploadCommand({ Bucket, Key, ChecksumAlgorithm: 'CRC32', ...sseKmsParams(config.objectStore) }),
      );
      const parts = [];
      for (const [i, Body] of [partOne, partTwo].entries()) {
        const { ETag, ChecksumCRC32 } = await s3.send(
          new UploadPartCommand({ Bucket, Key, UploadId, PartNumber: i + 1, Body, ChecksumAlgorithm: 'CRC32' }),
        );
        parts.push({ ETag, ChecksumCRC32, PartNumber: i + 1 });
      }
      const completed = await s3.send(
        new CompleteMultipartUploadCommand({ Bucket, Key, UploadId, MultipartUpload: { Parts: parts } }),
      );
      expect(completed.ServerSideEncryption).toBe('aws:kms');

      const got = await s3.send(new GetObjectCommand({ Bucket, Key }));
      const body = Buffer.from(await got.Body!.transformToByteArray());
      expect(body.length).toBe(partOne.length + partTwo.length);
      expect(body.subarray(partOne.length).toString()).toBe('tail of the segment');
      await s3.send(new DeleteObjectCommand({ Bucket, Key }));
    } finally {
      await s3.send(new DeleteBucketCommand({ Bucket }));
      s3.destroy();
    }
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
