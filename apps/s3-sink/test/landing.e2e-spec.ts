/**
 * Landing on the real stack, once into S3 (moto) and once into a directory (LAKE_URL=file://): every
 * record exactly once in its event hour, schema flips without file churn, key/headers kept, PII hashed,
 * unreadable records dead-lettered without blocking, hours closed by watermark and idleness with
 * manifests that match the files, late events re-closing an hour, SSE-KMS on every S3 object.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Kafka } from 'kafkajs';
import { DLQ_HEADERS } from '@app/runtime';
import { HOUR_CLOSE_TOPIC, LandingSink, loadLandingSettings, rawHourPrefix, rawManifestKey, type HourCloseRequest } from '@app/lake';
import { createLogger } from '@app/logging';
import { createObjectStore, type ObjectStore } from '@app/object-store';
import { uniqueName, waitFor } from '@app/testing';
import {
  BASE_HOUR,
  committedToEnd,
  config,
  createTopic,
  expectExactlyOnce,
  HOUR_MS,
  kafkaClient,
  readLanded,
  readManifest,
  thing,
  ThingProducer,
} from './landing-fixtures';

const tempDir = mkdtempSync(join(tmpdir(), 'landing-'));
afterAll(() => rmSync(tempDir, { recursive: true, force: true }));

const PARTITIONS = 3;
const PER_HOUR = 120;
const hours = [0, 1, 2].map((h) => new Date(BASE_HOUR + h * HOUR_MS).toISOString().slice(0, 13));

async function readTopic(kafka: Kafka, topic: string, until: (values: { key: string; value: Buffer; headers: Record<string, string> }[]) => boolean) {
  const consumer = kafka.consumer({ groupId: uniqueName('landing-reader') });
  const seen: { key: string; value: Buffer; headers: Record<string, string> }[] = [];
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ message }) => {
      seen.push({
        key: message.key?.toString() ?? '',
        value: message.value ?? Buffer.alloc(0),
        headers: Object.fromEntries(Object.entries(message.headers ?? {}).map(([k, v]) => [k, String(v)])),
      });
    },
  });
  try {
    await waitFor(() => until(seen), { timeoutMs: 30_000, what: `records on ${topic}` });
    return seen;
  } finally {
    await consumer.disconnect();
  }
}

describe.each(['s3', 'file'])('landing into %s', (kind) => {
  const kafka = kafkaClient();
  const topic = uniqueName('landing');
  const groupId = uniqueName('s3-sink.test');
  const lakeUrl =
    kind === 's3' ? `s3://${config.objectStore.bucket}/${uniqueName('lake')}/` : pathToFileURL(join(tempDir, uniqueName('lake'))).toString();
  let store: ObjectStore;
  let sink: LandingSink;
  let producer: ThingProducer;

  beforeAll(async () => {
    await createTopic(kafka, topic, PARTITIONS);
    const settings = loadLandingSettings(
      {
        LAKE_URL: lakeUrl,
        SINK_TOPICS: topic,
        SINK_GROUP_ID: groupId,
        SINK_ROTATE_RECORDS: '50',
        SINK_FLUSH_IDLE: '1s',
        LAKE_IDLE_CLOSE: '3s',
        LAKE_RECLOSE_INTERVAL: '1s',
        SINK_MASK: `${topic}:email=hash`,
      },
      { defaultLakeUrl: lakeUrl, catalogTopics: [] },
    );
    store = createObjectStore(lakeUrl, config.objectStore);
    sink = new LandingSink({
      kafka,
      store,
      registry: config.schemaRegistry,
      settings,
      logger: createLogger({ service: 's3-sink-test' }, 'warn'),
    });
    await sink.start();
    producer = new ThingProducer(kafka, topic, PARTITIONS);
  });

  afterAll(async () => {
    await sink?.stop();
    await producer?.close();
  });

  it('lands every record exactly once in its event hour; schema flips share files; key, headers kept, email hashed', async () => {
    // Event time rises with the record index across three hours; writer schema flips v1/v2 every record.
    const things = Array.from({ length: 3 * PER_HOUR }, (_, i) => thing(i, BASE_HOUR + Math.floor((i * 3 * HOUR_MS) / (3 * PER_HOUR))));
    await producer.send(things, { flip: true });
    await waitFor(() => committedToEnd(kafka, groupId, topic), { timeoutMs: 60_000, what: 'offsets committed to the end' });

    const rows = await readLanded(store, topic);
    expectExactlyOnce(rows, producer.sent);

    // Flipping schemas on every record did not roll a file per flip: one file per (window, hour, schema).
    const files = new Map<string, Set<number>>();
    for (const r of rows) files.set(r.key, (files.get(r.key) ?? new Set()).add(r.schemaId));
    expect([...files.values()].every((ids) => ids.size === 1)).toBe(true);
    expect(new Set(rows.map((r) => r.schemaId)).size).toBe(2);
    expect(files.size).toBeLessThan(rows.length / 10);

    const sample = rows.find((r) => r.value.eventId === 'e-7')!;
    expect(sample.headers.traceparent).toMatch(/^00-[0-9a-f]{32}-/);
    expect(sample.recordKey).toBe('k-7');
    expect(sample.value.email).toBe(createHash('sha256').update('user7@example.com').digest('hex'));
    expect(rows.some((r) => String(r.value.email).includes('@'))).toBe(false);
  });

  it('dead-letters records whose event time cannot be read, and the partition moves on', async () => {
    const good = Buffer.from(producer.sent.find((s) => s.partition === 1)!.value.eventId);
    const notFramed = Buffer.from('{"json":"not avro"}');
    const unknownId = Buffer.concat([Buffer.from([0, 0x7f, 0xff, 0xff, 0xf0]), good]);
    const realId = (await kafkaFirstValue(kafka, topic)).subarray(0, 5);
    const truncated = Buffer.concat([realId, Buffer.from([0x10, 0x61])]);
    const offsets = [
      await producer.sendRaw(1, notFramed),
      await producer.sendRaw(1, unknownId),
      await producer.sendRaw(1, truncated),
    ];
    // A good record behind them still lands.
    await producer.send([thing(10_000, BASE_HOUR + 2 * HOUR_MS + 1_000, 'after-dlq')], { start: 1 });
    await waitFor(() => committedToEnd(kafka, groupId, topic), { timeoutMs: 60_000, what: 'offsets committed past the bad records' });

    const dead = await readTopic(kafka, `${topic}.dlq`, (seen) => seen.length >= 3);
    expect(dead.map((d) => d.headers[DLQ_HEADERS.sourceOffset]).sort()).toEqual([...offsets].sort());
    expect(dead.map((d) => d.headers[DLQ_HEADERS.errorClass]).sort()).toEqual(
      ['EventTimeUnreadableError', 'MagicByteError', 'UnknownSchemaIdError'].sort(),
    );
    expect(dead.find((d) => d.headers[DLQ_HEADERS.errorClass] === 'MagicByteError')!.value).toEqual(notFramed);
    expect(dead.every((d) => d.key === 'bad' && d.headers[DLQ_HEADERS.sourceTopic] === topic)).toBe(true);

    const rows = await readLanded(store, topic);
    expectExactlyOnce(rows, producer.sent);
  });

  it('closes each hour with a manifest that matches its files and publishes a request', async () => {
    for (const hour of hours) {
      await waitFor(
        async () => {
          const manifest = await readManifest(store, rawManifestKey(topic, hour));
          const listed = (await store.list(rawHourPrefix(topic, hour))).filter((o) => o.key.endsWith('.avro'));
          return manifest && manifest.files.length === listed.length && manifest.files.every((f, i) => f.key === listed[i].key);
        },
        { timeoutMs: 60_000, what: `manifest of ${hour}` },
      );
    }
    const rows = await readLanded(store, topic);
    for (const hour of hours) {
      const manifest = (await readManifest(store, rawManifestKey(topic, hour)))!;
      expect(manifest.rows).toBe(rows.filter((r) => r.hour === hour).length);
      for (const f of manifest.files) {
        const body = await store.get(f.key);
        expect(f.sha256).toBe(createHash('sha256').update(body).digest('hex'));
        expect(f.bytes).toBe(body.length);
        expect(f.rows).toBe(rows.filter((r) => r.key === f.key).length);
        expect(f.minEventTime.slice(0, 13)).toBe(hour);
      }
      expect(manifest.partitions.map((p) => p.partition)).toEqual([0, 1, 2]);
      expect(manifest.schemaIds).toHaveLength(2);
    }
    // The first two hours closed when the low watermark passed their end + 10 min; the last one by idleness.
    const reasons = await Promise.all(hours.map(async (h) => (await readManifest(store, rawManifestKey(topic, h)))!.reason));
    expect(['watermark', 'late']).toContain(reasons[0]);
    expect(['watermark', 'late']).toContain(reasons[1]);
    expect(['idle', 'late']).toContain(reasons[2]);

    const requests = await readTopic(kafka, HOUR_CLOSE_TOPIC, (seen) =>
      hours.every((h) => seen.some((s) => s.key === `${topic}/${h}`)),
    );
    const request = JSON.parse(requests.find((r) => r.key === `${topic}/${hours[0]}`)!.value.toString()) as HourCloseRequest;
    expect(request).toEqual({ topic, hour: hours[0], manifestKey: rawManifestKey(topic, hours[0]) });
  });

  it('lands a late event for a closed hour as a new segment and closes the hour again', async () => {
    const before = (await readManifest(store, rawManifestKey(topic, hours[0])))!;
    await producer.send([thing(20_000, BASE_HOUR + 5 * 60_000, 'late')]);
    const after = await waitFor(
      async () => {
        const m = await readManifest(store, rawManifestKey(topic, hours[0]));
        return m && m.generation > before.generation && m.files.length === before.files.length + 1 ? m : undefined;
      },
      { timeoutMs: 60_000, what: 'the hour re-closed' },
    );
    expect(after.reason).toBe('late');
    expect(after.rows).toBe(before.rows + 1);
    expectExactlyOnce(await readLanded(store, topic), producer.sent);
  });

  if (kind === 's3') {
    it('encrypts every object it wrote with SSE-KMS', async () => {
      const objects = await store.list('');
      expect(objects.length).toBeGreaterThan(10);
      for (const o of objects) expect((await store.head(o.key))?.serverSideEncryption).toBe('aws:kms');
    });
  }
});

/** The first record of the topic's partition 0, to borrow a real registered schema id. */
async function kafkaFirstValue(kafka: Kafka, topic: string): Promise<Buffer> {
  const [first] = await readTopicOnce(kafka, topic);
  return first;
}

async function readTopicOnce(kafka: Kafka, topic: string): Promise<Buffer[]> {
  const values: Buffer[] = [];
  const consumer = kafka.consumer({ groupId: uniqueName('landing-peek') });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({ eachMessage: async ({ message }) => void values.push(message.value!) });
  try {
    await waitFor(() => values.length > 0, { what: 'a record' });
    return values;
  } finally {
    await consumer.disconnect();
  }
}
