// npm run bench:sink, landing part — the s3-sink's consume + read event time + write raw Avro segments
// + upload + commit, against Kafka's own `org.apache.kafka.tools.ConsumerPerformance` reading the SAME
// topic in the same run. Rounds are paired (each round runs both, alternating which goes first) and
// each round's ratio sink ÷ ConsumerPerformance is reported with its spread. Both are timed from their
// group join (ConsumerPerformance's fetch.* columns exclude the group join; the sink counts from its
// group join to its last commit, so its first fetch and its final flush and upload are inside). After every
// sink round every landed segment is read back (avsc) and each (partition, offset) must be there once.
// Each round also runs kafkajs alone on the same topic (the sink's consumer settings, records counted and
// dropped): the ceiling the mandated client sets, so the gap splits into the client's share and landing's.
// Then peak RSS of the built service (dist/apps/s3-sink/main.js) landing events spread over 3 hours
// and over 200 hours, with the open-file cap and without it.
//   BENCH_SINK_RECORDS (200000), BENCH_SINK_ROUNDS (5), BENCH_SINK_RSS_RECORDS (200000),
//   BENCH_SINK_RSS=skip (no RSS runs), BENCH_SINK_RSS_RUNS=2,4 (only those RSS runs, no throughput rounds), BENCH_SINK_BUILD=skip (reuse dist/), BENCH_SINK_LAKE_URL (default s3://<S3_BUCKET>/bench-sink-<run>/; a file:/// URL works too)
// The compaction part (scripts/bench/compaction.bench.ts) runs after this one in `npm run bench:sink`.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import * as avro from 'avsc';
import type { Kafka } from 'kafkajs';
import { createSchemaRegistry, RegistryCodec } from '@app/codec';
import { loadConfig } from '@app/config';
import { exampleEvents, topics, type OrderPlaced } from '@app/contracts';
import { createKafkaClient } from '@app/kafka';
import { LandingSink, landingFetch, loadLandingSettings, parseRawSegmentKey, readSegmentHeader, readSegmentRows } from '@app/lake';
import { createLogger } from '@app/logging';
import { createObjectStore, type ObjectStore } from '@app/object-store';
import { uniqueName } from '@app/testing';

const RECORDS = Number(process.env.BENCH_SINK_RECORDS ?? 200_000);
const ROUNDS = Number(process.env.BENCH_SINK_ROUNDS ?? 5);
const RSS_RECORDS = Number(process.env.BENCH_SINK_RSS_RECORDS ?? 200_000);
const PARTITIONS = 6;
const HOUR_MS = 3_600_000;
const ROOT = join(__dirname, '../..');
const config = loadConfig(process.env, { service: 'bench-sink', defaultHttpPort: 0 });
const run = uniqueName('bench-sink');
const lakeBase = process.env.BENCH_SINK_LAKE_URL ?? `s3://${config.objectStore.bucket}/${run}/`;
const logger = createLogger({ service: 'bench-sink' }, 'error');

const fmt = (n: number, digits = 0) => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function quantiles(values: number[]) {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return { min: s[0], median: s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2, max: s[s.length - 1] };
}

/** Produces `count` OrderPlaced events (framed through the registry) with event times spread over `hours`. */
async function produce(kafka: Kafka, topic: string, count: number, hours: number): Promise<number> {
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions: PARTITIONS }] });
  await admin.disconnect();
  const codec = new RegistryCodec(createSchemaRegistry(config.schemaRegistry), { autoRegister: true });
  const serializer = await codec.serializerFor<OrderPlaced>(topic, topics.orderPlaced.schema);
  const producer = kafka.producer({ idempotent: true });
  await producer.connect();
  const base = Date.UTC(2026, 10, 1);
  let bytes = 0;
  const batch = 1_000;
  const inFlight: Promise<unknown>[] = [];
  for (let i = 0; i < count; i += batch) {
    const partition = (i / batch) % PARTITIONS;
    const messages = [];
    for (let j = i; j < Math.min(count, i + batch); j++) {
      const value = serializer.encode({
        ...exampleEvents.orderPlaced,
        eventId: `00000000-0000-4000-8000-${String(j).padStart(12, '0')}`,
        orderId: `ord-${j}`,
        // Few hours: in event-time order, like live traffic. Many hours: scattered, the worst case for open files.
        occurredAt: new Date(hours <= 3 ? base + Math.floor((j * hours * HOUR_MS) / count) : base + ((j * 7_919) % hours) * HOUR_MS + (j % 3_600) * 1_000),
      });
      const key = Buffer.from(`ord-${j}`);
      bytes += value.length + key.length;
      messages.push({ key, value, partition });
    }
    inFlight.push(producer.send({ topic, acks: -1, messages }));
    if (inFlight.length >= 8) await Promise.all(inFlight.splice(0));
  }
  await Promise.all(inFlight);
  await producer.disconnect();
  return bytes;
}

function kafkaLibs(): string {
  const dir = join(ROOT, '.local-stack/downloads');
  const libs = readdirSync(dir).find((d) => d.startsWith('kafka-libs-'));
  if (!libs) throw new Error('Kafka jars not found under .local-stack/downloads (run npm run stack:up)');
  return join(dir, libs, '*');
}

/** Kafka's ConsumerPerformance over the whole topic: fetch MB/s and records/s (join excluded). */
function consumerPerformance(topic: string, count: number): { mbPerSec: number; recPerSec: number } {
  const out = spawnSync(
    'java',
    ['-Xmx512m', '-cp', kafkaLibs(), 'org.apache.kafka.tools.ConsumerPerformance', '--bootstrap-server', config.kafka.brokers[0],
      '--topic', topic, '--num-records', String(count), '--group', uniqueName('bench-perf'), '--timeout', '60000'],
    { encoding: 'utf8', timeout: 180_000 },
  );
  const lines = out.stdout.trim().split('\n').filter((l) => l.includes(','));
  const header = lines.find((l) => l.includes('fetch.MB.sec'));
  const values = lines[lines.length - 1];
  if (!header || !values || header === values) throw new Error(`ConsumerPerformance failed:\n${out.stdout}\n${out.stderr}`);
  const cols = header.split(',').map((c) => c.trim());
  const vals = values.split(',').map((v) => v.trim());
  const get = (name: string) => Number(vals[cols.indexOf(name)]);
  if (get('data.consumed.in.nMsg') < count) throw new Error(`ConsumerPerformance read ${get('data.consumed.in.nMsg')} of ${count}`);
  return { mbPerSec: get('fetch.MB.sec'), recPerSec: get('fetch.nMsg.sec') };
}

/** Reads every landed segment back and checks each (partition, offset) is there exactly once. */
async function verify(store: ObjectStore, topic: string, count: number): Promise<{ files: number; bytes: number }> {
  const seen = new Set<string>();
  let files = 0;
  let bytes = 0;
  for (const o of await store.list(`raw/${topic}/`)) {
    if (!parseRawSegmentKey(o.key)) continue;
    const file = await store.get(o.key);
    files++;
    bytes += file.length;
    const header = readSegmentHeader(file);
    const rows = await readSegmentRows<unknown>(file, (s) => avro.Type.forSchema(s as avro.Schema));
    if (rows.length !== header.rows) throw new Error(`${o.key}: header says ${header.rows} rows, file has ${rows.length}`);
    for (const r of rows) {
      const id = `${r._partition}:${r._offset}`;
      if (seen.has(id)) throw new Error(`record ${id} landed twice`);
      seen.add(id);
    }
  }
  if (seen.size !== count) throw new Error(`landed ${seen.size} of ${count} records`);
  return { files, bytes };
}

async function committedToEnd(kafka: Kafka, groupId: string, topic: string): Promise<boolean> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const [ends, [committed]] = await Promise.all([admin.fetchTopicOffsets(topic), admin.fetchOffsets({ groupId, topics: [topic] })]);
    return ends.every((e) => committed.partitions.find((p) => p.partition === e.partition)?.offset === e.high);
  } finally {
    await admin.disconnect();
  }
}

async function sinkRound(kafka: Kafka, topic: string, count: number, bytes: number, round: number) {
  const lakeUrl = lakeBase.replace(/\/?$/, `/round-${round}/`);
  const groupId = uniqueName('s3-sink.bench');
  const settings = loadLandingSettings(
    { LAKE_URL: lakeUrl, SINK_TOPICS: topic, SINK_GROUP_ID: groupId, SINK_FLUSH_IDLE: '200ms', LAKE_IDLE_CLOSE: '1h' },
    { defaultLakeUrl: lakeUrl, catalogTopics: [] },
  );
  const store = createObjectStore(lakeUrl, config.objectStore);
  const sink = new LandingSink({ kafka, store, registry: config.schemaRegistry, settings, logger });
  const cpuBefore = process.cpuUsage();
  const wallBefore = Date.now();
  await sink.start();
  const deadline = Date.now() + 300_000;
  while (sink.progress().recordsCommitted < count) {
    if (Date.now() > deadline) throw new Error(`sink committed ${sink.progress().recordsCommitted} of ${count}`);
    await sleep(50);
  }
  const { joinedAt, firstRecordAt, lastRecordAt, lastCommitAt } = sink.progress();
  const cpu = process.cpuUsage(cpuBefore);
  // Share of one core this process used while the sink ran (includes kafkajs fetch decoding).
  const cpuShare = (cpu.user + cpu.system) / 1000 / (Date.now() - wallBefore);
  await sink.stop();
  if (!(await committedToEnd(kafka, groupId, topic))) throw new Error('offsets not committed to the end');
  // Timed from the group join, like ConsumerPerformance's fetch time (its elapsed time minus the join):
  // the first fetch, and its decoding, are inside. (From the first record, a large first fetch would
  // be outside, flattering the sink; `fromFirstRecord` is that older measure, for comparison.)
  const seconds = (lastCommitAt! - joinedAt!) / 1000;
  const fromFirstRecord = bytes / 1_048_576 / ((lastCommitAt! - firstRecordAt!) / 1000);
  const landed = await verify(store, topic, count);
  // Where the time went: reading every record, then the last uploads and commits after the last record.
  const readSeconds = (lastRecordAt! - joinedAt!) / 1000;
  return { mbPerSec: bytes / 1_048_576 / seconds, recPerSec: count / seconds, cpuShare, readSeconds, tailSeconds: seconds - readSeconds, fromFirstRecord, ...landed };
}

/**
 * kafkajs alone on the same topic, with the sink's consumer settings, doing nothing with the records
 * but counting them: how much of the gap to ConsumerPerformance is the client library (the brief
 * mandates kafkajs) and how much is landing. Timed like the sink: group join → last record.
 */
async function kafkajsAloneRound(kafka: Kafka, topic: string, count: number, bytes: number) {
  const { maxWaitTimeInMs, maxBytesPerPartition, partitionsConsumedConcurrently } = landingFetch;
  const consumer = kafka.consumer({ groupId: uniqueName('bench-kafkajs'), maxWaitTimeInMs, maxBytesPerPartition, allowAutoTopicCreation: false });
  let joinedAt = 0;
  let lastRecordAt = 0;
  let seen = 0;
  let valueBytes = 0;
  consumer.on(consumer.events.GROUP_JOIN, () => (joinedAt ||= Date.now()));
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  const done = new Promise<void>((resolve) => {
    void consumer.run({
      autoCommit: false,
      partitionsConsumedConcurrently,
      eachBatch: async ({ batch, resolveOffset }) => {
        for (const m of batch.messages) valueBytes += m.value?.length ?? 0;
        seen += batch.messages.length;
        resolveOffset(batch.lastOffset());
        if (seen >= count) {
          lastRecordAt = Date.now();
          resolve();
        }
      },
    });
  });
  await done;
  await consumer.disconnect();
  if (valueBytes === 0) throw new Error('kafkajs read no values');
  return { mbPerSec: bytes / 1_048_576 / ((lastRecordAt - joinedAt) / 1000) };
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Peak RSS (VmHWM) of the built service landing `count` events spread over `hours`. */
async function rssRun(kafka: Kafka, hours: number, count: number, extraEnv: Record<string, string>) {
  const topic = uniqueName(`bench-rss-${hours}h`);
  await produce(kafka, topic, count, hours);
  const main = join(ROOT, 'dist/apps/s3-sink/main.js');
  const groupId = uniqueName('s3-sink.bench-rss');
  const lakeUrl = lakeBase.replace(/\/?$/, `/${topic}/`);
  const child = spawn(process.execPath, [main], {
    cwd: ROOT,
    env: {
      ...process.env,
      HTTP_PORT: String(await freePort()),
      LOG_LEVEL: 'error',
      LAKE_URL: lakeUrl,
      SINK_TOPICS: topic,
      SINK_GROUP_ID: groupId,
      SINK_FLUSH_IDLE: '2s',
      // No hour closes, so the built-in compaction stays idle and this measures landing alone (and
      // compaction's raw retention cannot expire segments before they are verified).
      LAKE_IDLE_CLOSE: '1h',
      LAKE_ALLOWED_LATENESS: '36500d',
      ...extraEnv,
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (chunk) => (stderr = (stderr + chunk).slice(-4000)));
  let peakKb = 0;
  const started = Date.now();
  try {
    for (;;) {
      if (child.exitCode !== null || child.signalCode !== null) throw new Error(`sink exited (${child.exitCode ?? child.signalCode}):\n${stderr}`);
      const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
      peakKb = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? peakKb);
      if (await committedToEnd(kafka, groupId, topic)) break;
      if (Date.now() - started > 600_000) throw new Error('RSS run timed out');
      await sleep(200);
    }
  } finally {
    child.kill('SIGTERM');
    await new Promise((resolve) => (child.exitCode !== null ? resolve(null) : child.once('exit', resolve)));
  }
  const store = createObjectStore(lakeUrl, config.objectStore);
  const landed = await verify(store, topic, count);
  return { peakMiB: peakKb / 1024, files: landed.files, seconds: (Date.now() - started) / 1000 };
}

async function main(): Promise<void> {
  const kafka = createKafkaClient(config.kafka);
  const topic = uniqueName('bench-sink');
  const bytes = await produce(kafka, topic, RECORDS, 3);
  console.log(`landing benchmark: ${fmt(RECORDS)} OrderPlaced records (${fmt(bytes / 1_048_576, 1)} MiB keys+values), ` +
    `${PARTITIONS} partitions, event times over 3 hours; lake ${lakeBase}; ${cpus().length} CPUs, ${fmt(totalmem() / 2 ** 30)} GiB, Node ${process.version}`);
  const ratios: number[] = [];
  const aloneRatios: number[] = [];
  const rows: string[] = [];
  for (let round = 1; round <= ROUNDS && process.env.BENCH_SINK_RSS_RUNS === undefined; round++) {
    const sinkFirst = round % 2 === 0;
    const perf = !sinkFirst ? consumerPerformance(topic, RECORDS) : undefined;
    const sink = await sinkRound(kafka, topic, RECORDS, bytes, round);
    const perfResult = perf ?? consumerPerformance(topic, RECORDS);
    const alone = await kafkajsAloneRound(kafka, topic, RECORDS, bytes);
    const ratio = sink.mbPerSec / perfResult.mbPerSec;
    aloneRatios.push(alone.mbPerSec / perfResult.mbPerSec);
    ratios.push(ratio);
    rows.push(`| ${round} | ${fmt(sink.mbPerSec, 1)} | ${fmt(sink.recPerSec)} | ${fmt(perfResult.mbPerSec, 1)} | ${fmt(perfResult.recPerSec)} | ${fmt(ratio, 3)} | ${sink.files} | ${fmt(sink.cpuShare * 100)} % | ${fmt(sink.readSeconds, 2)} + ${fmt(sink.tailSeconds, 2)} | ${fmt(sink.fromFirstRecord, 1)} | ${fmt(alone.mbPerSec, 1)} | ${fmt(alone.mbPerSec / perfResult.mbPerSec, 3)} |`);
    console.log(rows[rows.length - 1]);
  }
  const q = ratios.length > 0 ? quantiles(ratios) : { min: NaN, median: NaN, max: NaN };
  console.log('\n| round | sink MB/s | sink records/s | ConsumerPerformance MB/s | ConsumerPerformance records/s | ratio | segments (all verified) | sink process CPU | sink s: join to last record + after it | sink MB/s from its first record (older measure) | kafkajs alone MB/s | kafkajs alone ÷ ConsumerPerformance |');
  console.log('|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const r of rows) console.log(r);
  console.log(`\nsink ÷ ConsumerPerformance (MB/s): median ${fmt(q.median, 3)}, min ${fmt(q.min, 3)}, max ${fmt(q.max, 3)} over ${ROUNDS} paired rounds`);
  const qa = aloneRatios.length > 0 ? quantiles(aloneRatios) : { min: NaN, median: NaN, max: NaN };
  console.log(`kafkajs alone (no landing) ÷ ConsumerPerformance (MB/s): median ${fmt(qa.median, 3)}, min ${fmt(qa.min, 3)}, max ${fmt(qa.max, 3)}: the client library's share of the gap`);

  if (process.env.BENCH_SINK_RSS === 'skip') return;
  if (!existsSync(join(ROOT, 'dist/apps/s3-sink/main.js')) || process.env.BENCH_SINK_BUILD !== 'skip') {
    const build = spawnSync('npx', ['nest', 'build', 's3-sink'], { cwd: ROOT, stdio: 'ignore' });
    if (build.status !== 0) throw new Error('nest build s3-sink failed');
  }
  console.log(`\npeak RSS of the built s3-sink (node dist/apps/s3-sink/main.js), ${fmt(RSS_RECORDS)} events:`);
  console.log('| event times spread over | open-file caps | peak RSS MiB | segments | wall s |');
  console.log('|---|---|---:|---:|---:|');
  const runs: [number, string, Record<string, string>][] = [
    [3, 'defaults (1,000 per process, 250 per partition)', {}],
    [200, 'defaults (1,000 per process, 250 per partition)', {}],
    [200, '200 per process', { SINK_MAX_OPEN_FILES: '200' }],
    [200, 'none (1,000,000)', { SINK_MAX_OPEN_FILES: '1000000', SINK_MAX_PARTITION_FILES: '1000000', SINK_MAX_BUFFER_BYTES: '64GiB' }],
    [200, 'defaults, buffer 64 MiB', { SINK_MAX_BUFFER_BYTES: '64MiB' }],
    [200, 'defaults, buffer 32 MiB', { SINK_MAX_BUFFER_BYTES: '32MiB' }],
  ];
  const only = process.env.BENCH_SINK_RSS_RUNS?.split(',').map(Number);
  for (const [i, [hours, label, env]] of runs.entries()) {
    if (only && !only.includes(i + 1)) continue;
    const r = await rssRun(kafka, hours, RSS_RECORDS, env);
    console.log(`| ${hours} hours | ${label} | ${fmt(r.peakMiB)} | ${fmt(r.files)} | ${fmt(r.seconds, 1)} |`);
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
