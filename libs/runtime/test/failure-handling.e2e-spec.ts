/**
 * Bad records go to the DLQ with their original bytes and the partition moves on; retriable failures
 * (registry unreachable, a handler's `retriable: true` error) commit nothing until they clear, then every
 * record arrives exactly once.
 */
import { createServer, connect, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import type { Kafka, Producer } from 'kafkajs';
import { Registry } from 'prom-client';
import { avroSchema, createSchemaRegistry, RegistryCodec } from '@app/codec';
import { loadConfig } from '@app/config';
import { createKafkaClient } from '@app/kafka';
import { createLogger } from '@app/logging';
import { DLQ_HEADERS, KafkaRuntime, type HandlerContext, type InboundRecord, type KafkaRuntimeOptions } from '@app/runtime';
import { committedOffsets, readTopic, uniqueName, waitFor } from '@app/testing';

const config = loadConfig(process.env, { service: 'runtime-failures-e2e', defaultHttpPort: 0 });
const logger = createLogger({ service: 'runtime-failures-e2e' }, 'error');
const registryUrl = new URL(config.schemaRegistry.url);

const eventSchema = avroSchema({
  type: 'record',
  name: 'Numbered',
  namespace: 'com.securecart.test',
  fields: [{ name: 'seq', type: 'int' }],
});
interface Numbered {
  seq: number;
}

const tuning = { consumer: { maxWaitTimeInMs: 100 }, backoff: { initialMs: 100, maxMs: 400 }, lagRefreshMs: 200 };

/** A TCP port that refuses connections until `open()` forwards it to the real registry. */
class SwitchableRegistry {
  private server?: Server;
  private readonly sockets = new Set<Socket>();
  constructor(readonly port: number) {}

  static async reservePort(): Promise<SwitchableRegistry> {
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const { port } = probe.address() as AddressInfo;
    await new Promise((resolve) => probe.close(resolve));
    return new SwitchableRegistry(port);
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}${registryUrl.pathname}`;
  }

  async open(): Promise<void> {
    this.server = createServer((client) => {
      const upstream = connect(Number(registryUrl.port), registryUrl.hostname);
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on('error', () => undefined);
        s.on('close', () => this.sockets.delete(s));
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve) => this.server!.listen(this.port, '127.0.0.1', resolve));
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    if (this.server) await new Promise((resolve) => this.server!.close(resolve));
  }
}

describe('KafkaRuntime failure handling', () => {
  let kafka: Kafka;
  let producer: Producer;
  const codec = new RegistryCodec(createSchemaRegistry(config.schemaRegistry), { autoRegister: true });
  const runtimes: KafkaRuntime[] = [];
  const proxies: SwitchableRegistry[] = [];

  beforeAll(async () => {
    kafka = createKafkaClient(config.kafka);
    producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
  });

  afterAll(async () => {
    await Promise.all(runtimes.map((r) => r.close()));
    await Promise.all(proxies.map((p) => p.close()));
    await producer.disconnect();
  });

  async function topicsFor(prefix: string, partitions = 1) {
    const input = uniqueName(`test.${prefix}-in.v1`);
    const output = uniqueName(`test.${prefix}-out.v1`);
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ waitForLeaders: true, topics: [{ topic: input, numPartitions: partitions }, { topic: output, numPartitions: 1 }] });
    await admin.disconnect();
    return { input, output };
  }

  function start(options: Omit<KafkaRuntimeOptions, 'kafka' | 'logger' | 'codec' | 'metrics'> & { codec?: RegistryCodec }) {
    const metrics = new Registry();
    const runtime = new KafkaRuntime({ kafka, logger, codec, metrics, tuning, ...options });
    runtimes.push(runtime);
    return { runtime, metrics, started: runtime.start() };
  }

  const relay = (output: string) => (record: InboundRecord<Numbered>, ctx: HandlerContext) =>
    ctx.emit({ topic: output, key: String(record.value.seq), value: record.value });

  async function outputSeqs(output: string): Promise<number[]> {
    const messages = await readTopic(kafka, output);
    const decoded = await codec.deserializerFor<Numbered>(eventSchema).decodeAll(messages.map((m) => m.value!));
    return decoded.map((d) => (d.ok ? d.value.seq : -1));
  }

  async function metricValue(metrics: Registry, name: string, labels: Record<string, string>): Promise<number> {
    const metric = (await metrics.getMetricsAsJSON()).find((m) => m.name === name);
    const values = (metric?.values ?? []) as Array<{ value: number; labels: Record<string, string | number> }>;
    return values.filter((v) => Object.entries(labels).every(([k, want]) => String(v.labels[k]) === want)).reduce((sum, v) => sum + v.value, 0);
  }

  it('dead-letters undecodable bytes and unknown schema ids with their original bytes, and moves on', async () => {
    const service = uniqueName('runtime-poison');
    const { input, output } = await topicsFor('poison');
    const serializer = await codec.serializerFor<Numbered>(input, eventSchema);
    const notAvro = Buffer.from('{"seq": 1}');
    const unknownId = Buffer.from([0, 0x7f, 0xff, 0xff, 0xf0, 2]);
    await producer.send({
      topic: input,
      acks: -1,
      messages: [
        { key: 'a', value: serializer.encode({ seq: 1 }) },
        { key: 'poison-json', value: notAvro, headers: { traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' } },
        { key: 'poison-id', value: unknownId },
        { key: 'b', value: serializer.encode({ seq: 2 }) },
      ],
    });
    const { metrics, started } = start({ service, avroTopics: [{ name: input, schema: eventSchema }, { name: output, schema: eventSchema }], handlers: { [input]: relay(output) } });
    await started;
    await waitFor(async () => (await committedOffsets(kafka, service, input)).get(0) === 4n, { what: 'offset past the poison' });

    expect(await outputSeqs(output)).toEqual([1, 2]);
    const dead = await readTopic(kafka, `${input}.dlq`);
    const byKey = new Map(dead.map((m) => [m.key!.toString(), m]));
    expect([...byKey.keys()].sort()).toEqual(['poison-id', 'poison-json']);
    expect(byKey.get('poison-json')!.value).toEqual(notAvro);
    expect(byKey.get('poison-id')!.value).toEqual(unknownId);
    expect(byKey.get('poison-json')!.headers![DLQ_HEADERS.errorClass]!.toString()).toBe('MagicByteError');
    expect(byKey.get('poison-id')!.headers![DLQ_HEADERS.errorClass]!.toString()).toBe('UnknownSchemaIdError');
    expect(byKey.get('poison-json')!.headers![DLQ_HEADERS.sourceOffset]!.toString()).toBe('1');
    expect(byKey.get('poison-json')!.headers!.traceparent!.toString()).toBe('00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01');
    expect(await metricValue(metrics, 'kafka_runtime_records_dlq_total', { topic: input })).toBe(2);
    expect(await metricValue(metrics, 'kafka_runtime_records_in_total', { topic: input })).toBe(2);
    expect(await metricValue(metrics, 'kafka_runtime_records_out_total', { topic: output })).toBe(2);
    expect(await metricValue(metrics, 'kafka_runtime_transactions_total', { result: 'commit' })).toBeGreaterThan(0);
    expect(await metricValue(metrics, 'kafka_runtime_consumer_lag', { topic: input, partition: '0' })).toBe(0);
    const histogram = (await metrics.getMetricsAsJSON()).find((m) => m.name === 'kafka_runtime_handler_duration_seconds')!;
    expect((histogram.values as Array<{ metricName?: string; value: number }>).find((v) => v.metricName === 'kafka_runtime_handler_duration_seconds_count')?.value).toBe(2);
  });

  it('commits nothing while the registry is unreachable, then processes everything exactly once', async () => {
    const service = uniqueName('runtime-registry-down');
    const { input, output } = await topicsFor('registry-down');
    const serializer = await codec.serializerFor<Numbered>(input, eventSchema);
    await producer.send({ topic: input, acks: -1, messages: Array.from({ length: 20 }, (_, i) => ({ key: String(i), value: serializer.encode({ seq: i }) })) });

    const closed = await SwitchableRegistry.reservePort();
    proxies.push(closed);
    const unreachable = new RegistryCodec(createSchemaRegistry({ ...config.schemaRegistry, url: closed.url }), { autoRegister: true });
    const { metrics, started } = start({
      service,
      codec: unreachable,
      avroTopics: [{ name: input, schema: eventSchema }, { name: output, schema: eventSchema }],
      handlers: { [input]: relay(output) },
    });
    await started;
    await waitFor(async () => (await metricValue(metrics, 'kafka_runtime_batch_retries_total', { topic: input })) >= 3, { what: 'three backed-off retries' });
    expect((await committedOffsets(kafka, service, input)).get(0)).toBe(-1n);
    expect(await outputSeqs(output)).toEqual([]);
    // The stalled partition's lag shows, refreshed on its own period while no batch completes.
    await waitFor(async () => (await metricValue(metrics, 'kafka_runtime_consumer_lag', { topic: input, partition: '0' })) === 20, { what: 'lag of 20 reported' });
    expect(await readTopic(kafka, `${input}.dlq`)).toEqual([]);

    await closed.open();
    await waitFor(async () => (await committedOffsets(kafka, service, input)).get(0) === 20n, { what: 'all committed once the registry is back' });
    expect(await outputSeqs(output)).toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect(await readTopic(kafka, `${input}.dlq`)).toEqual([]);
  });

  it("retries a handler's retriable error without committing, then delivers every record exactly once", async () => {
    const service = uniqueName('runtime-handler-retry');
    const { input, output } = await topicsFor('handler-retry');
    const serializer = await codec.serializerFor<Numbered>(input, eventSchema);
    await producer.send({ topic: input, acks: -1, messages: Array.from({ length: 10 }, (_, i) => ({ key: String(i), value: serializer.encode({ seq: i }) })) });

    let failuresLeft = 4;
    const committedWhileFailing: bigint[] = [];
    const { started } = start({
      service,
      avroTopics: [{ name: input, schema: eventSchema }, { name: output, schema: eventSchema }],
      handlers: {
        [input]: async (record: InboundRecord<Numbered>, ctx: HandlerContext) => {
          ctx.emit({ topic: output, key: String(record.value.seq), value: record.value });
          if (record.value.seq === 5 && failuresLeft > 0) {
            failuresLeft--;
            committedWhileFailing.push((await committedOffsets(kafka, service, input)).get(0)!);
            throw Object.assign(new Error('downstream busy'), { retriable: true });
          }
        },
      },
    });
    await started;
    await waitFor(async () => (await committedOffsets(kafka, service, input)).get(0) === 10n, { what: 'all committed after the retries' });
    expect(failuresLeft).toBe(0);
    // Never past the failing record while it failed.
    expect(committedWhileFailing.every((offset) => offset <= 5n)).toBe(true);
    expect(await outputSeqs(output)).toEqual(Array.from({ length: 10 }, (_, i) => i));
    expect(await readTopic(kafka, `${input}.dlq`)).toEqual([]);
  });
});
