/**
 * The landing loop against a fake consumer and an in-memory store, for the failure orders the real
 * broker cannot be made to produce on cue: a commit that fails after a window whose records all went
 * to the DLQ, a rebalance while a partition backs off, and a replay whose segment keys differ from its
 * cut marker's. (The e2e tests cover the real stack.)
 */
import * as avro from 'avsc';
import { ObjectExistsError, ObjectNotFoundError, type ObjectStore } from '@app/object-store';
import { waitFor } from '@app/testing';
import { landingDefaults, type LandingSettings } from './lake-settings';
import { rawHourPrefix, rawManifestKey, rawSegmentKey } from './manifest';
import { readSegmentHeader } from './raw-segment';
import { LandingSink } from './sink-engine';
import { cutMarkerKey, type CutMarker } from './sink-partition-writer';

const schema = {
  type: 'record',
  name: 'E',
  fields: [
    { name: 'eventId', type: 'string' },
    { name: 'occurredAt', type: { type: 'long', logicalType: 'timestamp-millis' } },
    // Two hours later: the event-time field an operator switches to between a crash and its replay.
    { name: 'shippedAt', type: { type: 'long', logicalType: 'timestamp-millis' } },
  ],
};
const valueType = avro.Type.forSchema(schema as avro.Schema);
const HOUR = Date.UTC(2026, 10, 28, 10);
/** Confluent framing with the given schema id (1 is registered, 2 is unknown). */
const framed = (i: number, schemaId: number, occurredAt = HOUR + i) =>
  Buffer.concat([Buffer.from([0, 0, 0, 0, schemaId]), valueType.toBuffer({ eventId: `e${i}`, occurredAt, shippedAt: HOUR + 2 * 3_600_000 + i })]);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

class MemoryStore {
  readonly objects = new Map<string, Buffer>();
  failing = false;
  /** Writes fail, reads work: a window is rebuilt each time, and its cut fails. */
  failingWrites = false;
  readonly url = 'mem://';
  async put(key: string, body: Buffer, options?: { ifNoneMatch?: boolean }): Promise<object> {
    if (this.failing || this.failingWrites) throw new Error('S3 down');
    if (options?.ifNoneMatch && this.objects.has(key)) throw new ObjectExistsError(key);
    this.objects.set(key, body);
    return {};
  }
  async get(key: string): Promise<Buffer> {
    if (this.failing) throw new Error('S3 down');
    const body = this.objects.get(key);
    if (!body) throw new ObjectNotFoundError(key);
    return body;
  }
  /** Delay of each listing (an hour close lists its folder). */
  listDelayMs = 0;
  readonly listed: string[] = [];
  async list(prefix: string) {
    this.listed.push(prefix);
    if (this.listDelayMs > 0) await sleep(this.listDelayMs);
    return [...this.objects.keys()].filter((k) => k.startsWith(prefix)).map((key) => ({ key, size: 0 }));
  }
  async head() {
    return undefined;
  }
  async delete() {}
}

type Batch = { from: number; to: number; schemaIdOf?: (offset: number) => number; timestampOf?: (offset: number) => number; occurredAtOf?: (offset: number) => number };

/** A consumer whose batches the test hands in, recording pause/resume/seek/commit. */
function harness(store: MemoryStore, settings: Partial<LandingSettings>, options: { failCommits?: number; crashAt?: LandingSettings['crashAt'] } = {}) {
  const calls: string[] = [];
  let join: (event: { payload: { memberAssignment: Record<string, number[]> } }) => void = () => undefined;
  let eachBatch: (payload: unknown) => Promise<void> = async () => undefined;
  let commitFailures = options.failCommits ?? 0;
  let deadLettered = 0;
  const consumer = {
    events: { GROUP_JOIN: 'group-join' },
    on: (_event: string, listener: typeof join) => (join = listener),
    connect: async () => undefined,
    subscribe: async () => undefined,
    disconnect: async () => undefined,
    run: async (config: { eachBatch: typeof eachBatch }) => {
      eachBatch = config.eachBatch;
    },
    pause: (tps: Array<{ partitions: number[] }>) => calls.push(`pause ${tps[0].partitions}`),
    resume: (tps: Array<{ partitions: number[] }>) => calls.push(`resume ${tps[0].partitions}`),
    seek: ({ offset }: { offset: string }) => calls.push(`seek ${offset}`),
    commitOffsets: async ([{ offset }]: Array<{ offset: string }>) => {
      if (commitFailures-- > 0) {
        calls.push(`commit ${offset} failed`);
        throw new Error('REBALANCE_IN_PROGRESS');
      }
      calls.push(`commit ${offset}`);
    },
  };
  const kafka = {
    admin: () => ({
      connect: async () => undefined,
      disconnect: async () => undefined,
      listTopics: async () => ['t', 't.dlq', 's3-sink.hour-close'],
      fetchTopicMetadata: async () => ({ topics: [] }),
      createTopics: async () => true,
    }),
    producer: () => ({
      connect: async () => undefined,
      disconnect: async () => undefined,
      send: async () => {
        deadLettered++;
        return [];
      },
    }),
    consumer: () => consumer,
  };
  const errors: { message: string; fields?: Record<string, unknown> }[] = [];
  const infos: { message: string; fields?: Record<string, unknown> }[] = [];
  const silent = {
    info: (message: string, fields?: Record<string, unknown>) => infos.push({ message, fields }),
    warn: () => undefined,
    error: (message: string, fields?: Record<string, unknown>) => errors.push({ message, fields }),
    debug: () => undefined,
  };
  const sink = new LandingSink({
    kafka: kafka as never,
    store: store as unknown as ObjectStore,
    registry: { url: 'http://registry.invalid' } as never,
    settings: {
      ...landingDefaults,
      lakeUrl: 'mem://',
      topics: { names: ['t'] },
      groupId: 'g',
      eventTimeFields: {},
      masks: {},
      maskSalt: 'salt',
      sharedWatermark: false,
      crashAt: options.crashAt,
      ...settings,
    } as LandingSettings,
    logger: silent as never,
    crash: (point) => {
      throw new Error(`killed at ${point}`);
    },
  });
  return {
    sink,
    calls,
    errors,
    infos,
    deadLettered: () => deadLettered,
    assign: (partitions: number[]) => join({ payload: { memberAssignment: { t: partitions } } }),
    batch: ({ from, to, schemaIdOf = () => 1, timestampOf = () => 0, occurredAtOf = (o) => HOUR + o }: Batch) =>
      eachBatch({
        batch: {
          topic: 't',
          partition: 0,
          messages: Array.from({ length: to - from + 1 }, (_, i) => ({
            offset: String(from + i),
            timestamp: String(timestampOf(from + i)),
            key: null,
            value: framed(from + i, schemaIdOf(from + i), occurredAtOf(from + i)),
            headers: {},
          })),
          offsetLag: () => '0',
        },
        resolveOffset: () => undefined,
        heartbeat: async () => undefined,
        isRunning: () => true,
        isStale: () => false,
      }),
  };
}

describe('LandingSink failure orders', () => {
  const realFetch = global.fetch;
  beforeAll(() => {
    // The registry: schema id 1 is known, any other id is not.
    global.fetch = (async (url: string) =>
      String(url).endsWith('/schemas/ids/1')
        ? new Response(JSON.stringify({ schema: JSON.stringify(schema) }), { status: 200, headers: { 'content-type': 'application/json' } })
        : new Response(JSON.stringify({ error_code: 40403, message: 'Schema not found' }), { status: 404, headers: { 'content-type': 'application/json' } })) as typeof fetch;
  });
  afterAll(() => {
    global.fetch = realFetch;
  });

  it('a window whose records all went to the DLQ still gets a cut marker, so a replay after its failed commit lands every record once', async () => {
    const store = new MemoryStore();
    // Offsets 0–4 carry an unknown schema id (DLQ); 5–15 land, a second apart (Kafka time), so the
    // age trigger (10 s from the window's first record) decides where windows end.
    const schemaIdOf = (o: number) => (o < 5 ? 2 : 1);
    const timestampOf = (o: number) => (o < 5 ? 0 : 5_000 + (o - 5) * 1_000);
    const first = harness(store, { flushIdleMs: 40, tickMs: 60_000, rotateAgeMs: 10_000 }, { failCommits: 1, crashAt: { point: 'after-upload', cut: 1 } });
    await first.sink.start();
    first.assign([0]);
    await first.batch({ from: 0, to: 4, schemaIdOf, timestampOf });
    await waitFor(() => first.calls.includes('commit 5 failed'), { timeoutMs: 10_000, what: 'the idle cut of the DLQ-only window, its commit failing' });
    await first.batch({ from: 5, to: 15, schemaIdOf, timestampOf }).catch(() => undefined); // killed after the upload

    // The restart replays from the last committed offset (none: 0).
    const second = harness(store, { flushIdleMs: 40, tickMs: 60_000, rotateAgeMs: 10_000 });
    await second.sink.start();
    second.assign([0]);
    await second.batch({ from: 0, to: 15, schemaIdOf, timestampOf });
    await waitFor(() => second.calls.includes('commit 16'), { timeoutMs: 10_000, what: 'the replay committed to the end' });
    await second.sink.stop();

    const landed: number[] = [];
    for (const [key, body] of store.objects) {
      if (!key.startsWith('raw/')) continue;
      const header = readSegmentHeader(body);
      for (let o = Number(header.firstOffset); o <= Number(header.lastOffset); o++) landed.push(o);
    }
    expect(landed.sort((a, b) => a - b)).toEqual([5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15]);
    expect(store.objects.has(cutMarkerKey('t', 0, 0n))).toBe(true);
  });

  it('resumes a partition revoked while it backed off, so it consumes again when assigned back', async () => {
    const store = new MemoryStore();
    store.failing = true;
    const h = harness(store, { flushIdleMs: 30, tickMs: 50, backoffBaseMs: 300, backoffMaxMs: 300 });
    await h.sink.start();
    h.assign([0]);
    await h.batch({ from: 0, to: 9, timestampOf: () => HOUR });
    await waitFor(() => h.calls.includes('pause 0'), { timeoutMs: 10_000, what: 'the idle cut failing on the store: pause, rewind' });
    h.assign([]); // revoked while backing off
    await sleep(20);
    h.assign([0]); // and assigned back
    store.failing = false;
    await waitFor(() => h.calls.lastIndexOf('resume 0') > h.calls.lastIndexOf('pause 0'), { timeoutMs: 10_000, what: 'the partition resumed' });
    // Consuming again: the replayed records land and are committed.
    await h.batch({ from: 0, to: 9, timestampOf: () => HOUR });
    await waitFor(() => h.calls.includes('commit 10'), { timeoutMs: 10_000, what: 'the replayed records landed and committed' });
    await h.sink.stop();
  });

  it('sends an unlandable record to the DLQ once while its window is rebuilt and its cut fails again and again', async () => {
    const store = new MemoryStore();
    store.failingWrites = true;
    const h = harness(store, { flushIdleMs: 30, tickMs: 50, backoffBaseMs: 50, backoffMaxMs: 50 });
    await h.sink.start();
    h.assign([0]);
    // Offset 4 carries an unknown schema id: it goes to the DLQ, the others land in one window.
    const window = { from: 0, to: 9, timestampOf: () => HOUR, schemaIdOf: (o: number) => (o === 4 ? 2 : 1) };
    for (let attempt = 1; attempt <= 3; attempt++) {
      await h.batch(window);
      await waitFor(() => h.calls.filter((c) => c === 'pause 0').length === attempt, { timeoutMs: 10_000, what: `attempt ${attempt}: the idle cut's writes failing` });
      await waitFor(() => h.calls.filter((c) => c === 'resume 0').length === attempt, { timeoutMs: 10_000, what: `attempt ${attempt}: the partition resumed` });
    }
    store.failingWrites = false;
    await h.batch(window);
    await waitFor(() => h.calls.includes('commit 10'), { timeoutMs: 10_000, what: 'the window landed and committed once writes work' });
    await h.sink.stop();
    expect(h.deadLettered()).toBe(1);
  });

  it('does not close an hour whose records a failed cut dropped until their replay has read them again', async () => {
    const store = new MemoryStore();
    // Windows are cut every 5 records; the watermark alone (lateness 0) closes hours.
    const h = harness(store, { flushIdleMs: 60_000, tickMs: 20, rotateRecords: 5, allowedLatenessMs: 0, idleCloseMs: 3_600_000, backoffBaseMs: 50, backoffMaxMs: 50 });
    await h.sink.start();
    h.assign([0]);
    const manifest = rawManifestKey('t', '2026-11-28T10');
    // Offsets 0–4 (hour 10) land. Offsets 5–8 are in hour 10 too, offset 9 in hour 12: the watermark
    // passes hour 10's end, but their cut fails.
    await h.batch({ from: 0, to: 4 });
    await waitFor(() => h.calls.includes('commit 5'), { timeoutMs: 10_000, what: 'the first window landed' });
    store.failingWrites = true;
    const failing = { from: 5, to: 9, occurredAtOf: (o: number) => (o < 9 ? HOUR + o : HOUR + 2 * 3_600_000) };
    await h.batch(failing);
    await waitFor(() => h.calls.includes('pause 0'), { timeoutMs: 10_000, what: "the second window's cut failing: pause, rewind" });
    store.failingWrites = false;
    await waitFor(() => h.calls.includes('resume 0'), { timeoutMs: 10_000, what: 'the partition resumed' });
    // Resumed, its records not read again yet: ticks run, and hour 10 must not close on offsets 0–4 alone.
    for (let ticks = 0; ticks < 10; ticks++) await sleep(20);
    expect(store.objects.has(manifest)).toBe(false);
    await h.batch(failing);
    await waitFor(() => store.objects.has(manifest), { timeoutMs: 10_000, what: 'hour 10 closed after the replay' });
    await h.sink.stop();
    const closed = JSON.parse(store.objects.get(manifest)!.toString()) as { rows: number; generation: number };
    expect(closed).toMatchObject({ rows: 9, generation: 1 });
  });

  it('stops without waiting for hour closes not started yet (the next start finds those hours in raw/)', async () => {
    const store = new MemoryStore();
    store.listDelayMs = 300; // each hour close lists its folder first
    const h = harness(store, { flushIdleMs: 60_000, tickMs: 20, rotateRecords: 5, allowedLatenessMs: 0, idleCloseMs: 3_600_000 });
    await h.sink.start();
    h.assign([0]);
    // Five records in each of hours 10, 11 and 12, then one in hour 14: hours 10–12 are due at once.
    await h.batch({ from: 0, to: 15, occurredAtOf: (o) => HOUR + Math.min(4, Math.floor(o / 5)) * 3_600_000 + o });
    await waitFor(() => store.listed.includes(rawHourPrefix('t', '2026-11-28T10')), { timeoutMs: 10_000, what: "hour 10's close listing its folder, 11 and 12 queued" });
    await h.sink.stop();
    const stopping = h.infos.find((i) => i.message === 'stopping: flushing open windows');
    expect(stopping?.fields?.hourClosesLeftForNextStart).toBeGreaterThanOrEqual(1);
    const manifests = ['10', '11', '12'].filter((hh) => store.objects.has(rawManifestKey('t', `2026-11-28T${hh}`)));
    expect(manifests.length).toBeLessThan(3);
    expect(h.infos.some((i) => i.message === 'stopped')).toBe(true);
  });

  describe('a replay whose segment keys differ from its cut marker', () => {
    // A window is cut by its row count (10); its records' occurredAt is in hour 10, their shippedAt in hour 12.
    const settings: Partial<LandingSettings> = { flushIdleMs: 60_000, tickMs: 60_000, rotateRecords: 10, backoffBaseMs: 20, backoffMaxMs: 20 };
    const atOccurred = rawSegmentKey('t', '2026-11-28T10', 0, 0n);
    const atShipped = rawSegmentKey('t', '2026-11-28T12', 0, 0n);
    const markerKey = cutMarkerKey('t', 0, 0n);
    const rawKeys = (store: MemoryStore) => [...store.objects.keys()].filter((k) => k.startsWith('raw/')).sort();

    it('uploads nothing and backs off when the event-time field changed after a crash between upload and commit; lands once when it is restored', async () => {
      const store = new MemoryStore();
      // Offset 3 has an unknown schema id (DLQ): the window 0–10 lands 10 rows.
      const window = { from: 0, to: 10, schemaIdOf: (o: number) => (o === 3 ? 2 : 1) };
      const crashed = harness(store, settings, { crashAt: { point: 'after-upload', cut: 1 } });
      await crashed.sink.start();
      crashed.assign([0]);
      await expect(crashed.batch(window)).rejects.toThrow('killed at after-upload');
      expect(rawKeys(store)).toEqual([atOccurred]);

      const changed = harness(store, { ...settings, eventTimeFields: { t: 'shippedAt' } });
      await changed.sink.start();
      changed.assign([0]);
      await changed.batch(window);
      // Uploading hour 12's key would leave records 0–9 in two files.
      expect(rawKeys(store)).toEqual([atOccurred]);
      expect(changed.calls).toEqual(['pause 0', 'seek 0']);
      expect(changed.errors).toHaveLength(1);
      expect(changed.errors[0].fields).toMatchObject({
        topic: 't',
        partition: 0,
        from: '0',
        to: '10',
        marker: markerKey,
        listedFiles: [atOccurred],
        replayFiles: [atShipped],
      });
      expect(changed.errors[0].fields!.action).toMatch(/restore .*SINK_EVENT_TIME_FIELDS.*delete the marker/);
      expect(changed.sink.writerStatus()).toMatchObject([{ partition: 0, state: 'BACKING_OFF', refusedMarker: markerKey }]);

      expect(changed.deadLettered()).toBe(1);
      // After the backoff the same marker is refused again, at its first record (offset 3 is not
      // dead-lettered again); still nothing uploaded or committed.
      await waitFor(() => changed.calls.includes('resume 0'), { timeoutMs: 10_000, what: 'the backoff over' });
      await changed.batch(window);
      expect(changed.errors).toHaveLength(2);
      expect(changed.deadLettered()).toBe(1);
      expect(changed.calls).toEqual(['pause 0', 'seek 0', 'resume 0', 'pause 0', 'seek 0']);
      expect(rawKeys(store)).toEqual([atOccurred]);
      await changed.sink.stop();

      const restored = harness(store, settings);
      await restored.sink.start();
      restored.assign([0]);
      await restored.batch(window);
      expect(restored.calls).toEqual(['commit 11']);
      expect(restored.errors).toEqual([]);
      expect(rawKeys(store)).toEqual([atOccurred]);
      expect(readSegmentHeader(store.objects.get(atOccurred)!)).toMatchObject({ firstOffset: '0', lastOffset: '10', rows: 10 });
      await restored.sink.stop();
    });

    it('refuses a marker whose files were never uploaded too (crash before upload), until the operator deletes the marker: then the window is cut afresh', async () => {
      const store = new MemoryStore();
      const crashed = harness(store, settings, { crashAt: { point: 'before-upload', cut: 1 } });
      await crashed.sink.start();
      crashed.assign([0]);
      await expect(crashed.batch({ from: 0, to: 9 })).rejects.toThrow('killed at before-upload');
      expect(rawKeys(store)).toEqual([]);
      expect((JSON.parse(store.objects.get(markerKey)!.toString()) as CutMarker).files).toEqual([atOccurred]);

      const changed = harness(store, { ...settings, eventTimeFields: { t: 'shippedAt' } });
      await changed.sink.start();
      changed.assign([0]);
      await changed.batch({ from: 0, to: 9 });
      expect(changed.errors).toHaveLength(1);
      expect(rawKeys(store)).toEqual([]);

      // The listed file is not in the lake: deleting the marker is safe, and takes effect at the next retry.
      store.objects.delete(markerKey);
      await waitFor(() => changed.calls.includes('resume 0'), { timeoutMs: 10_000, what: 'the backoff over' });
      await changed.batch({ from: 0, to: 9 });
      expect(changed.calls).toEqual(['pause 0', 'seek 0', 'resume 0', 'commit 10']);
      expect(rawKeys(store)).toEqual([atShipped]);
      expect((JSON.parse(store.objects.get(markerKey)!.toString()) as CutMarker).files).toEqual([atShipped]);
      expect(changed.sink.writerStatus()[0].refusedMarker).toBeUndefined();
      await changed.sink.stop();
    });

    it('refuses to upload when another run cut the same window with other files ("window already cut elsewhere", same end)', async () => {
      const store = new MemoryStore();
      const h = harness(store, settings);
      await h.sink.start();
      h.assign([0]);
      await h.batch({ from: 0, to: 4 });
      // Meanwhile a zombie owner with another event-time field cut the same window 0–9.
      const elsewhere: CutMarker = { topic: 't', partition: 0, from: '0', to: '9', files: [atShipped], reason: 'records', writtenAt: new Date(HOUR).toISOString() };
      store.objects.set(markerKey, Buffer.from(JSON.stringify(elsewhere)));
      await h.batch({ from: 5, to: 9 });
      expect(rawKeys(store)).toEqual([]);
      expect(h.calls).toEqual(['pause 0', 'seek 0']);
      expect(h.errors[0].fields).toMatchObject({ from: '0', to: '9', marker: markerKey, listedFiles: [atShipped], replayFiles: [atOccurred] });
      await h.sink.stop();
    });
  });
});
