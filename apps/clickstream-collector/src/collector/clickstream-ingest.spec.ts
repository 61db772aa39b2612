import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { Registry } from 'prom-client';
import type { ClickstreamEvent } from '@app/contracts';
import { ClickstreamIngest, type EventPublisher, type PutRecordsAnswer } from './clickstream-ingest';
import type { PublishResult } from './clickstream-publisher';
import { CollectorMetrics } from './collector-metrics';
import { loadCollectorSettings } from './collector-settings';

const DESKTOP = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/120';

function request(records: unknown[], headers: Record<string, string> = {}) {
  const body = JSON.stringify(records);
  const stream = Readable.from([Buffer.from(body)]) as Readable & { headers: Record<string, string> };
  stream.headers = { 'content-type': 'application/json', 'user-agent': DESKTOP, 'content-length': String(body.length), ...headers };
  return stream;
}

const event = (overrides: Record<string, unknown> = {}) => ({
  eventId: randomUUID(),
  occurredAt: new Date().toISOString(),
  eventType: 'PAGE_VIEW',
  sessionId: 'ses-1',
  pageUrl: '/',
  ...overrides,
});

class FakePublisher implements EventPublisher {
  published: ClickstreamEvent[] = [];
  constructor(private readonly answer: (e: ClickstreamEvent, i: number) => PublishResult = (_e, i) => ({ partition: 0, offset: String(i) })) {}
  async publish(events: ClickstreamEvent[]): Promise<PublishResult[]> {
    this.published.push(...events);
    return events.map(this.answer);
  }
}

function setup(publisher: EventPublisher, env: NodeJS.ProcessEnv = {}) {
  const registry = new Registry();
  return { ingest: new ClickstreamIngest(loadCollectorSettings(env), publisher, new CollectorMetrics(registry)), registry };
}

describe('ClickstreamIngest', () => {
  it('answers each record in order: published, invalid, dropped by the filter; failedRecordCount counts errors only', async () => {
    const publisher = new FakePublisher();
    const { ingest, registry } = setup(publisher, { CLICKSTREAM_HASH_FIELDS: 'customerId' });
    const answer = await ingest.handle(
      request([event({ customerId: 'cus-9' }), { eventType: 'PAGE_VIEW' }, event({ userAgent: 'Googlebot/2.1' }), event({ eventType: 'CHECKOUT_START' })]),
    );
    expect(answer.status).toBe(200);
    const body = answer.body as PutRecordsAnswer;
    expect(body.failedRecordCount).toBe(1);
    expect(body.records[0]).toEqual({ partition: 0, offset: '0' });
    expect(body.records[1]).toMatchObject({ errorCode: 'InvalidEvent' });
    expect(body.records[2]).toEqual({ dropped: 'BOT_USER_AGENT' });
    expect(body.records[3]).toEqual({ partition: 0, offset: '1' });
    expect(publisher.published.map((e) => e.eventType)).toEqual(['PAGE_VIEW', 'CHECKOUT_START']);
    expect(publisher.published[0].customerId).toMatch(/^[0-9a-f]{64}$/);
    const metrics = await registry.getSingleMetricAsString('clickstream_events_total');
    expect(metrics).toContain('clickstream_events_total{outcome="published",event_type="CHECKOUT_START"} 1');
    expect(metrics).toContain('clickstream_events_total{outcome="dropped",event_type=""} 1');
    expect(metrics).toContain('clickstream_events_total{outcome="invalid",event_type=""} 1');
  });

  it('answers 503 with Retry-After, still per record, when Kafka took none of the valid records', async () => {
    const down = new FakePublisher(() => ({ errorCode: 'ServiceUnavailable', errorMessage: 'Kafka: down' }));
    const answer = await setup(down, { CLICKSTREAM_RETRY_AFTER_SECONDS: '3' }).ingest.handle(request([event(), event()]));
    expect(answer.status).toBe(503);
    expect(answer.headers['retry-after']).toBe('3');
    expect(answer.body).toMatchObject({ failedRecordCount: 2, records: [{ errorCode: 'ServiceUnavailable' }, { errorCode: 'ServiceUnavailable' }] });
  });

  it('throttles with 429 before reading the body while the in-flight bytes are taken, and releases them after', async () => {
    let release!: () => void;
    let started!: () => void;
    const publishing = new Promise<void>((resolve) => (started = resolve));
    const slow: EventPublisher = {
      publish: (events) =>
        new Promise((resolve) => {
          release = () => resolve(events.map(() => ({ partition: 0, offset: '0' })));
          started();
        }),
    };
    const { ingest } = setup(slow, { CLICKSTREAM_MAX_BATCH_BYTES: '1KiB', CLICKSTREAM_MAX_INFLIGHT_BYTES: '1KiB' });
    const first = ingest.handle(request([event()], { 'content-length': '1024' }));
    await publishing;
    const body = request([event()]);
    const throttled = await ingest.handle(body);
    expect(throttled.status).toBe(429);
    expect(throttled.headers['retry-after']).toBe('1');
    expect(body.readableEnded).toBe(false); // not a byte read
    release();
    expect((await first).status).toBe(200);
    expect([ingest.admission.inFlightBytes, ingest.admission.inFlightRequests]).toEqual([0, 0]);
  });

  it('refuses unsupported media types before admitting anything', async () => {
    const { ingest } = setup(new FakePublisher());
    const answer = await ingest.handle(request([event()], { 'content-type': 'text/csv' }));
    expect(answer.status).toBe(415);
    expect(ingest.admission.inFlightRequests).toBe(0);
  });
});
