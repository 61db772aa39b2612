/**
 * The landing loop against a fake consumer and an in-memory store, for the failure orders the real
 * broker cannot be made to produce on cue: a commit that fails after a window whose records all went
 * to the DLQ, and a rebalance while a partition backs off. (The e2e tests cover the real stack.)
 */
import * as avro from 'avsc';
import { ObjectExistsError, ObjectNotFoundError, type ObjectStore } from '@app/object-store';
import { waitFor } from '@app/testing';
import { landingDefaults, type LandingSettings } from './lake-settings';
import { readSegmentHeader } from './raw-segment';
import { LandingSink } from './sink-engine';
import { cutMarkerKey } from './sink-partition-writer';

const schema = {
  type: 'record',
  name: 'E',
  fields: [
    { name: 'eventId', type: 'string' },
    { name: 'occurredAt', type: { type: 'long', logicalType: 'timestamp-millis' } },
  ],
};
const valueType = avro.Type.forSchema(schema as avro.Schema);
const HOUR = Date.UTC(2026, 10, 28, 10);
/** Confluent framing with the given schema id (1 is registered, 2 is unknown). */
const framed = (i: number, schemaId: number) =>
  Buffer.concat([Buffer.from([0, 0, 0, 0, schemaId]), valueType.toBuffer({ eventId: `e${i}`, occurredAt: HOUR + i })]);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

class MemoryStore {
  readonly objects = new Map<string, Buffer>();
  failing = false;
  readonly url = 'mem://';
  async put(key: string, body: Buffer, options?: { ifNoneMatch?: boolean }): Promise<object> {
    if (this.failing) throw new Error('S3 down');
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
  async list(prefix: string) {
    return [...this.objects.keys()].filter((k) => k.startsWith(prefix)).map((key) => ({ key, size: 0 }));
  }
  async head() {
    return undefined;
  }
  async delete() {}
}

type Batch = { from: number; to: number; schemaIdOf?: (offset: number) => number; timestampOf?: (offset: number) => number };

/** A consumer whose batches the test hands in, recording pause/resume/seek/commit. */
function harness(store: MemoryStore, settings: Partial<LandingSettings>, options: { failCommits?: number; crashAt?: LandingSettings['crashAt'] } = {}) {
  const calls: string[] = [];
  let join: (event: { payload: { memberAssignment: Record<string, number[]> } }) => void = () => undefined;
  let eachBatch: (payload: unknown) => Promise<void> = async () => undefined;
  let commitFailures = options.failCommits ?? 0;
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
    producer: () => ({ connect: async () => undefined, disconnect: async () => undefined, send: async () => [] }),
    consumer: () => consumer,
  };
  const silent = { info: () => undefined, warn: () => undefined, error: () => undefined, debug: () => undefined };
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
    assign: (partitions: number[]) => join({ payload: { memberAssignment: { t: partitions } } }),
    batch: ({ from, to, schemaIdOf = () => 1, timestampOf = () => 0 }: Batch) =>
      eachBatch({
        batch: {
          topic: 't',
          partition: 0,
          messages: Array.from({ length: to - from + 1 }, (_, i) => ({
            offset: String(from + i),
            timestamp: String(timestampOf(from + i)),
            key: null,
            value: framed(from + i, schemaIdOf(from + i)),
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
});
