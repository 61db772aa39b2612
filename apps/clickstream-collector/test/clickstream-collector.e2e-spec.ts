/**
 * The clickstream collector on the real stack (broker, registry, moto S3), on a topic of its own:
 * a shopper clicks through the demo shop in a real headless Chromium (Debian's `chromium`, driven by
 * playwright-core); every interaction reaches Kafka keyed by its session (the last ones through
 * `navigator.sendBeacon` on page hide), then the lake: the s3-sink's landing on the same topic, the
 * hour closed and compacted, and DuckDB over the curated files returns each event once. Then the HTTP
 * contract: per-record answers that point at the records in Kafka, gzip NDJSON with a bad line, bots
 * dropped, whole-batch refusals, and 429 with Retry-After while the in-flight cap is taken.
 */
import { connect, type Socket } from 'node:net';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Test } from '@nestjs/testing';
import { Kafka, logLevel } from 'kafkajs';
import { chromium, type Browser } from 'playwright-core';
import { createSchemaRegistry, RegistryCodec } from '@app/codec';
import { loadConfig } from '@app/config';
import { topics, type ClickstreamEvent } from '@app/contracts';
import { createKafkaClient } from '@app/kafka';
import { closeHour, LakeQuery, LandingSink, loadCompactionSettings, loadLandingSettings, runCompaction, tableNameOf } from '@app/lake';
import { createLogger } from '@app/logging';
import { KAFKA } from '@app/platform';
import { createObjectStore } from '@app/object-store';
import { committedOffsets, endOffsets, readTopic, uniqueName, waitFor } from '@app/testing';
import { freePort } from '../../../test/support/service-process';
import { ClickstreamCollectorModule } from '../src/clickstream-collector.module';
import { configureCollectorHttp } from '../src/http-setup';
import { ClickstreamIngest } from '../src/collector/clickstream-ingest';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const DESKTOP_UA = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36';
const MAX_IN_FLIGHT_REQUESTS = 4;

const config = loadConfig(process.env, { service: 'clickstream-collector', defaultHttpPort: 0 });
const logger = createLogger({ service: 'clickstream-collector-test' }, 'warn');
const topic = uniqueName('clickstream-test');
const kafka: Kafka = createKafkaClient(config.kafka);
const codec = new RegistryCodec(createSchemaRegistry(config.schemaRegistry), { autoRegister: true });
const tempDir = mkdtempSync(join(tmpdir(), 'clickstream-e2e-'));

let app: INestApplication;
let baseUrl: string;
let browser: Browser;

interface Landed {
  partition: number;
  offset: string;
  key: string;
  event: ClickstreamEvent;
}

/** Every record of the test topic, decoded (the writer's schema resolved to the catalog's). */
async function landedInKafka(): Promise<Landed[]> {
  const messages = await readTopic(kafka, topic);
  const deserializer = codec.deserializerFor<ClickstreamEvent>(topics.clickstream.schema);
  return Promise.all(
    messages.map(async (m) => ({ partition: m.partition, offset: m.offset, key: m.key!.toString(), event: await deserializer.decode(m.value!) })),
  );
}

function event(sessionId: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return { eventId: randomUUID(), occurredAt: new Date().toISOString(), eventType: 'PAGE_VIEW', sessionId, pageUrl: '/shop', ...overrides };
}

async function post(body: string | Buffer, headers: Record<string, string>) {
  const res = await fetch(`${baseUrl}/v1/events`, { method: 'POST', body, headers: { 'user-agent': DESKTOP_UA, ...headers } });
  return { status: res.status, headers: res.headers, body: (await res.json()) as { failedRecordCount: number; records: Record<string, unknown>[]; error?: string } };
}

beforeAll(async () => {
  expect(existsSync(CHROMIUM)).toBe(true); // apt-get install chromium (.ci/run does it when missing)
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions: 3 }] });
  } finally {
    await admin.disconnect();
  }
  app = await NestFactory.create(
    ClickstreamCollectorModule.forRoot(config, logger, { CLICKSTREAM_TOPIC: topic, CLICKSTREAM_MAX_INFLIGHT_REQUESTS: String(MAX_IN_FLIGHT_REQUESTS) }),
    { logger: false },
  );
  configureCollectorHttp(app);
  await app.listen(0, '127.0.0.1');
  baseUrl = (await app.getUrl()).replace('[::1]', '127.0.0.1');
  // The flag, not only the context's user agent: beacons sent after a page is gone leave from the browser
  // process, which would announce itself as HeadlessChrome, a bot the collector drops by default.
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: [`--user-agent=${DESKTOP_UA}`] });
});

afterAll(async () => {
  await browser?.close();
  await app?.close();
  rmSync(tempDir, { recursive: true, force: true });
});

describe('clickstream collector', () => {
  it('a shopper clicking through the demo shop in Chromium: each interaction in Kafka keyed by session, then once in the lake', async () => {
    const context = await browser.newContext({ userAgent: DESKTOP_UA });
    const page = await context.newPage();
    const consoleLines: string[] = [];
    page.on('console', (m) => consoleLines.push(m.text()));
    page.on('requestfailed', (r) => consoleLines.push(`failed ${r.url()} ${r.failure()?.errorText}`));
    await page.goto(`${baseUrl}/`);
    await page.waitForURL('**/shop');
    const sessionId = await page.evaluate(() => (globalThis as unknown as { securecartBeacon: { sessionId: string } }).securecartBeacon.sessionId);
    await page.fill('#search-input', 'mug');
    await page.click('#search-button');
    await page.waitForURL('**/shop/search?q=mug');
    await page.click('.product-link[data-sku="DEMO-SKU-001"]');
    await page.waitForURL('**/shop/products/DEMO-SKU-001');
    await page.click('#add-to-cart');
    await page.waitForSelector('#status:has-text("Added")');
    await page.click('#cart-link');
    await page.waitForURL('**/shop/cart');
    await page.click('#checkout');
    await page.waitForSelector('#status:has-text("Checkout started")');
    // Leaving the page fires pagehide: the beacon sends what is still queued (checkout at least).
    await page.goto('about:blank');
    await context.close();

    const expected = [
      'PAGE_VIEW /shop',
      'PAGE_VIEW /shop/search',
      'SEARCH /shop/search mug',
      'PAGE_VIEW /shop/products/DEMO-SKU-001',
      'PRODUCT_VIEW /shop/products/DEMO-SKU-001 DEMO-SKU-001',
      'ADD_TO_CART /shop/products/DEMO-SKU-001 DEMO-SKU-001',
      'PAGE_VIEW /shop/cart',
      'CHECKOUT_START /shop/cart',
    ].sort();
    const describeEvent = (e: { eventType: string; pageUrl: string; productSku: string | null; searchQuery: string | null }) =>
      [e.eventType, e.pageUrl, e.productSku ?? e.searchQuery].filter(Boolean).join(' ');
    // At least once: a beacon racing a keepalive fetch may deliver an event twice; distinct by eventId.
    const distinct = (records: Landed[]) => [...new Map(records.map((r) => [r.event.eventId, r])).values()];
    let seen: string[] = [];
    const inKafka = await waitFor(
      async () => {
        const mine = distinct((await landedInKafka()).filter((r) => r.key === sessionId));
        seen = mine.map((r) => describeEvent(r.event));
        return mine.length >= expected.length ? mine : undefined;
      },
      { timeoutMs: 30_000, what: `the session's ${expected.length} events in Kafka` },
    ).catch((err: Error) => {
      throw new Error(`${err.message}; seen: ${JSON.stringify(seen)}; browser: ${JSON.stringify(consoleLines)}`);
    });
    expect(inKafka.map((r) => describeEvent(r.event)).sort()).toEqual(expected);
    for (const r of inKafka) {
      expect(r.event).toMatchObject({ sessionId, correlationId: sessionId, producer: 'clickstream-collector', userAgentClass: 'DESKTOP', country: null });
    }
    expect(new Set(inKafka.map((r) => r.partition)).size).toBe(1); // keyed by session: one partition

    // The lake: the sink lands the topic, the hour(s) close and compact, DuckDB reads the curated files.
    const lakeUrl = `s3://${config.objectStore.bucket}/${uniqueName('clickstream-lake')}/`;
    const groupId = uniqueName('s3-sink.clickstream-test');
    const store = createObjectStore(lakeUrl, config.objectStore);
    const sink = new LandingSink({
      kafka,
      store,
      registry: config.schemaRegistry,
      settings: loadLandingSettings({ LAKE_URL: lakeUrl, SINK_TOPICS: topic, SINK_GROUP_ID: groupId, SINK_FLUSH_IDLE: '1s' }, { defaultLakeUrl: lakeUrl, catalogTopics: [] }),
      logger,
    });
    await sink.start();
    try {
      await waitFor(
        async () => {
          const [ends, committed] = await Promise.all([endOffsets(kafka, topic), committedOffsets(kafka, groupId, topic)]);
          return [...ends].every(([p, end]) => end === 0n || (committed.get(p) ?? -1n) >= end);
        },
        { timeoutMs: 45_000, intervalMs: 500, what: 'the sink committed the topic to its end' },
      );
    } finally {
      await sink.stop();
    }
    const hours = [...new Set(inKafka.map((r) => r.event.occurredAt.toISOString().slice(0, 13)))];
    for (const hour of hours) {
      await closeHour(store, topic, hour, { reason: 'manual' });
      await runCompaction({ store, registry: config.schemaRegistry, settings: loadCompactionSettings({}), workDir: tempDir }, topic, hour);
    }
    const query = await LakeQuery.open(store, { cacheDir: join(tempDir, 'cache') });
    try {
      const sql = `select eventId, eventType, pageUrl, productSku, searchQuery, userAgentClass from ${tableNameOf(topic)} where sessionId = '${sessionId}'`;
      await query.prepare(sql);
      const { rows } = await query.run(sql);
      expect(rows.map(([, eventType, pageUrl, productSku, searchQuery]) => describeEvent({ eventType, pageUrl, productSku, searchQuery } as never)).sort()).toEqual(expected);
      expect(new Set(rows.map((r) => r[0])).size).toBe(expected.length);
      expect(rows.every((r) => r[5] === 'DESKTOP')).toBe(true);
    } finally {
      query.close();
    }
  });

  it('the beacon keeps events the collector throttled (429) and delivers them once it takes them again', async () => {
    const context = await browser.newContext({ userAgent: DESKTOP_UA });
    const page = await context.newPage();
    let throttled = 0;
    // The first two batch requests are answered as a collector at capacity would answer them.
    await page.route('**/v1/events', async (route) => {
      if (throttled < 2) {
        throttled++;
        return route.fulfill({ status: 429, headers: { 'retry-after': '1' }, contentType: 'application/json', body: '{"error":"TooManyRequests"}' });
      }
      return route.continue();
    });
    await page.goto(`${baseUrl}/shop/products/DEMO-SKU-002`);
    const sessionId = await page.evaluate(() => (globalThis as unknown as { securecartBeacon: { sessionId: string } }).securecartBeacon.sessionId);
    await page.waitForFunction(() => {
      const b = (globalThis as unknown as { securecartBeacon: { stats: Record<string, number>; pending(): number } }).securecartBeacon;
      return b.stats.acknowledged >= 2 && b.pending() === 0;
    }, undefined, { timeout: 20_000 });
    const stats = await page.evaluate(() => (globalThis as unknown as { securecartBeacon: { stats: Record<string, number> } }).securecartBeacon.stats);
    await context.close();
    expect(throttled).toBe(2);
    expect(stats.retried).toBeGreaterThanOrEqual(4); // both events, twice
    const mine = await waitFor(
      async () => {
        const events = (await landedInKafka()).filter((r) => r.key === sessionId);
        return events.length >= 2 ? events : undefined;
      },
      { timeoutMs: 15_000, what: "the throttled session's events in Kafka" },
    );
    expect(mine.map((r) => r.event.eventType).sort()).toEqual(['PAGE_VIEW', 'PRODUCT_VIEW']);
  });

  it('sends again from the next page what went by beacon, since a beacon that never arrived cannot be told from one that did', async () => {
    const context = await browser.newContext({ userAgent: DESKTOP_UA });
    const page = await context.newPage();
    await page.goto(`${baseUrl}/shop/products/DEMO-SKU-003`);
    const sessionId = await page.evaluate(() => (globalThis as unknown as { securecartBeacon: { sessionId: string } }).securecartBeacon.sessionId);
    await page.waitForFunction(() => (globalThis as unknown as { securecartBeacon: { pending(): number } }).securecartBeacon.pending() === 0);
    // The browser accepts the beacon and it is lost on the way (as when the collector answered 503).
    await page.evaluate(() => {
      (globalThis as unknown as { navigator: { sendBeacon: () => boolean } }).navigator.sendBeacon = () => true;
    });
    await page.click('#add-to-cart');
    await page.click('#cart-link');
    await page.waitForURL('**/shop/cart');
    const mine = await waitFor(
      async () => {
        const events = (await landedInKafka()).filter((r) => r.key === sessionId).map((r) => r.event.eventType);
        return events.includes('ADD_TO_CART') && events.includes('PAGE_VIEW') ? events : undefined;
      },
      { timeoutMs: 15_000, what: 'the add-to-cart whose beacon was lost, sent again from the cart page' },
    );
    await context.close();
    expect(mine.filter((t) => t === 'ADD_TO_CART')).toHaveLength(1);
  });

  it('answers per record: offsets that point at the records in Kafka, errors for bad ones, bots dropped, gzip NDJSON', async () => {
    const session = `ses-${randomUUID()}`;
    const good = [event(session), event(session, { eventType: 'PRODUCT_VIEW', productSku: 'SKU-1', pageUrl: 'https://shop.example/p/1?utm=x', country: 'DE' })];
    const lines = [JSON.stringify(good[0]), '{"not json', JSON.stringify({ ...event(session), eventType: 'SCROLL', extra: 1 }), JSON.stringify(good[1])];
    const res = await post(gzipSync(lines.join('\n')), { 'content-type': 'application/x-ndjson', 'content-encoding': 'gzip' });
    expect(res.status).toBe(200);
    expect(res.body.failedRecordCount).toBe(2);
    expect(res.body.records[1]).toMatchObject({ errorCode: 'MalformedRecord' });
    expect(res.body.records[2]).toMatchObject({ errorCode: 'InvalidEvent' });
    expect(String(res.body.records[2].errorMessage)).toMatch(/unknown field\(s\) extra.*eventType must be one of/);
    const [first, second] = [res.body.records[0], res.body.records[3]] as Array<{ partition: number; offset: string }>;
    expect(first.partition).toBe(second.partition);
    expect(BigInt(second.offset)).toBe(BigInt(first.offset) + 1n);
    const landed = await landedInKafka();
    const at = (r: { partition: number; offset: string }) => landed.find((l) => l.partition === r.partition && l.offset === r.offset)!;
    expect(at(first).event.eventId).toBe(good[0].eventId);
    expect(at(second).event).toMatchObject({ eventId: good[1].eventId, pageUrl: '/p/1', country: 'DE' });
    expect(at(second).key).toBe(session);

    // Concurrent batches are merged into shared produce calls: each answer still names its own records.
    // As many as the in-flight cap admits; one refused with 429 anyway (a beacon of an earlier test still
    // in flight) is sent again after its Retry-After, as a client does.
    const batches = Array.from({ length: MAX_IN_FLIGHT_REQUESTS }, (_, b) => Array.from({ length: 50 }, (_, i) => event(`ses-${b}-${i % 7}`)));
    const postUntilTaken = async (batch: Record<string, unknown>[]) => {
      for (;;) {
        const answer = await post(JSON.stringify(batch), { 'content-type': 'application/json' });
        if (answer.status !== 429) return answer;
        await new Promise((resolve) => setTimeout(resolve, Number(answer.headers.get('retry-after')) * 1000));
      }
    };
    const answers = await Promise.all(batches.map(postUntilTaken));
    const byPosition = new Map((await landedInKafka()).map((l) => [`${l.partition}/${l.offset}`, l]));
    answers.forEach((answer, b) => {
      expect(answer.body.failedRecordCount).toBe(0);
      answer.body.records.forEach((r, i) => {
        const landedAt = byPosition.get(`${r.partition}/${r.offset}`);
        expect(landedAt?.event.eventId).toBe(batches[b][i].eventId);
        expect(landedAt?.key).toBe(batches[b][i].sessionId);
      });
    });

    const botSession = `ses-${randomUUID()}`;
    const bot = await post(JSON.stringify([event(botSession), event(botSession)]), { 'content-type': 'application/json', 'user-agent': 'Mozilla/5.0 (compatible; Googlebot/2.1)' });
    expect(bot.status).toBe(200);
    expect(bot.body).toEqual({ failedRecordCount: 0, records: [{ dropped: 'BOT_USER_AGENT' }, { dropped: 'BOT_USER_AGENT' }] });
    expect((await landedInKafka()).some((l) => l.key === botSession)).toBe(false);
  });

  it('refuses whole batches it cannot take: too many events, too large, not JSON, unsupported type', async () => {
    const tooMany = await post(JSON.stringify(Array.from({ length: 501 }, () => event('s'))), { 'content-type': 'application/json' });
    expect([tooMany.status, tooMany.body.error]).toEqual([413, 'PayloadTooLarge']);
    const huge = Buffer.alloc(5 * 1024 * 1024 + 10, 0x20);
    const tooLarge = await post(gzipSync(huge), { 'content-type': 'application/json', 'content-encoding': 'gzip' });
    expect(tooLarge.status).toBe(413);
    expect((await post('[{"a":', { 'content-type': 'application/json' })).status).toBe(400);
    expect((await post('<xml/>', { 'content-type': 'application/xml' })).status).toBe(415);
  });

  it('answers 429 with Retry-After while the in-flight requests cap is taken, and takes batches again after', async () => {
    const url = new URL(`${baseUrl}/v1/events`);
    // Requests whose bodies never finish hold their admission, as slow clients would. Raw sockets, so no
    // client-side connection pool can delay or reuse them.
    const held: Socket[] = [];
    for (let i = 0; i < MAX_IN_FLIGHT_REQUESTS; i++) {
      const socket = connect(Number(url.port), url.hostname);
      socket.on('error', () => undefined);
      socket.write(`POST ${url.pathname} HTTP/1.1\r\nHost: ${url.host}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n1\r\n[\r\n`);
      held.push(socket);
    }
    const admission = app.get(ClickstreamIngest).admission;
    await waitFor(() => admission.inFlightRequests === MAX_IN_FLIGHT_REQUESTS, {
      timeoutMs: 10_000,
      what: `the ${MAX_IN_FLIGHT_REQUESTS} slow requests admitted`,
    });
    try {
      const throttled = await waitFor(
        async () => {
          const r = await post(JSON.stringify([event('ses-throttled')]), { 'content-type': 'application/json' });
          return r.status === 429 ? r : undefined;
        },
        { timeoutMs: 10_000, what: '429 while the cap is taken' },
      );
      expect(throttled.headers.get('retry-after')).toBe('1');
      expect(throttled.body.error).toBe('TooManyRequests');
    } finally {
      for (const req of held) req.destroy();
    }
    const after = await waitFor(
      async () => {
        const r = await post(JSON.stringify([event('ses-after')]), { 'content-type': 'application/json' });
        return r.status === 200 ? r : undefined;
      },
      { timeoutMs: 10_000, what: 'batches taken again' },
    );
    expect(after.body.failedRecordCount).toBe(0);
  });

  it('answers 503 with Retry-After and a per-record ServiceUnavailable when Kafka cannot be reached', async () => {
    const closedPort = await freePort(); // nothing listens there: the broker is "down"
    const moduleRef = await Test.createTestingModule({
      imports: [ClickstreamCollectorModule.forRoot(config, logger, { CLICKSTREAM_TOPIC: topic, CLICKSTREAM_PUBLISH_TIMEOUT_MS: '1000', CLICKSTREAM_RETRY_AFTER_SECONDS: '2' })],
    })
      // Without retries, so the client gives up soon after the test instead of retrying in the background.
      .overrideProvider(KAFKA)
      .useValue(new Kafka({ brokers: [`127.0.0.1:${closedPort}`], connectionTimeout: 300, retry: { retries: 0 }, logLevel: logLevel.NOTHING }))
      .compile();
    const down = moduleRef.createNestApplication({ logger: false });
    configureCollectorHttp(down);
    await down.listen(0, '127.0.0.1');
    try {
      const session = `ses-${randomUUID()}`;
      const res = await fetch(`${(await down.getUrl()).replace('[::1]', '127.0.0.1')}/v1/events`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'user-agent': DESKTOP_UA },
        body: JSON.stringify([event(session), { eventType: 'SCROLL' }]),
      });
      expect(res.status).toBe(503);
      expect(res.headers.get('retry-after')).toBe('2');
      const body = (await res.json()) as { failedRecordCount: number; records: Array<{ errorCode: string }> };
      expect(body.failedRecordCount).toBe(2);
      expect(body.records.map((r) => r.errorCode)).toEqual(['ServiceUnavailable', 'InvalidEvent']);
      expect((await landedInKafka()).some((l) => l.key === session)).toBe(false);
    } finally {
      await down.close();
    }
  });
});
