/**
 * Closing an hour without the stack: the manifest `closeHour` writes from the segments themselves, its
 * idempotence and generations, the startup scan, and what the hour-close publisher and topic creation
 * send to Kafka (fakes record the calls). sink e2e tests cover the same against S3 and the broker.
 */
import { createHash } from 'node:crypto';
import type { Admin, Producer } from 'kafkajs';
import { ObjectNotFoundError } from '@app/object-store';
import { MemoryObjectStore } from '../test/compaction-fixtures';
import { closeHour, describeSegment, ensureHourCloseTopic, hourClosePublisher, scanRawHours } from './hour-close';
import { HOUR_CLOSE_TOPIC, rawManifestKey, rawSegmentKey, type HourCloseRequest } from './manifest';
import { RawSegmentBuilder, rawRecordSchema } from './raw-segment';

const topic = 'shop.thing.v1';
const hour = '2026-11-28T05';
const T0 = Date.parse('2026-11-28T05:00:00Z');
const wrapper = JSON.stringify(rawRecordSchema({ type: 'record', name: 'Thing', fields: [{ name: 'n', type: 'long' }] }));

/** A segment as the landing writes it: rows at consecutive offsets, event times given in seconds past T0. */
function segment(partition: number, firstOffset: number, eventSeconds: number[], schemaId = 7, at = hour): { key: string; file: Buffer } {
  const key = rawSegmentKey(topic, at, partition, String(firstOffset));
  const b = new RawSegmentBuilder(key, topic, partition, schemaId, wrapper, { blockBytes: 1024, deflateLevel: 1 });
  eventSeconds.forEach((s, i) =>
    b.append(
      { partition, offset: BigInt(firstOffset + i), timestamp: T0, key: null, headers: undefined, schemaId },
      Buffer.from([2 * i]),
      T0 + s * 1000,
    ),
  );
  return { key, file: b.finish() };
}

async function land(store: MemoryObjectStore, ...segments: { key: string; file: Buffer }[]): Promise<void> {
  for (const s of segments) await store.put(s.key, s.file);
}

const closedAt = () => new Date('2026-11-28T06:10:00Z');

describe('describeSegment', () => {
  it('reads the statistics from the segment header and checksums the bytes', () => {
    const { key, file } = segment(3, 40, [30, 5, 90], 9);
    expect(describeSegment(key, file)).toEqual({
      key,
      rows: 3,
      bytes: file.length,
      sha256: createHash('sha256').update(file).digest('hex'),
      minEventTime: '2026-11-28T05:00:05.000Z',
      maxEventTime: '2026-11-28T05:01:30.000Z',
      partition: 3,
      firstOffset: '40',
      lastOffset: '42',
      schemaIds: [9],
    });
  });

  it('refuses a key that is not a raw segment key', () => {
    const { file } = segment(0, 0, [1]);
    expect(() => describeSegment(rawManifestKey(topic, hour), file)).toThrow(`not a raw segment key: ${rawManifestKey(topic, hour)}`);
  });
});

describe('closeHour', () => {
  it('writes a manifest of every segment of the hour with totals, per-partition offset ranges and schema ids, then publishes', async () => {
    const store = new MemoryObjectStore();
    // Partition 10's key sorts before partition 2's: ranges must still come out by partition number.
    const a = segment(2, 0, [10, 20], 7);
    const b = segment(2, 5, [30], 9);
    const c = segment(10, 100, [40, 50, 60], 7);
    await land(store, a, b, c, segment(2, 7, [1], 7, '2026-11-28T06'));
    // Not segments of this topic's hour: another topic's file and a stray object in the folder.
    await store.put(`raw/${topic}/dt=2026-11-28/hour=05/other.v1+0+00000000000000000000.avro`, Buffer.from('x'));
    await store.put(`raw/${topic}/dt=2026-11-28/hour=05/notes.txt`, Buffer.from('x'));
    const published: HourCloseRequest[] = [];

    const result = await closeHour(store, topic, hour, { reason: 'watermark', now: closedAt, publish: async (r) => void published.push(r) });

    const manifestKey = rawManifestKey(topic, hour);
    const files = [c, a, b].map((s) => describeSegment(s.key, s.file));
    expect(files.map((f) => f.key)).toEqual([c.key, a.key, b.key].sort());
    expect(result).toEqual({
      manifestKey,
      changed: true,
      published: true,
      manifest: {
        version: 1,
        topic,
        hour,
        files,
        rows: 6,
        partitions: [
          { partition: 2, firstOffset: '0', lastOffset: '5', rows: 3 },
          { partition: 10, firstOffset: '100', lastOffset: '102', rows: 3 },
        ],
        schemaIds: [7, 9],
        closedAt: '2026-11-28T06:10:00.000Z',
        reason: 'watermark',
        generation: 1,
      },
    });
    expect(JSON.parse((await store.get(manifestKey)).toString('utf8'))).toEqual(result.manifest);
    expect(published).toEqual([{ topic, hour, manifestKey }]);
  });

  it('sorts schema ids numerically and merges offset ranges whatever the listing order', async () => {
    const store = new MemoryObjectStore();
    // The first segment by key has the higher schema id: only a numeric sort gives [9, 10].
    const late = segment(1, 30, [1], 9);
    const early = segment(1, 3, [2], 10);
    await land(store, late, early);
    // A store that lists newest first (the interface promises sorted keys; the manifest must not depend on it).
    const reversed = Object.assign(Object.create(store) as MemoryObjectStore, { list: async (p: string) => (await store.list(p)).reverse() });
    const { manifest } = await closeHour(reversed, topic, hour, { now: closedAt });
    expect(manifest.files.map((f) => f.key)).toEqual([early.key, late.key]);
    expect(manifest.partitions).toEqual([{ partition: 1, firstOffset: '3', lastOffset: '30', rows: 2 }]);
    expect(manifest.schemaIds).toEqual([9, 10]);
    expect(manifest.reason).toBe('manual');
  });

  it('is idempotent: the same segments leave the manifest alone and publish again only for a manual close', async () => {
    const store = new MemoryObjectStore();
    await land(store, segment(0, 0, [1, 2]));
    const first = await closeHour(store, topic, hour, { reason: 'watermark', now: closedAt });
    expect(first.published).toBe(false);
    const published: HourCloseRequest[] = [];
    const publish = async (r: HourCloseRequest) => void published.push(r);

    const again = await closeHour(store, topic, hour, { reason: 'idle', now: () => new Date('2026-11-28T09:00:00Z'), publish });
    expect(again).toEqual({ manifestKey: first.manifestKey, manifest: first.manifest, changed: false, published: false });
    expect(published).toEqual([]);

    const manual = await closeHour(store, topic, hour, { publish });
    expect(manual).toMatchObject({ changed: false, published: true, manifest: { closedAt: '2026-11-28T06:10:00.000Z', generation: 1 } });
    expect(published).toHaveLength(1);
  });

  it('writes the next generation when a segment lands late or a listed segment changed', async () => {
    const store = new MemoryObjectStore();
    const first = segment(0, 0, [1, 2]);
    await land(store, first);
    await closeHour(store, topic, hour, { reason: 'watermark', now: closedAt });

    await land(store, segment(0, 2, [3]));
    const late = await closeHour(store, topic, hour, { reason: 'late', now: closedAt });
    expect(late).toMatchObject({ changed: true, manifest: { generation: 2, reason: 'late', rows: 3 } });
    expect(late.manifest.files).toHaveLength(2);

    // Same keys and count, other bytes (a segment rewritten): not the same hour any more.
    await store.put(first.key, segment(0, 0, [1, 2, 4]).file);
    const rewritten = await closeHour(store, topic, hour, { reason: 'late', now: closedAt });
    expect(rewritten).toMatchObject({ changed: true, manifest: { generation: 3, rows: 4 } });
  });

  it('writes an empty manifest for an hour without segments, and fails on a store error other than a missing manifest', async () => {
    const store = new MemoryObjectStore();
    const { manifest } = await closeHour(store, topic, hour, { now: closedAt });
    expect(manifest).toMatchObject({ files: [], rows: 0, partitions: [], schemaIds: [], generation: 1 });

    const broken = Object.assign(Object.create(store) as MemoryObjectStore, {
      get: async (key: string) => {
        if (key.endsWith('_manifest.json')) throw new Error('access denied');
        return store.get(key);
      },
    });
    await expect(closeHour(broken, topic, hour)).rejects.toThrow('access denied');
  });

  it('reads a listed segment that vanished as an error, not as an empty hour', async () => {
    const store = new MemoryObjectStore();
    const s = segment(0, 0, [1]);
    await land(store, s);
    const vanishing = Object.assign(Object.create(store) as MemoryObjectStore, {
      get: async (key: string) => (key === s.key ? Promise.reject(new ObjectNotFoundError(key)) : store.get(key)),
    });
    await expect(closeHour(vanishing, topic, hour)).rejects.toBeInstanceOf(ObjectNotFoundError);
  });
});

describe('scanRawHours', () => {
  it('finds hours with segments but no manifest (pending) and closed hours with unlisted segments (late)', async () => {
    const store = new MemoryObjectStore();
    const at = (h: string, partition: number, offset: number) => segment(partition, offset, [1], 7, h);
    // 05: closed, nothing new. 06: closed, then a segment landed. 07: never closed. 08: only a stray file.
    await land(store, at('2026-11-28T05', 0, 0), at('2026-11-28T06', 0, 1));
    await closeHour(store, topic, '2026-11-28T05', { now: closedAt });
    await closeHour(store, topic, '2026-11-28T06', { now: closedAt });
    await land(store, at('2026-11-28T06', 1, 2), at('2026-11-28T07', 0, 3));
    await store.put(`raw/${topic}/dt=2026-11-28/hour=08/notes.txt`, Buffer.from('x'));
    await store.put(`raw/${topic}/README`, Buffer.from('x'));

    const scan = await scanRawHours(store, topic);
    expect({ pending: scan.pending.sort(), late: scan.late.sort(), closed: scan.closed.sort() }).toEqual({
      pending: ['2026-11-28T07'],
      late: ['2026-11-28T06'],
      closed: ['2026-11-28T05', '2026-11-28T06'],
    });
  });

  it('counts a closed hour with no segments left (expired) as closed, not late', async () => {
    const store = new MemoryObjectStore();
    const s = segment(0, 0, [1]);
    await land(store, s);
    await closeHour(store, topic, hour, { now: closedAt });
    await store.delete([s.key]);
    expect(await scanRawHours(store, topic)).toEqual({ pending: [], late: [], closed: [hour] });
  });
});

describe('hour-close requests on Kafka', () => {
  it('are keyed <topic>/<hour> on the internal topic, with the request as JSON', async () => {
    const sent: unknown[] = [];
    const producer = { send: async (r: unknown) => void sent.push(r) } as unknown as Producer;
    const request = { topic, hour, manifestKey: rawManifestKey(topic, hour) };
    await hourClosePublisher(producer)(request);
    expect(sent).toEqual([{ topic: 's3-sink.hour-close', messages: [{ key: `${topic}/${hour}`, value: JSON.stringify(request) }] }]);
    expect(HOUR_CLOSE_TOPIC).toBe('s3-sink.hour-close');
  });

  it('go to a topic created once, with a week of retention, only when it is missing', async () => {
    const created: unknown[] = [];
    const admin = (existing: string[]) =>
      ({ listTopics: async () => existing, createTopics: async (r: unknown) => void created.push(r) }) as unknown as Admin;
    await ensureHourCloseTopic(admin(['other']), 4);
    expect(created).toEqual([
      {
        waitForLeaders: true,
        topics: [{ topic: 's3-sink.hour-close', numPartitions: 4, configEntries: [{ name: 'retention.ms', value: String(7 * 24 * 3_600_000) }] }],
      },
    ]);
    await ensureHourCloseTopic(admin([HOUR_CLOSE_TOPIC]));
    expect(created).toHaveLength(1);
    await ensureHourCloseTopic(admin([]));
    expect(created[1]).toMatchObject({ topics: [{ numPartitions: 6 }] });
  });
});
