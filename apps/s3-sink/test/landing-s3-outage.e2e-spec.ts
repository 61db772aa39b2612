/**
 * S3 fails every request for 60 s (a fault proxy answers 503 SlowDown in front of the real S3): the
 * sink pauses and backs off, commits nothing while it cannot upload, and lands everything exactly once
 * when S3 is back.
 */
import { LandingSink, loadLandingSettings } from '@app/lake';
import { createLogger } from '@app/logging';
import { createObjectStore } from '@app/object-store';
import { S3FaultProxy, uniqueName, waitFor } from '@app/testing';
import {
  BASE_HOUR,
  committedToEnd,
  config,
  createTopic,
  expectExactlyOnce,
  HOUR_MS,
  kafkaClient,
  readLanded,
  thing,
  ThingProducer,
} from './landing-fixtures';

const OUTAGE_MS = 60_000;

describe('S3 outage', () => {
  const kafka = kafkaClient();
  const topic = uniqueName('landing-outage');
  const groupId = uniqueName('s3-sink.outage');
  const lakeUrl = `s3://${config.objectStore.bucket}/${uniqueName('lake')}/`;
  const proxy = new S3FaultProxy(config.objectStore.endpoint);
  let sink: LandingSink;
  let producer: ThingProducer;

  beforeAll(async () => {
    await createTopic(kafka, topic, 2);
    const endpoint = await proxy.start();
    const settings = loadLandingSettings(
      { LAKE_URL: lakeUrl, SINK_TOPICS: topic, SINK_GROUP_ID: groupId, SINK_ROTATE_RECORDS: '40', SINK_FLUSH_IDLE: '1s' },
      { defaultLakeUrl: lakeUrl, catalogTopics: [] },
    );
    sink = new LandingSink({
      kafka,
      store: createObjectStore(lakeUrl, { ...config.objectStore, endpoint }, { maxAttempts: 3, baseDelayMs: 50, maxDelayMs: 500 }),
      registry: config.schemaRegistry,
      settings,
      logger: createLogger({ service: 's3-sink-test' }, 'error'),
    });
    await sink.start();
    producer = new ThingProducer(kafka, topic, 2);
  });

  afterAll(async () => {
    proxy.heal();
    await sink?.stop();
    await proxy.stop();
    await producer?.close();
  });

  it('commits nothing while S3 is down, backs off, and loses nothing', async () => {
    await producer.send(Array.from({ length: 100 }, (_, i) => thing(i, BASE_HOUR + i * 60_000, 'outage')));
    await waitFor(() => committedToEnd(kafka, groupId, topic), { timeoutMs: 60_000, what: 'first records committed' });
    const committedBefore = await committed();

    proxy.failAll(503, 'SlowDown');
    const outageEnds = Date.now() + OUTAGE_MS;
    const failedBefore = proxy.stats.failed;
    await producer.send(Array.from({ length: 200 }, (_, i) => thing(100 + i, BASE_HOUR + HOUR_MS + i * 10_000, 'outage')));
    await waitFor(() => sink.writerStatus().some((w) => w.state === 'BACKING_OFF'), { what: 'a writer backing off' });
    // The outage itself is the scenario: S3 stays down for its whole length.
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, outageEnds - Date.now())));
    expect(await committed()).toEqual(committedBefore);
    expect(proxy.stats.failed - failedBefore).toBeGreaterThan(5);

    proxy.heal();
    await waitFor(() => committedToEnd(kafka, groupId, topic), { timeoutMs: 60_000, what: 'everything committed after S3 is back' });
    const store = createObjectStore(lakeUrl, config.objectStore);
    expectExactlyOnce(await readLanded(store, topic), producer.sent);
  });

  async function committed(): Promise<string[]> {
    const admin = kafka.admin();
    await admin.connect();
    try {
      const [c] = await admin.fetchOffsets({ groupId, topics: [topic] });
      return c.partitions.sort((a, b) => a.partition - b.partition).map((p) => p.offset);
    } finally {
      await admin.disconnect();
    }
  }
});
