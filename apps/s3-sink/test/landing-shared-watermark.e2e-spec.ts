/**
 * Two sink instances in one group on the real stack: an hour closes on the low watermark across all of
 * the topic's partitions, not only the ones an instance owns. The instance whose partitions ran ahead
 * waits for the other's, and the hour closes once, with every segment of both.
 */
import { HOUR_MS, BASE_HOUR, committedToEnd, config, createTopic, kafkaClient, readManifest, thing, ThingProducer } from './landing-fixtures';
import { LandingSink, loadLandingSettings, rawManifestKey } from '@app/lake';
import { createLogger } from '@app/logging';
import { createObjectStore } from '@app/object-store';
import { uniqueName, waitFor } from '@app/testing';

const PARTITIONS = 4;
const hour = new Date(BASE_HOUR).toISOString().slice(0, 13);

describe('landing with two instances sharing watermarks', () => {
  const kafka = kafkaClient();
  const topic = uniqueName('shared-watermark');
  const groupId = uniqueName('s3-sink.test');
  const lakeUrl = `s3://${config.objectStore.bucket}/${uniqueName('lake')}/`;
  const store = createObjectStore(lakeUrl, config.objectStore);
  const sinks: LandingSink[] = [];
  let producer: ThingProducer;
  let n = 0;

  /** Records at the given event time on one partition. */
  async function sendTo(partition: number, at: number, count = 5): Promise<void> {
    for (let k = 0; k < count; k++) await producer.send([thing(n++, at)], { start: partition });
  }

  beforeAll(async () => {
    await createTopic(kafka, topic, PARTITIONS);
    producer = new ThingProducer(kafka, topic, PARTITIONS);
    const settings = loadLandingSettings(
      {
        LAKE_URL: lakeUrl,
        SINK_TOPICS: topic,
        SINK_GROUP_ID: groupId,
        SINK_FLUSH_IDLE: '1s',
        LAKE_ALLOWED_LATENESS: '1m',
        // Only the watermark may close the hour here.
        LAKE_IDLE_CLOSE: '1h',
        SINK_SESSION_TIMEOUT: '10s',
      },
      { defaultLakeUrl: lakeUrl, catalogTopics: [] },
    );
    for (let i = 0; i < 2; i++) {
      const sink = new LandingSink({ kafka, store, registry: config.schemaRegistry, settings, logger: createLogger({ service: `s3-sink-${i}` }, 'warn') });
      sinks.push(sink);
      await sink.start();
    }
    await waitFor(
      () => sinks.every((s) => (s.ownedPartitions()[topic] ?? []).length === PARTITIONS / 2),
      { timeoutMs: 60_000, what: 'both instances own two partitions each' },
    );
  });

  afterAll(async () => {
    for (const s of sinks) await s.stop();
    await producer?.close();
  });

  it('holds the hour for the lagging instance and closes it once with both instances segments', async () => {
    const [ahead, behind] = sinks.map((s) => s.ownedPartitions()[topic]);
    for (const p of [...ahead, ...behind]) await sendTo(p, BASE_HOUR + 10 * 60_000);
    // The first instance's partitions move far past the hour; the second's stay inside it.
    for (const p of ahead) await sendTo(p, BASE_HOUR + HOUR_MS + 30 * 60_000);
    await waitFor(() => committedToEnd(kafka, groupId, topic), { timeoutMs: 60_000, what: 'every record landed' });

    // The first instance sees the second's partitions in its watermark, so the hour stays open.
    await waitFor(() => sinks[0].lowWatermark(topic) === BASE_HOUR + 10 * 60_000, {
      timeoutMs: 30_000,
      what: "the first instance's watermark to include the other instance's partitions",
    });
    expect(await readManifest(store, rawManifestKey(topic, hour))).toBeUndefined();

    for (const p of behind) await sendTo(p, BASE_HOUR + HOUR_MS + 30 * 60_000);
    await waitFor(async () => (await readManifest(store, rawManifestKey(topic, hour))) !== undefined, {
      timeoutMs: 60_000,
      what: 'the hour closed',
    });
    const manifest = (await readManifest(store, rawManifestKey(topic, hour)))!;
    expect(manifest.rows).toBe(PARTITIONS * 5);
    expect(new Set(manifest.files.map((f) => f.key.split('+')[1]))).toEqual(new Set(['0', '1', '2', '3']));
    expect(manifest.generation).toBe(1);
  });
});
