// npm run bench:pipeline — two comparisons against Kafka's own tools, in the same run, on this machine:
//  (a) the runtime's output path in records/s (a KafkaRuntime relaying a pre-filled topic: fetch,
//      decode, handler, Avro encode, transactional produce with acks=all + offsets, commit) versus
//      org.apache.kafka.tools.ProducerPerformance with the same value size and acks=all. Paired rounds,
//      order rotated, ratio per round; every record checked (ProducerPerformance: the topic's end offsets
//      add up; runtime: every sequence number read back once, read_committed).
//  (b) orders end to end: p50/p99 from POST /orders to the final state (GET ?waitForFinal=true) at a
//      fixed offered rate versus org.apache.kafka.tools.EndToEndLatency (produce → consume round trip).
//      Needs the services built (`npm run build`: dist/apps/*/main.js); otherwise reported missing.
//   BENCH_PIPELINE_RECORDS (default 50000), BENCH_PIPELINE_ROUNDS (default 4), BENCH_ORDERS_RATE (per s,
//   default 20), BENCH_ORDERS_SECONDS (default 20), BENCH_SKIP_ORDERS=1 skips (b)'s orders part,
//   BENCH_SKIP_PRODUCER=1 skips (a). The services join their real groups on the shared topics: do not run
//   (b) while other instances of them (npm start, their e2e tests) are running.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createServer, type AddressInfo } from 'node:net';
import type { Admin, Kafka } from 'kafkajs';
import { Registry } from 'prom-client';
import { avroSchema, createSchemaRegistry, RegistryCodec } from '@app/codec';
import { loadConfig } from '@app/config';
import { createKafkaClient } from '@app/kafka';
import { createLogger } from '@app/logging';
import { KafkaRuntime, type HandlerContext, type InboundRecord } from '@app/runtime';
import { readTopic, uniqueName } from '@app/testing';

const ROOT = join(__dirname, '../..');
const RECORDS = Number(process.env.BENCH_PIPELINE_RECORDS ?? 50_000);
const ROUNDS = Number(process.env.BENCH_PIPELINE_ROUNDS ?? 4);
const PARTITIONS = 6;
const PAYLOAD_CHARS = 1_000;
const ORDERS_RATE = Number(process.env.BENCH_ORDERS_RATE ?? 20);
const ORDERS_SECONDS = Number(process.env.BENCH_ORDERS_SECONDS ?? 20);

const benchSchema = avroSchema({
  type: 'record',
  name: 'BenchRecord',
  namespace: 'com.securecart.bench',
  fields: [
    { name: 'seq', type: 'int' },
    { name: 'payload', type: 'string' },
  ],
});
interface BenchRecord {
  seq: number;
  payload: string;
}

const config = loadConfig(process.env, { service: 'bench-pipeline', defaultHttpPort: 0 });
const logger = createLogger({ service: 'bench-pipeline' }, 'error');

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length % 2 ? sorted[(sorted.length - 1) / 2] : (sorted[sorted.length / 2 - 1] + sorted[sorted.length / 2]) / 2;
}

function kafkaLibs(): string {
  const downloads = join(ROOT, '.local-stack/downloads');
  const dir = readdirSync(downloads).find((d) => d.startsWith('kafka-libs-') && existsSync(join(downloads, d, 'kafka-tools-4.4.0.jar')))
    ?? readdirSync(downloads).find((d) => d.startsWith('kafka-libs-'));
  if (!dir) throw new Error('no .local-stack/downloads/kafka-libs-*: run npm run stack:up first');
  return join(downloads, dir);
}

/** Runs one of Kafka's tool classes with the broker's own jars (as infra/local/stack.sh does). */
function kafkaTool(mainClass: string, args: string[]): string {
  const result = spawnSync(
    'java',
    ['-Xms256m', '-Xmx1g', `-Dlog4j2.configurationFile=${join(ROOT, 'infra/local/log4j2.properties')}`, '-cp', `${kafkaLibs()}/*`, mainClass, ...args],
    { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
  );
  if (result.status !== 0) throw new Error(`${mainClass} failed (${result.status}): ${result.stderr}\n${result.stdout}`);
  return result.stdout + result.stderr;
}

async function createTopic(admin: Admin, topic: string, partitions = PARTITIONS): Promise<void> {
  await admin.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions: partitions }] });
}

async function endOffsetSum(admin: Admin, topic: string): Promise<number> {
  return (await admin.fetchTopicOffsets(topic)).reduce((sum, o) => sum + Number(o.high), 0);
}

/** ProducerPerformance with Kafka's default producer (linger.ms=5 set explicitly, as 4.x defaults it), acks=all. */
async function producerPerformance(admin: Admin, recordSize: number): Promise<number> {
  const topic = uniqueName('bench.producer-performance');
  await createTopic(admin, topic);
  const out = kafkaTool('org.apache.kafka.tools.ProducerPerformance', [
    '--topic', topic,
    '--num-records', String(RECORDS),
    '--record-size', String(recordSize),
    '--throughput', '-1',
    '--producer-props', `bootstrap.servers=${config.kafka.brokers.join(',')}`, 'acks=all', 'linger.ms=5',
  ]);
  const summary = out.split('\n').filter((line) => line.includes('records sent')).pop();
  const rate = summary ? Number(/([\d.]+) records\/sec/.exec(summary)?.[1]) : NaN;
  if (!Number.isFinite(rate)) throw new Error(`could not read ProducerPerformance's summary:\n${out}`);
  const landed = await endOffsetSum(admin, topic);
  if (landed !== RECORDS) throw new Error(`ProducerPerformance: ${landed} of ${RECORDS} records landed`);
  await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
  return rate;
}

/** The runtime relaying a pre-filled input topic; timed from the first handled record to the last commit. */
async function runtimeRelay(kafka: Kafka, admin: Admin, codec: RegistryCodec, payload: string): Promise<number> {
  const input = uniqueName('bench.relay-in.v1');
  const output = uniqueName('bench.relay-out.v1');
  const service = uniqueName('bench-relay');
  await createTopic(admin, input);
  await createTopic(admin, output);
  // Fill the input untimed, in separate batches per partition like upstream producers would.
  const serializer = await codec.serializerFor<BenchRecord>(input, benchSchema);
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  for (let from = 0; from < RECORDS; from += 2_000) {
    const count = Math.min(2_000, RECORDS - from);
    await producer.send({ topic: input, acks: -1, messages: Array.from({ length: count }, (_, i) => ({ key: String(from + i), value: serializer.encode({ seq: from + i, payload }) })) });
  }
  await producer.disconnect();
  await codec.serializerFor<BenchRecord>(output, benchSchema); // schema id lookup outside the timing

  let handled = 0;
  let firstAt = 0;
  const runtime = new KafkaRuntime({
    kafka,
    codec,
    logger,
    metrics: new Registry(),
    service,
    avroTopics: [{ name: input, schema: benchSchema }, { name: output, schema: benchSchema }],
    handlers: {
      [input]: (record: InboundRecord<BenchRecord>, ctx: HandlerContext) => {
        if (handled++ === 0) firstAt = performance.now();
        ctx.emit({ topic: output, key: record.key!, value: record.value });
      },
    },
  });
  await runtime.start();
  const done = async () => {
    const [{ partitions }] = await admin.fetchOffsets({ groupId: service, topics: [input] });
    return partitions.reduce((sum, p) => sum + Math.max(0, Number(p.offset)), 0) >= RECORDS;
  };
  while (!(await done())) await new Promise((resolve) => setTimeout(resolve, 20));
  const seconds = (performance.now() - firstAt) / 1000;
  await runtime.close();

  const relayed = await readTopic(kafka, output, { timeoutMs: 120_000 });
  const seqs = new Set((await codec.deserializerFor<BenchRecord>(benchSchema).decodeAll(relayed.map((m) => m.value!))).map((d) => (d.ok ? d.value.seq : -1)));
  if (relayed.length !== RECORDS || seqs.size !== RECORDS || seqs.has(-1)) {
    throw new Error(`runtime relay: ${relayed.length} records read back, ${seqs.size} distinct, want ${RECORDS} exactly once`);
  }
  await admin.deleteTopics({ topics: [input, output] }).catch(() => undefined);
  return RECORDS / seconds;
}

async function partA(kafka: Kafka, admin: Admin, codec: RegistryCodec): Promise<void> {
  const payload = 'x'.repeat(PAYLOAD_CHARS);
  const valueBytes = (await codec.serializerFor<BenchRecord>(uniqueName('bench.size'), benchSchema)).encode({ seq: 123_456, payload }).length;
  console.log(`\n(a) producer path: ${RECORDS} records of ${valueBytes} B values, ${PARTITIONS} partitions, acks=all, ${ROUNDS} paired rounds`);
  const rows: Array<{ kafka: number; runtime: number; ratio: number; order: string }> = [];
  // One warm-up pass of each (JIT, connections, registry lookups), not counted.
  await runtimeRelay(kafka, admin, codec, payload);
  for (let round = 0; round < ROUNDS; round++) {
    const kafkaFirst = round % 2 === 0;
    let kafkaRate = 0;
    let runtimeRate = 0;
    if (kafkaFirst) {
      kafkaRate = await producerPerformance(admin, valueBytes);
      runtimeRate = await runtimeRelay(kafka, admin, codec, payload);
    } else {
      runtimeRate = await runtimeRelay(kafka, admin, codec, payload);
      kafkaRate = await producerPerformance(admin, valueBytes);
    }
    const row = { kafka: kafkaRate, runtime: runtimeRate, ratio: runtimeRate / kafkaRate, order: kafkaFirst ? 'kafka→runtime' : 'runtime→kafka' };
    rows.push(row);
    console.log(`  round ${round + 1} (${row.order}): ProducerPerformance ${Math.round(kafkaRate)} rec/s, runtime ${Math.round(runtimeRate)} rec/s, ratio ${row.ratio.toFixed(2)}`);
  }
  const ratios = rows.map((r) => r.ratio);
  console.log(
    `  runtime ÷ ProducerPerformance: min ${Math.min(...ratios).toFixed(2)}, median ${median(ratios).toFixed(2)}, max ${Math.max(...ratios).toFixed(2)}` +
      ` (medians: runtime ${Math.round(median(rows.map((r) => r.runtime)))} rec/s, ProducerPerformance ${Math.round(median(rows.map((r) => r.kafka)))} rec/s; target ≥ 0.8)`,
  );
}

function endToEndLatency(admin: Admin, recordSize: number, records: number): Promise<{ p50: number; p99: number }> {
  return (async () => {
    const topic = uniqueName('bench.end-to-end-latency');
    await createTopic(admin, topic, 1);
    const out = kafkaTool('org.apache.kafka.tools.EndToEndLatency', [
      '--bootstrap-server', config.kafka.brokers.join(','),
      '--topic', topic,
      '--num-records', String(records),
      '--producer-acks', 'all',
      '--record-size', String(recordSize),
    ]);
    const match = /Percentiles: 50th = ([\d.]+), 99th = ([\d.]+)/.exec(out);
    if (!match) throw new Error(`could not read EndToEndLatency's percentiles:\n${out}`);
    await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
    return { p50: Number(match[1]), p99: Number(match[2]) };
  })();
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

/** The three services from `npm run build`, POSTing orders at a fixed rate; null when they are not built. */
async function ordersEndToEnd(): Promise<{ p50: number; p99: number; perSecond: number; final: Record<string, number>; failed: string[] } | string> {
  const services = ['order-service', 'inventory-service', 'fraud-service'];
  const mains = services.map((s) => join(ROOT, 'dist/apps', s, 'main.js'));
  const missing = mains.filter((m) => !existsSync(m));
  if (missing.length > 0) return `services not built (${missing.map((m) => m.replace(ROOT + '/', '')).join(', ')} missing; run npm run build)`;
  const ports = await Promise.all(services.map(() => freePort()));
  const children: ChildProcess[] = services.map((_, i) =>
    spawn(process.execPath, [mains[i]], { cwd: ROOT, env: { ...process.env, HTTP_PORT: String(ports[i]), LOG_LEVEL: 'warn' }, stdio: 'ignore' }),
  );
  const [orders, inventory] = ports.map((p) => `http://127.0.0.1:${p}`);
  try {
    for (const base of [orders, inventory]) {
      const deadline = Date.now() + 90_000;
      while (!(await fetch(`${base}/health/ready`).then((r) => r.ok, () => false))) {
        if (Date.now() > deadline) return `${base} did not become ready`;
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
    }
    const sku = uniqueName('BENCH-SKU').toUpperCase().replace(/[^A-Z0-9-]/g, '');
    const stocked = await fetch(`${inventory}/stock/${sku}`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ warehouseId: 'WH-1', onHand: 1_000_000 }),
    });
    if (!stocked.ok) return `PUT /stock/${sku} answered ${stocked.status}: ${await stocked.text()}`;
    const body = {
      customerId: 'bench-customer',
      currency: 'EUR',
      items: [{ sku, quantity: 1, unitPrice: '12.50' }],
      shippingCountry: 'DE',
      billingCountry: 'DE',
      payment: { type: 'CARD', fingerprint: 'bench-fp' },
      channel: 'WEB',
      sessionId: 'bench-session',
    };
    // Fresh customers, fingerprints and sessions per run: fraud windows persist across runs (24 h).
    const run = uniqueName('bench');
    const latencies: number[] = [];
    const final: Record<string, number> = {};
    const errors: string[] = [];
    const one = async (i: number) => {
      const start = performance.now();
      const placed = await fetch(`${orders}/orders`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-client-country': 'DE', 'idempotency-key': uniqueName(`bench-${i}`) },
        body: JSON.stringify({
          ...body,
          customerId: `${run}-c${i}`,
          sessionId: `${run}-s${i}`,
          payment: { type: 'CARD', fingerprint: `${run}-fp${i}` },
        }),
      });
      if (placed.status !== 202) return void errors.push(`POST ${placed.status}`);
      const { orderId } = (await placed.json()) as { orderId: string };
      const state = await fetch(`${orders}/orders/${orderId}?waitForFinal=true&timeoutMs=30000`);
      const { status } = (await state.json()) as { status: string };
      latencies.push(performance.now() - start);
      final[status] = (final[status] ?? 0) + 1;
    };
    // Warm-up, untimed: producer connections, schema lookups, the first transactions of every service.
    for (let i = 0; i < 5; i++) await one(-1 - i).catch(() => undefined);
    latencies.length = 0;
    errors.length = 0;
    for (const k of Object.keys(final)) delete final[k];
    const total = ORDERS_RATE * ORDERS_SECONDS;
    const startedAt = performance.now();
    const inFlight: Promise<void>[] = [];
    for (let i = 0; i < total; i++) {
      const due = startedAt + (i * 1000) / ORDERS_RATE;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      inFlight.push(one(i).catch((err: Error) => void errors.push(err.message)));
    }
    await Promise.all(inFlight);
    const seconds = (performance.now() - startedAt) / 1000;
    // Where the time goes: each service's own runtime metrics after the run.
    for (const [i, service] of services.entries()) {
      const text = await fetch(`http://127.0.0.1:${ports[i]}/metrics`).then((r) => r.text(), () => '');
      const sum = (name: string) =>
        [...text.matchAll(new RegExp(`^${name}(?:\\{[^}]*\\})? ([0-9.e+-]+)$`, 'gm'))].reduce((acc, m) => acc + Number(m[1]), 0);
      const txCount = sum('kafka_runtime_transaction_duration_seconds_count');
      const handlerCount = sum('kafka_runtime_handler_duration_seconds_count');
      console.log(
        `  ${service}: ${sum('kafka_runtime_records_in_total')} records in, ${txCount} transactions averaging ` +
          `${txCount ? ((sum('kafka_runtime_transaction_duration_seconds_sum') / txCount) * 1000).toFixed(1) : '-'} ms, ` +
          `handler ${handlerCount ? ((sum('kafka_runtime_handler_duration_seconds_sum') / handlerCount) * 1000).toFixed(2) : '-'} ms per record`,
      );
    }
    if (latencies.length === 0) return `all ${total} orders failed (first: ${errors[0]})`;
    const sorted = latencies.sort((a, b) => a - b);
    return { p50: percentile(sorted, 50), p99: percentile(sorted, 99), perSecond: latencies.length / seconds, final, failed: errors };
  } finally {
    for (const child of children) child.kill('SIGTERM');
  }
}

async function partB(admin: Admin): Promise<void> {
  const records = 2_000;
  console.log(`\n(b) end to end: EndToEndLatency (${records} records, 400 B, acks=all) vs orders POST → final state`);
  const broker = await endToEndLatency(admin, 400, records);
  console.log(`  EndToEndLatency: p50 ${broker.p50.toFixed(2)} ms, p99 ${broker.p99.toFixed(2)} ms`);
  if (process.env.BENCH_SKIP_ORDERS === '1') {
    console.log('  orders: skipped (BENCH_SKIP_ORDERS=1)');
    return;
  }
  const orders = await ordersEndToEnd();
  if (typeof orders === 'string') {
    console.log(`  orders: MISSING — ${orders}`);
    return;
  }
  console.log(
    `  orders at ${ORDERS_RATE}/s offered for ${ORDERS_SECONDS} s: ${orders.perSecond.toFixed(1)} orders/s completed, p50 ${orders.p50.toFixed(1)} ms, p99 ${orders.p99.toFixed(1)} ms; final states ${JSON.stringify(orders.final)}`,
  );
  if (orders.failed.length > 0) {
    const kinds = new Map<string, number>();
    for (const f of orders.failed) kinds.set(f, (kinds.get(f) ?? 0) + 1);
    console.log(`  FAILED requests (not in the percentiles): ${[...kinds].map(([k, n]) => `${n}× ${k}`).join(', ')}`);
  }
  console.log(`  p99 ratio orders ÷ broker: ${(orders.p99 / broker.p99).toFixed(2)} (target ≤ 5)`);
}

async function main(): Promise<void> {
  console.log(`machine: ${cpus().length} × ${cpus()[0]?.model}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`);
  const kafka = createKafkaClient(config.kafka, logger);
  const admin = kafka.admin();
  await admin.connect();
  const codec = new RegistryCodec(createSchemaRegistry(config.schemaRegistry), { autoRegister: true });
  try {
    if (process.env.BENCH_SKIP_PRODUCER === '1') console.log('\n(a) skipped (BENCH_SKIP_PRODUCER=1)');
    else await partA(kafka, admin, codec);
    await partB(admin);
  } finally {
    await admin.disconnect();
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
