/**
 * Shared by the landing e2e tests: a small event schema in two compatible versions, a producer that
 * frames events through the real registry, and a reader that proves what landed by reading every raw
 * segment back (Avro container files, through avsc).
 */
import { createHash } from 'node:crypto';
import type { Kafka, Producer } from 'kafkajs';
import { avroSchema, createSchemaRegistry, parseAvroSchema, RegistryCodec } from '@app/codec';
import { loadConfig, type AppConfig } from '@app/config';
import { createKafkaClient } from '@app/kafka';
import { parseRawSegmentKey, readSegmentHeader, readSegmentRows, type RawHourManifest } from '@app/lake';
import type { ObjectStore } from '@app/object-store';

export const config: AppConfig = loadConfig(process.env, { service: 's3-sink-test', defaultHttpPort: 0 });

const fields = [
  { name: 'eventId', type: 'string' },
  { name: 'occurredAt', type: { type: 'long', logicalType: 'timestamp-millis' } },
  { name: 'producer', type: 'string' },
  { name: 'correlationId', type: 'string' },
  { name: 'n', type: 'long' },
  { name: 'email', type: 'string' },
];
export const thingV1 = avroSchema({ type: 'record', name: 'Thing', namespace: 'com.securecart.test', fields });
export const thingV2 = avroSchema({
  type: 'record',
  name: 'Thing',
  namespace: 'com.securecart.test',
  fields: [...fields, { name: 'note', type: 'string', default: '' }],
});

export interface Thing {
  eventId: string;
  occurredAt: Date;
  producer: string;
  correlationId: string;
  n: number;
  email: string;
  note?: string;
}

export const HOUR_MS = 3_600_000;
/** Event hours in the past (idle close needs ended hours): 10:00, 11:00 and 12:00 UTC the day before. */
export const BASE_HOUR = Math.floor((Date.now() - 36 * HOUR_MS) / (24 * HOUR_MS)) * 24 * HOUR_MS + 10 * HOUR_MS;

export function kafkaClient(): Kafka {
  return createKafkaClient(config.kafka);
}

export async function createTopic(kafka: Kafka, topic: string, partitions: number): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.createTopics({
      waitForLeaders: true,
      topics: [
        { topic, numPartitions: partitions },
        { topic: `${topic}.dlq`, numPartitions: 1 },
      ],
    });
  } finally {
    await admin.disconnect();
  }
}

/** Produces framed events: record i goes to partition i % partitions, v2 on odd i when `flip` is set. */
export class ThingProducer {
  private readonly codec = new RegistryCodec(createSchemaRegistry(config.schemaRegistry), { autoRegister: true });
  private producer?: Producer;
  readonly sent: { partition: number; offset: string; value: Thing; key: string; schema: 1 | 2 }[] = [];

  constructor(
    private readonly kafka: Kafka,
    readonly topic: string,
    private readonly partitions: number,
  ) {}

  async send(things: Thing[], options: { flip?: boolean; start?: number } = {}): Promise<void> {
    if (!this.producer) {
      this.producer = this.kafka.producer({ idempotent: true });
      await this.producer.connect();
    }
    const start = options.start ?? this.sent.length;
    const v1 = await this.codec.serializerFor<Thing>(this.topic, thingV1);
    const v2 = await this.codec.serializerFor<Thing>(this.topic, thingV2);
    const byPartition = new Map<number, { thing: Thing; schema: 1 | 2; key: string }[]>();
    things.forEach((thing, j) => {
      const i = start + j;
      const schema: 1 | 2 = options.flip && i % 2 === 1 ? 2 : 1;
      const p = i % this.partitions;
      const list = byPartition.get(p) ?? [];
      list.push({ thing: schema === 2 ? { ...thing, note: `v2-${i}` } : thing, schema, key: `k-${i}` });
      byPartition.set(p, list);
    });
    for (const [partition, list] of byPartition) {
      const results = await this.producer.send({
        topic: this.topic,
        acks: -1,
        messages: list.map(({ thing, schema, key }) => ({
          partition,
          key,
          value: (schema === 2 ? v2 : v1).encode(thing),
          headers: { traceparent: `00-${createHash('md5').update(thing.eventId).digest('hex')}-0000000000000001-01` },
        })),
      });
      // One send per partition: the broker assigns consecutive offsets from the base offset.
      const base = BigInt(results[0].baseOffset!);
      list.forEach(({ thing, schema, key }, k) =>
        this.sent.push({ partition, offset: (base + BigInt(k)).toString(), value: thing, key, schema }),
      );
    }
  }

  /** Raw bytes straight to a partition (records whose event time cannot be read). */
  async sendRaw(partition: number, value: Buffer, key = 'bad'): Promise<string> {
    const [r] = await this.producer!.send({ topic: this.topic, acks: -1, messages: [{ partition, key, value }] });
    return r.baseOffset!;
  }

  async close(): Promise<void> {
    await this.producer?.disconnect();
  }
}

export function thing(i: number, at: number, prefix = 'e'): Thing {
  return {
    eventId: `${prefix}-${i}`,
    occurredAt: new Date(at),
    producer: 'landing-test',
    correlationId: `c-${i % 7}`,
    n: i,
    email: `user${i}@example.com`,
  };
}

export interface LandedRow {
  key: string;
  partition: number;
  offset: string;
  hour: string;
  recordKey: string | null;
  headers: Record<string, string>;
  schemaId: number;
  value: Record<string, unknown>;
}

/** Every row of every raw segment of the topic, read back through avsc. */
export async function readLanded(store: ObjectStore, topic: string): Promise<LandedRow[]> {
  const rows: LandedRow[] = [];
  for (const object of await store.list(`raw/${topic}/`)) {
    const parsed = parseRawSegmentKey(object.key);
    if (!parsed) continue;
    const file = await store.get(object.key);
    readSegmentHeader(file);
    for (const row of await readSegmentRows<Record<string, unknown>>(file, (s) => parseAvroSchema(JSON.stringify(s)))) {
      rows.push({
        key: object.key,
        partition: row._partition,
        offset: String(row._offset),
        hour: parsed.hour,
        recordKey: row._key ? row._key.toString() : null,
        headers: Object.fromEntries(Object.entries(row._headers).map(([k, v]) => [k, v.toString()])),
        schemaId: row._schema_id,
        value: row.value,
      });
    }
  }
  return rows;
}

/** Committed offsets of the group equal the end of every partition: everything was landed and committed. */
export async function committedToEnd(kafka: Kafka, groupId: string, topic: string): Promise<boolean> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const [ends, [committed]] = await Promise.all([
      admin.fetchTopicOffsets(topic),
      admin.fetchOffsets({ groupId, topics: [topic] }),
    ]);
    return ends.every((end) => committed.partitions.find((p) => p.partition === end.partition)?.offset === end.high);
  } finally {
    await admin.disconnect();
  }
}

/**
 * Every produced record is in exactly one segment, in the hour of its event time, with its key,
 * headers and value; no row is there that was not produced.
 */
export function expectExactlyOnce(rows: LandedRow[], sent: ThingProducer['sent']): void {
  const seen = new Map<string, number>();
  for (const row of rows) seen.set(`${row.partition}:${row.offset}`, (seen.get(`${row.partition}:${row.offset}`) ?? 0) + 1);
  const duplicates = [...seen].filter(([, n]) => n > 1);
  expect(duplicates).toEqual([]);
  const byPosition = new Map(rows.map((r) => [`${r.partition}:${r.offset}`, r]));
  const missing = sent.filter((s) => !byPosition.has(`${s.partition}:${s.offset}`));
  expect(missing.map((m) => `${m.partition}:${m.offset}`)).toEqual([]);
  expect(rows.length).toBe(sent.length);
  for (const s of sent) {
    const row = byPosition.get(`${s.partition}:${s.offset}`)!;
    expect(row.hour).toBe(s.value.occurredAt.toISOString().slice(0, 13));
    expect(row.recordKey).toBe(s.key);
    expect(row.value.eventId).toBe(s.value.eventId);
    expect((row.value.occurredAt as Date).getTime()).toBe(s.value.occurredAt.getTime());
    expect(row.value.n).toBe(s.value.n);
  }
}

export async function readManifest(store: ObjectStore, key: string): Promise<RawHourManifest | undefined> {
  const found = await store.head(key);
  return found ? (JSON.parse((await store.get(key)).toString()) as RawHourManifest) : undefined;
}
