/**
 * The lake end to end, on the real stack, once into S3 (moto) and once into a directory
 * (LAKE_URL=file://): the s3-sink process lands 50,000 OrderPlaced records over three event hours
 * (5 % of them re-sent duplicates by eventId, the writer schema switching from v1 to v2 mid-hour),
 * is killed with SIGKILL twice (once by its own test hook between an upload and the offset commit,
 * once from outside), sits through S3 failing every request for 60 s, gets late events for an hour
 * that already closed and compacted, and afterwards DuckDB over curated/ returns exactly the distinct
 * events produced, once each, with their values; the manifests match the files; every S3 object
 * carries SSE aws:kms.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Kafka, Producer } from 'kafkajs';
import { avroSchema, createSchemaRegistry, decimal, RegistryCodec, type Serializer } from '@app/codec';
import { loadConfig } from '@app/config';
import { exampleEvents, topics, type OrderPlaced } from '@app/contracts';
import { createKafkaClient } from '@app/kafka';
import { curatedManifests, LakeQuery, tableNameOf, verifyCuratedFiles, type CuratedManifest } from '@app/lake';
import { createObjectStore, type ObjectStore } from '@app/object-store';
import { S3FaultProxy, uniqueName, waitFor } from '@app/testing';
import { exited, startService, type ServiceProcess } from '../../../test/support/service-process';

const config = loadConfig(process.env, { service: 's3-sink-lake-test', defaultHttpPort: 0 });
const v1 = topics.orderPlaced.schema;
const v2 = avroSchema(readFileSync(join(__dirname, '../../../libs/contracts/test/evolution/order-placed.v2.avsc'), 'utf8'));

const HOUR_MS = 3_600_000;
const PARTITIONS = 3;
const MESSAGES = 50_000;
const DUPLICATE_EVERY = 20; // every 20th message re-sends an earlier event: 5 %
const V2_FROM = 25_000; // mid second hour
const LATE_EVENTS = 300;
const OUTAGE_MS = 60_000;
/** Three ended hours yesterday (10:00–13:00 UTC): idle close needs hours that ended by the wall clock. */
const BASE = Math.floor((Date.now() - 36 * HOUR_MS) / (24 * HOUR_MS)) * 24 * HOUR_MS + 10 * HOUR_MS;
const tempDir = mkdtempSync(join(tmpdir(), 'lake-e2e-'));
afterAll(() => rmSync(tempDir, { recursive: true, force: true }));

type Event = OrderPlaced & { giftMessage?: string | null };

function orderEvent(n: number, at: number, version: 1 | 2): Event {
  const event: Event = {
    ...exampleEvents.orderPlaced,
    eventId: `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`,
    occurredAt: new Date(at),
    orderId: `ord-${n}`,
    correlationId: `ord-${n}`,
    customerId: `cus-${n % 997}`,
    lineItems: [{ sku: `SKU-${n % 50}`, quantity: 1 + (n % 3), unitPrice: decimal(`${n % 100}.${String(n % 97).padStart(2, '0')}`) }],
    grandTotal: decimal(`${n}.${String(n % 100).padStart(2, '0')}`),
    sessionId: n % 4 ? `ses-${n}` : null,
  };
  if (version === 2) {
    event.giftMessage = n % 3 === 0 ? `gift ${n}` : null;
    if (n % 5 === 0) (event as { channel: string }).channel = 'SOCIAL_COMMERCE';
  }
  return event;
}

interface Planned {
  event: Event;
  version: 1 | 2;
}

/**
 * The 50,000 messages in send order: event time rises over three hours; every 20th message re-sends
 * an event from a little earlier (the same event, same values: a producer retry).
 */
function plan(): Planned[] {
  const distinct = MESSAGES - MESSAGES / DUPLICATE_EVERY;
  const out: Planned[] = [];
  let n = 0;
  for (let i = 0; i < MESSAGES; i++) {
    const version: 1 | 2 = i >= V2_FROM ? 2 : 1;
    if (i % DUPLICATE_EVERY === DUPLICATE_EVERY - 1) {
      out.push({ ...out[Math.max(0, out.length - 1 - (i % 97))] });
      continue;
    }
    out.push({ event: orderEvent(n, BASE + Math.floor((n * 3 * HOUR_MS) / distinct), version), version });
    n++;
  }
  return out;
}

class OrderProducer {
  private producer?: Producer;
  private serializers?: { 1: Serializer<Event>; 2: Serializer<Event> };

  constructor(
    private readonly kafka: Kafka,
    private readonly topic: string,
  ) {}

  /** Registers v1 and then v2 under the topic's subject (v2 is the latest: compaction reads with it). */
  async init(): Promise<void> {
    const codec = new RegistryCodec(createSchemaRegistry(config.schemaRegistry), { autoRegister: true });
    const s1 = await codec.serializerFor<Event>(this.topic, v1);
    const s2 = await codec.serializerFor<Event>(this.topic, v2);
    this.serializers = { 1: s1, 2: s2 };
    this.producer = this.kafka.producer({ idempotent: true });
    await this.producer.connect();
  }

  async send(messages: Planned[]): Promise<void> {
    for (let at = 0; at < messages.length; at += 2_500) {
      await this.producer!.send({
        topic: this.topic,
        acks: -1,
        messages: messages.slice(at, at + 2_500).map(({ event, version }) => ({
          key: event.orderId,
          value: this.serializers![version].encode(event),
          headers: { traceparent: traceparentOf(event.eventId) },
        })),
      });
    }
  }

  async close(): Promise<void> {
    await this.producer?.disconnect();
  }
}

function traceparentOf(eventId: string): string {
  return `00-${createHash('md5').update(eventId).digest('hex')}-00f067aa0ba902b7-01`;
}

describe.each(['s3', 'file'] as const)('the lake into %s', (kind) => {
  const kafka = createKafkaClient(config.kafka);
  const topic = uniqueName('lake-e2e.order-placed');
  const groupId = uniqueName('s3-sink.lake-e2e');
  const lakeUrl =
    kind === 's3' ? `s3://${config.objectStore.bucket}/${uniqueName('lake')}/` : pathToFileURL(join(tempDir, uniqueName('lake'))).toString() + '/';
  const proxy = new S3FaultProxy(config.objectStore.endpoint);
  let store: ObjectStore;
  let producer: OrderProducer;
  let sink: ServiceProcess | undefined;
  let s3Endpoint: string | undefined;

  async function startSink(extra: Record<string, string> = {}): Promise<ServiceProcess> {
    return startService('s3-sink', {
      LAKE_URL: lakeUrl,
      SINK_TOPICS: topic,
      SINK_GROUP_ID: groupId,
      SINK_ROTATE_RECORDS: '2000',
      SINK_FLUSH_IDLE: '1s',
      LAKE_IDLE_CLOSE: '4s',
      // Late segments re-close an hour at most this often (the default is a minute).
      LAKE_RECLOSE_INTERVAL: '1s',
      // kill -9 leaves the dead member in the groups until its session ends: keep that short.
      SINK_SESSION_TIMEOUT: '6s',
      LAKE_COMPACT_TARGET_BYTES: '128KiB',
      ...(s3Endpoint ? { S3_ENDPOINT: s3Endpoint } : {}),
      ...extra,
    });
  }

  async function curated(): Promise<CuratedManifest[]> {
    return curatedManifests(store, topic);
  }

  beforeAll(async () => {
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({
      waitForLeaders: true,
      topics: [
        { topic, numPartitions: PARTITIONS },
        { topic: `${topic}.dlq`, numPartitions: 1 },
      ],
    });
    await admin.disconnect();
    if (kind === 's3') s3Endpoint = await proxy.start();
    store = createObjectStore(lakeUrl, config.objectStore);
    producer = new OrderProducer(kafka, topic);
    await producer.init();
  });

  afterAll(async () => {
    if (sink) {
      sink.child.kill('SIGKILL');
      await exited(sink.child);
    }
    await producer?.close();
    await proxy.stop();
  });

  it('curated/ holds exactly the distinct events produced, once each, with their values', async () => {
    const messages = plan();
    const firstThird = messages.slice(0, 15_000);
    const middle = messages.slice(15_000, 35_000);
    const rest = messages.slice(35_000);

    // Run 1 dies by SIGKILL from its own hook between the upload of its first cut and the offset commit.
    sink = await startSink({ SINK_CRASH_AT: 'after-upload:1' });
    await producer.send(firstThird);
    await waitFor(() => sink!.child.signalCode === 'SIGKILL', { timeoutMs: 120_000, what: 'the sink to kill itself after an upload' }).catch(
      (err: Error) => {
        throw new Error(`${err.message}\nsink output (tail):\n${sink!.output().slice(-4000)}`);
      },
    );
    expect(sink.output()).toContain('test crash hook');

    // Run 2: the mid hour switches to v2; S3 fails every request for 60 s; then it is killed from outside.
    sink = await startSink();
    if (kind === 's3') proxy.failAll();
    const outageStarted = Date.now();
    await producer.send(middle);
    if (kind === 's3') {
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, OUTAGE_MS - (Date.now() - outageStarted))));
      expect(proxy.stats.failed).toBeGreaterThan(0);
      proxy.heal();
    }
    // Let it get somewhere (the first hour compacted), then kill -9 mid-run.
    await waitFor(async () => (await curated()).length > 0, { timeoutMs: 90_000, what: 'a first compacted hour' });
    sink.child.kill('SIGKILL');
    await exited(sink.child);

    // Run 3 finishes the job; then late events for the first hour, after it closed and compacted.
    sink = await startSink();
    await producer.send(rest);
    const hours = [0, 1, 2].map((h) => new Date(BASE + h * HOUR_MS).toISOString().slice(0, 13));
    await waitFor(async () => (await curated()).length === 3, { timeoutMs: 120_000, what: 'three compacted hours' });
    const firstHourBefore = (await curated()).find((m) => m.hour === hours[0])!;
    const late: Planned[] = [];
    for (let i = 0; i < LATE_EVENTS; i++) late.push({ event: orderEvent(1_000_000 + i, BASE + 1_000 + i * 7_000, 2), version: 2 });
    late.push(...messages.slice(0, 50)); // and duplicates of early events, again
    await producer.send(late);

    const all = [...messages, ...late];
    const expected = new Map<string, Event>();
    for (const m of all) if (!expected.has(m.event.eventId)) expected.set(m.event.eventId, m.version === 1 ? { ...m.event, giftMessage: null } : m.event);
    await waitFor(async () => (await curated()).reduce((n, m) => n + m.rows, 0) === expected.size, {
      timeoutMs: 120_000,
      what: `${expected.size} distinct events in curated/`,
    });
    const manifests = await curated();
    expect(manifests.map((m) => m.hour).sort()).toEqual(hours);
    const firstHour = manifests.find((m) => m.hour === hours[0])!;
    expect(firstHour.compactionId).not.toBe(firstHourBefore.compactionId); // re-compacted for the late events
    expect(firstHour.rows).toBe(firstHourBefore.rows + LATE_EVENTS);
    expect(manifests.every((m) => m.schemaIds.length >= 1)).toBe(true);
    expect(new Set(manifests.flatMap((m) => m.schemaIds)).size).toBe(2);

    // Manifests match the files: size, sha256, Parquet row counts.
    expect(await verifyCuratedFiles(store, manifests, tempDir)).toEqual([]);

    // DuckDB over curated/ (through the query tool): every distinct event once, with its values.
    const query = await LakeQuery.open(store, { cacheDir: join(tempDir, uniqueName('cache')) });
    try {
      const view = tableNameOf(topic);
      await query.prepare(`select * from ${view}`);
      const counts = await query.run(`select count(*)::INTEGER, count(distinct eventId)::INTEGER from ${view}`);
      expect(counts.rows).toEqual([[expected.size, expected.size]]);
      const result = await query.run(
        `select eventId, epoch_ms(occurredAt)::BIGINT as t, orderId, customerId, channel, grandTotal::VARCHAR as total, ` +
          `array_to_string(list_transform(lineItems, x -> x.sku || ':' || x.quantity || ':' || x.unitPrice::VARCHAR), ',') as items, ` +
          `sessionId, giftMessage, _trace_id, decode(_key) as k from ${view}`,
      );
      const mismatches: string[] = [];
      for (const [eventId, t, orderId, customerId, channel, total, items, sessionId, giftMessage, traceId, key] of result.rows as string[][]) {
        const e = expected.get(eventId);
        const want = e && [
          e.occurredAt.getTime().toString(),
          e.orderId,
          e.customerId,
          e.channel,
          e.grandTotal,
          e.lineItems.map((l) => `${l.sku}:${l.quantity}:${l.unitPrice}`).join(','),
          e.sessionId,
          e.giftMessage ?? null,
          createHash('md5').update(eventId).digest('hex'),
          e.orderId,
        ];
        const got = [String(t), orderId, customerId, channel, total, items, sessionId, giftMessage, traceId, key];
        if (!want || JSON.stringify(want) !== JSON.stringify(got)) mismatches.push(`${eventId}: ${JSON.stringify(got)} != ${JSON.stringify(want)}`);
      }
      expect(mismatches.slice(0, 5)).toEqual([]);
    } finally {
      query.close();
    }

    if (kind === 's3') {
      // Every object the sink wrote (raw, manifests, curated) is encrypted with SSE-KMS.
      const objects = await store.list('');
      expect(objects.length).toBeGreaterThan(10);
      const unencrypted: string[] = [];
      for (const o of objects) if ((await store.head(o.key))?.serverSideEncryption !== 'aws:kms') unencrypted.push(o.key);
      expect(unencrypted).toEqual([]);
    }
  }, 360_000);
});
