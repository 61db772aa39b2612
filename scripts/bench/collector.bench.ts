// npm run bench:collector — accepted clickstream events/s through the collector's HTTP endpoint versus
// the bare producer path, in the same run, on this machine:
//  (http) the collector as its own process (its main.ts through ts-node --transpile-only: the same code
//         as the build, never a stale dist), on a bench topic of its own; a load generator here (keep-alive agent, several
//         concurrent POST /v1/events of 500 events each, bodies serialized before the timing) sends
//         every event once; the rate counts the events the answers accepted.
//  (bare) a kafkajs producer (idempotent, acks=all, the same concurrency of 500-record sends) sending
//         the same events, keyed by session, already Avro-encoded by the codec: what the collector adds
//         on top of that is the HTTP, JSON parsing, checks, filter and encoding.
// Paired rounds, order rotated; the ratio is per round. Every round is checked: the topic's end offsets
// grew by exactly the number of events sent, and every HTTP answer accepted every event.
//   BENCH_COLLECTOR_EVENTS (per round, default 100000), BENCH_COLLECTOR_ROUNDS (default 4),
//   BENCH_COLLECTOR_CONCURRENCY (requests or sends in flight, default 8), BENCH_COLLECTOR_BARE_PARTITIONER
//   (kafkajs: the bare producer hashes keys with kafkajs' DefaultPartitioner instead of the collector's),
//   BENCH_COLLECTOR_NODE_ARGS (node flags for the collector process, e.g. --cpu-prof).
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { Agent, request } from 'node:http';
import { createServer, type AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Partitioners, type Admin, type Message, type Producer } from 'kafkajs';
import { createSchemaRegistry, RegistryCodec } from '@app/codec';
import { loadConfig } from '@app/config';
import { topics, type ClickstreamEvent } from '@app/contracts';
import { createKafkaClient } from '@app/kafka';
import { uniqueName } from '@app/testing';
import { explicitPartitioner } from '../../apps/clickstream-collector/src/collector/key-partition';

const ROOT = join(__dirname, '../..');
const EVENTS = Number(process.env.BENCH_COLLECTOR_EVENTS ?? 100_000);
const ROUNDS = Number(process.env.BENCH_COLLECTOR_ROUNDS ?? 4);
const CONCURRENCY = Number(process.env.BENCH_COLLECTOR_CONCURRENCY ?? 8);
const BATCH = 500;
const SESSIONS = 10_000;
const PARTITIONS = topics.clickstream.partitions;
const USER_AGENT = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36';
const TYPES = ['PAGE_VIEW', 'PAGE_VIEW', 'PRODUCT_VIEW', 'SEARCH', 'ADD_TO_CART', 'CHECKOUT_START'] as const;

const config = loadConfig(process.env, { service: 'bench-collector', defaultHttpPort: 0 });

setFlagsFromString('--expose-gc');
const collectGarbage = runInNewContext('gc') as () => void;

/**
 * Before each timed part: the garbage of preparing 100k events collected here, and a moment for the
 * broker and the collector to settle, so neither path pays for the other's leftovers.
 */
async function settle(): Promise<void> {
  collectGarbage();
  await new Promise((r) => setTimeout(r, 1_000));
}

/** CPU seconds (user + system) a process has used so far, from /proc (Linux); NaN elsewhere. */
function processCpuSeconds(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ = 100)
  } catch {
    return NaN;
  }
}

const ownCpuSeconds = () => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1e6;
};

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length % 2 ? sorted[(sorted.length - 1) / 2] : (sorted[sorted.length / 2 - 1] + sorted[sorted.length / 2]) / 2;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** A browser-like event as the collector receives it (JSON), n-th of the run. */
function wireEvent(n: number, now: number): Record<string, unknown> {
  const type = TYPES[n % TYPES.length];
  return {
    eventId: randomUUID(),
    occurredAt: new Date(now - (n % 60_000)).toISOString(),
    eventType: type,
    sessionId: `bench-ses-${n % SESSIONS}`,
    pageUrl: type === 'PAGE_VIEW' ? '/shop' : `/shop/products/DEMO-SKU-00${n % 6}`,
    productSku: type === 'PRODUCT_VIEW' || type === 'ADD_TO_CART' ? `DEMO-SKU-00${n % 6}` : undefined,
    searchQuery: type === 'SEARCH' ? 'red mug' : undefined,
    referrer: n % 3 === 0 ? 'www.example-search.com' : undefined,
    country: 'DE',
  };
}

/** The same event as the collector publishes it (what the bare producer path sends). */
function asPublished(wire: Record<string, unknown>): ClickstreamEvent {
  return {
    eventId: wire.eventId as string,
    occurredAt: new Date(wire.occurredAt as string),
    producer: 'clickstream-collector',
    correlationId: wire.sessionId as string,
    eventType: wire.eventType as ClickstreamEvent['eventType'],
    sessionId: wire.sessionId as string,
    customerId: null,
    productSku: (wire.productSku as string | undefined) ?? null,
    searchQuery: (wire.searchQuery as string | undefined) ?? null,
    pageUrl: wire.pageUrl as string,
    referrer: (wire.referrer as string | undefined) ?? null,
    userAgentClass: 'DESKTOP',
    country: 'DE',
  };
}

async function endOffsetSum(admin: Admin, topic: string): Promise<number> {
  return (await admin.fetchTopicOffsets(topic)).reduce((sum, o) => sum + Number(o.high), 0);
}

/** Runs `work(i)` for i in [0, count) with at most `concurrency` at once. */
async function pool(count: number, concurrency: number, work: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, count) }, async () => {
      while (next < count) await work(next++);
    }),
  );
}

interface CollectorProcess {
  child: ChildProcess;
  port: number;
  output: () => string;
}

async function startCollector(topic: string): Promise<CollectorProcess> {
  const port = await freePort();
  // BENCH_COLLECTOR_NODE_ARGS: extra node flags for the collector only (e.g. --cpu-prof --cpu-prof-dir=/tmp/prof).
  const nodeArgs = (process.env.BENCH_COLLECTOR_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const args = [...nodeArgs, require.resolve('ts-node/dist/bin'), '--transpile-only', '-r', 'tsconfig-paths/register', join(ROOT, 'apps/clickstream-collector/src/main.ts')];
  const child = spawn(process.execPath, args, { cwd: ROOT, env: { ...process.env, HTTP_PORT: String(port), LOG_LEVEL: 'warn', CLICKSTREAM_TOPIC: topic } });
  let output = '';
  child.stdout!.on('data', (c) => (output += c));
  child.stderr!.on('data', (c) => (output += c));
  const deadline = Date.now() + 90_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the collector exited (${child.exitCode}):\n${output}`);
    try {
      if ((await fetch(`http://127.0.0.1:${port}/health`)).ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`the collector did not answer /health in 90 s:\n${output}`);
    await new Promise((r) => setTimeout(r, 250));
  }
  console.log(`  collector: apps/clickstream-collector/src/main.ts on :${port}, pid ${child.pid}`);
  return { child, port, output: () => output };
}

/** POSTs every body once (retrying 429/503 after Retry-After); returns accepted events and seconds. */
interface HttpRound {
  accepted: number;
  seconds: number;
  throttled: number;
  /** CPU seconds the collector process used during the round. */
  collectorCpu: number;
  /** CPU seconds this process (the load generator) used during the round. */
  loadGeneratorCpu: number;
}

async function httpRound(port: number, collectorPid: number, agent: Agent, bodies: Buffer[]): Promise<HttpRound> {
  let accepted = 0;
  let throttled = 0;
  const post = (body: Buffer) =>
    new Promise<{ status: number; retryAfter: number; text: string }>((resolve, reject) => {
      const req = request(
        { host: '127.0.0.1', port, path: '/v1/events', method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': body.length, 'user-agent': USER_AGENT } },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, retryAfter: Number(res.headers['retry-after'] ?? 1), text: Buffer.concat(chunks).toString() }));
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  const started = performance.now();
  const cpuBefore = { collector: processCpuSeconds(collectorPid), loadGenerator: ownCpuSeconds() };
  await pool(bodies.length, CONCURRENCY, async (i) => {
    for (;;) {
      const res = await post(bodies[i]);
      if (res.status === 429 || res.status === 503) {
        throttled++;
        await new Promise((r) => setTimeout(r, res.retryAfter * 1000));
        continue;
      }
      if (res.status !== 200) throw new Error(`POST /v1/events answered ${res.status}: ${res.text.slice(0, 300)}`);
      const answer = JSON.parse(res.text) as { failedRecordCount: number; records: unknown[] };
      if (answer.failedRecordCount !== 0) throw new Error(`${answer.failedRecordCount} events refused: ${res.text.slice(0, 300)}`);
      accepted += answer.records.length;
      return;
    }
  });
  const seconds = (performance.now() - started) / 1000;
  return {
    accepted,
    seconds,
    throttled,
    collectorCpu: processCpuSeconds(collectorPid) - cpuBefore.collector,
    loadGeneratorCpu: ownCpuSeconds() - cpuBefore.loadGenerator,
  };
}

async function bareRound(producer: Producer, topic: string, batches: Message[][]): Promise<{ sent: number; seconds: number; cpu: number }> {
  let sent = 0;
  const started = performance.now();
  const cpuBefore = ownCpuSeconds();
  await pool(batches.length, CONCURRENCY, async (i) => {
    await producer.send({ topic, acks: -1, messages: batches[i] });
    sent += batches[i].length;
  });
  return { sent, seconds: (performance.now() - started) / 1000, cpu: ownCpuSeconds() - cpuBefore };
}

async function main(): Promise<void> {
  const kafka = createKafkaClient(config.kafka);
  const admin = kafka.admin();
  await admin.connect();
  const httpTopic = uniqueName('bench.clickstream-http');
  const bareTopic = uniqueName('bench.clickstream-bare');
  await admin.createTopics({ waitForLeaders: true, topics: [httpTopic, bareTopic].map((topic) => ({ topic, numPartitions: PARTITIONS })) });
  const codec = new RegistryCodec(createSchemaRegistry(config.schemaRegistry), { autoRegister: true });
  const serializer = await codec.serializerFor<ClickstreamEvent>(bareTopic, topics.clickstream.schema);
  const collector = await startCollector(httpTopic);
  const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  // The bare producer partitions as the collector does (Kafka's murmur2 in 32-bit ints, the same partitions
  // as kafkajs' DefaultPartitioner, which spends more on its 64-bit Long arithmetic than on anything else
  // per message): BENCH_COLLECTOR_BARE_PARTITIONER=kafkajs gives it kafkajs' own, the weaker baseline.
  const barePartitioner = process.env.BENCH_COLLECTOR_BARE_PARTITIONER === 'kafkajs' ? Partitioners.DefaultPartitioner : explicitPartitioner;
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 5, allowAutoTopicCreation: false, createPartitioner: barePartitioner });
  await producer.connect();

  /** Fresh events per round (new event ids), serialized before the timing for both paths. */
  const prepare = (count: number) => {
    const now = Date.now();
    const wire = Array.from({ length: count }, (_, n) => wireEvent(n, now));
    const bodies: Buffer[] = [];
    const batches: Message[][] = [];
    for (let from = 0; from < count; from += BATCH) {
      const slice = wire.slice(from, from + BATCH);
      bodies.push(Buffer.from(JSON.stringify(slice)));
      batches.push(slice.map((w) => ({ key: w.sessionId as string, value: serializer.encode(asPublished(w)) })));
    }
    return { bodies, batches, bytes: bodies.reduce((s, b) => s + b.length, 0) };
  };

  try {
    const sample = prepare(BATCH);
    console.log(
      `clickstream collector vs bare producer: ${EVENTS} events per round (${BATCH} per request/send, ${CONCURRENCY} in flight), ${ROUNDS} paired rounds, ` +
        `${PARTITIONS} partitions, acks=all, idempotent, bare producer's partitioner ${process.env.BENCH_COLLECTOR_BARE_PARTITIONER === 'kafkajs' ? "kafkajs'" : "the collector's"}; ~${Math.round(sample.bytes / BATCH)} B of JSON and ~${Math.round(sample.batches[0].reduce((s, m) => s + (m.value as Buffer).length, 0) / BATCH)} B of Avro per event`,
    );
    // Warm-up, untimed: connections, schema id lookups, JIT.
    const warm = prepare(10 * BATCH);
    await httpRound(collector.port, collector.child.pid!, agent, warm.bodies);
    await bareRound(producer, bareTopic, warm.batches);

    // CPU µs per event: what each side costs whatever the load (wall-clock rates swing with the machine's load).
    const rows: Array<{ http: number; bare: number; ratio: number; order: string; httpCpuUs: number; loadGenCpuUs: number; bareCpuUs: number; load: number }> = [];
    for (let round = 0; round < ROUNDS; round++) {
      const httpFirst = round % 2 === 0;
      const { bodies, batches } = prepare(EVENTS);
      let http = 0;
      let bare = 0;
      let httpCpuUs = NaN;
      let loadGenCpuUs = NaN;
      let bareCpuUs = NaN;
      const runHttp = async () => {
        await settle();
        const before = await endOffsetSum(admin, httpTopic);
        const r = await httpRound(collector.port, collector.child.pid!, agent, bodies);
        const landed = (await endOffsetSum(admin, httpTopic)) - before;
        if (r.accepted !== EVENTS || landed !== EVENTS) throw new Error(`http round: ${r.accepted} accepted, ${landed} landed, of ${EVENTS}`);
        if (r.throttled) console.log(`    (${r.throttled} requests answered 429/503 and retried)`);
        http = r.accepted / r.seconds;
        httpCpuUs = (r.collectorCpu / r.accepted) * 1e6;
        loadGenCpuUs = (r.loadGeneratorCpu / r.accepted) * 1e6;
      };
      const runBare = async () => {
        await settle();
        const before = await endOffsetSum(admin, bareTopic);
        const r = await bareRound(producer, bareTopic, batches);
        const landed = (await endOffsetSum(admin, bareTopic)) - before;
        if (landed !== EVENTS) throw new Error(`bare round: ${landed} of ${EVENTS} landed`);
        bare = r.sent / r.seconds;
        bareCpuUs = (r.cpu / r.sent) * 1e6;
      };
      if (httpFirst) {
        await runHttp();
        await runBare();
      } else {
        await runBare();
        await runHttp();
      }
      const row = { http, bare, ratio: http / bare, order: httpFirst ? 'http→bare' : 'bare→http', httpCpuUs, loadGenCpuUs, bareCpuUs, load: loadavg()[0] };
      rows.push(row);
      console.log(
        `  round ${round + 1} (${row.order}): collector ${Math.round(http)} events/s, bare producer ${Math.round(bare)} events/s, ratio ${row.ratio.toFixed(2)}` +
          ` | CPU µs/event: collector ${httpCpuUs.toFixed(1)} (load generator ${loadGenCpuUs.toFixed(1)}), bare producer ${bareCpuUs.toFixed(1)} | load ${row.load.toFixed(1)}`,
      );
    }
    const ratios = rows.map((r) => r.ratio);
    const httpMedian = median(rows.map((r) => r.http));
    console.log(
      `  collector ÷ bare producer: min ${Math.min(...ratios).toFixed(2)}, median ${median(ratios).toFixed(2)}, max ${Math.max(...ratios).toFixed(2)} (target ≥ 0.7)` +
        `; medians: collector ${Math.round(httpMedian)} events/s (target ≥ 20000), bare producer ${Math.round(median(rows.map((r) => r.bare)))} events/s`,
    );
    console.log(
      `  CPU µs per event, medians: collector ${median(rows.map((r) => r.httpCpuUs)).toFixed(1)}, bare producer ${median(rows.map((r) => r.bareCpuUs)).toFixed(1)}` +
        ` (bare ÷ collector ${(median(rows.map((r) => r.bareCpuUs)) / median(rows.map((r) => r.httpCpuUs))).toFixed(2)}); load generator ${median(rows.map((r) => r.loadGenCpuUs)).toFixed(1)}`,
    );
    const rss = await fetch(`http://127.0.0.1:${collector.port}/metrics`)
      .then((r) => r.text())
      .then((t) => Number(/^process_resident_memory_bytes(?:\{[^}]*\})?\s+(\S+)/m.exec(t)?.[1] ?? NaN));
    if (Number.isFinite(rss)) console.log(`  collector RSS after the run: ${Math.round(rss / 2 ** 20)} MiB`);
    console.log(`machine: ${cpus().length} × ${cpus()[0]?.model}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`);
  } finally {
    agent.destroy();
    await producer.disconnect();
    collector.child.kill('SIGTERM');
    await admin.deleteTopics({ topics: [httpTopic, bareTopic] }).catch(() => undefined);
    await admin.disconnect();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
