// Compaction part of `npm run bench:sink` (also `npm run bench:compaction` alone): rows per second of a
// whole hour's compaction (raw Avro segments from the store → decode and resolve to the latest schema →
// dedup by eventId → sort by event time → zstd Parquet → verify → upload → manifest) against DuckDB's
// own `COPY <table> TO ... (FORMAT parquet, COMPRESSION zstd)` of the same distinct rows, in the same
// process, paired round by round so machine noise hits both alike. Reports the median ratio and spread,
// and each round also times the same compaction staging NDJSON (the fallback, and the staging before).
//   BENCH_COMPACTION_ROWS (default 200000), BENCH_COMPACTION_ROUNDS (default 5)
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { DuckDBInstance } from '@duckdb/node-api';
import { avroSchema, decimal } from '@app/codec';
import { exampleEvents, topics } from '@app/contracts';
import { compactHour, curatedHourPrefix, rawManifestKey, rawSegmentKey } from '@app/lake';
import { encodeRawSegment, MemoryObjectStore, type FixtureRow } from '../../libs/lake/test/compaction-fixtures';

const ROWS = Number(process.env.BENCH_COMPACTION_ROWS ?? 200_000);
const ROUNDS = Number(process.env.BENCH_COMPACTION_ROUNDS ?? 5);
const PARTITIONS = 6;
const SEGMENT_ROWS = 20_000;
const DUPLICATE_SHARE = 0.05;
const topic = 'bench.order-placed.v1';
const hour = '2026-11-28T05';
const hourStart = Date.parse('2026-11-28T05:00:00Z');

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

async function main(): Promise<void> {
  const v1 = topics.orderPlaced.schema;
  const v2 = avroSchema(readFileSync(join(__dirname, '../../libs/contracts/test/evolution/order-placed.v2.avsc'), 'utf8'));
  const store = new MemoryObjectStore();

  // Input: ROWS landed rows (5 % of them duplicates of earlier events), round-robin over partitions,
  // the first half written with v1 and the second with v2, as the landing writes them.
  const distinct = Math.round(ROWS * (1 - DUPLICATE_SHARE));
  const perPartition: FixtureRow[][] = Array.from({ length: PARTITIONS }, () => []);
  for (let i = 0; i < ROWS; i++) {
    const id = i < distinct ? i : (i * 7919) % distinct;
    const partition = i % PARTITIONS;
    const rows = perPartition[partition];
    const v2Row = i >= ROWS / 2;
    rows.push({
      partition,
      offset: rows.length,
      timestamp: new Date(hourStart + (id % 3_600_000)),
      key: Buffer.from(`ord-${id}`),
      headers: { traceparent: Buffer.from(`00-${id.toString(16).padStart(32, '0')}-00f067aa0ba902b7-01`) },
      schemaId: v2Row ? 2 : 1,
      value: {
        ...exampleEvents.orderPlaced,
        eventId: `00000000-0000-4000-8000-${String(id).padStart(12, '0')}`,
        occurredAt: new Date(hourStart + ((id * 7919) % 3_600_000)),
        orderId: `ord-${id}`,
        customerId: `cus-${id % 997}`,
        grandTotal: decimal(`${id % 10_000}.${String(id % 100).padStart(2, '0')}`),
        ...(v2Row ? { giftMessage: id % 3 ? null : 'Happy birthday!' } : {}),
      },
    });
  }
  const files = [];
  let rawBytes = 0;
  for (const rows of perPartition) {
    for (let at = 0; at < rows.length; at += SEGMENT_ROWS) {
      const slice = rows.slice(at, at + SEGMENT_ROWS);
      // Segments do not mix writer schemas (the landing rolls a file per writer schema).
      for (const [writer, id] of [[v1, 1], [v2, 2]] as const) {
        const part = slice.filter((r) => r.schemaId === id);
        if (part.length === 0) continue;
        const key = rawSegmentKey(topic, hour, part[0].partition, String(part[0].offset));
        const body = await encodeRawSegment(writer, part);
        rawBytes += body.length;
        await store.put(key, body);
        files.push({ key, rows: part.length });
      }
    }
  }
  await store.put(rawManifestKey(topic, hour), Buffer.from(JSON.stringify({ topic, hour, files })));

  const workDir = mkdtempSync(join(tmpdir(), 'bench-compaction-'));
  const db = await DuckDBInstance.create(':memory:');
  const duck = await db.connect();
  const compactionRates: number[] = [];
  const ndjsonRates: number[] = [];
  const copyRates: number[] = [];
  const ratios: number[] = [];
  const phases: Record<string, number[]> = { read: [], 'decode+stage': [], 'DuckDB finish (flush+count+dedup+sort+write)': [], 'of which COPY': [], upload: [] };
  let outputRows = 0;
  let parquetBytes = 0;
  let peakRss = 0;
  try {
    for (let round = 0; round <= ROUNDS; round++) {
      // Each round compacts from scratch: drop the previous round's curated hour.
      await store.delete((await store.list(curatedHourPrefix(topic, hour))).map((o) => o.key));
      // The same compaction staging NDJSON text (the writer's fallback for schemas the columnar path does not cover).
      let started = performance.now();
      await compactHour(store, topic, hour, { reader: { schema: v2, schemaId: 2 }, workDir, staging: 'ndjson' });
      const ndjsonSeconds = (performance.now() - started) / 1000;
      await store.delete((await store.list(curatedHourPrefix(topic, hour))).map((o) => o.key));
      started = performance.now();
      const result = await compactHour(store, topic, hour, { reader: { schema: v2, schemaId: 2 }, workDir });
      const compactionSeconds = (performance.now() - started) / 1000;
      peakRss = Math.max(peakRss, process.memoryUsage().rss);
      outputRows = result.manifest.rows;
      parquetBytes = result.manifest.files.reduce((n, f) => n + f.bytes, 0);
      if (round === 0) {
        // The baseline's input: the same distinct rows, as a DuckDB table.
        const dir = join(workDir, 'baseline-in');
        rmSync(dir, { recursive: true, force: true });
        const paths = [];
        for (const f of result.manifest.files) {
          const path = join(workDir, `in-${paths.length}.parquet`);
          writeFileSync(path, await store.get(f.key));
          paths.push(`'${path}'`);
        }
        await duck.run(`CREATE OR REPLACE TABLE same_rows AS SELECT * FROM read_parquet([${paths.join(',')}])`);
        continue; // warm-up round
      }
      const out = join(workDir, `copy-${round}.parquet`);
      started = performance.now();
      await duck.run(`COPY same_rows TO '${out}' (FORMAT parquet, COMPRESSION zstd)`);
      const copySeconds = (performance.now() - started) / 1000;
      statSync(out);
      rmSync(out);
      compactionRates.push(outputRows / compactionSeconds);
      ndjsonRates.push(outputRows / ndjsonSeconds);
      copyRates.push(outputRows / copySeconds);
      ratios.push(outputRows / compactionSeconds / (outputRows / copySeconds));
      phases.read.push(result.timings.readMillis);
      phases['decode+stage'].push(result.timings.decodeMillis);
      phases['DuckDB finish (flush+count+dedup+sort+write)'].push(result.timings.writeMillis);
      phases['of which COPY'].push(result.timings.copyMillis);
      phases.upload.push(result.timings.uploadMillis);
      console.error(`round ${round}: compaction ${fmt(outputRows / compactionSeconds)} rows/s, DuckDB COPY ${fmt(outputRows / copySeconds)} rows/s`);
    }
  } finally {
    duck.closeSync();
    db.closeSync();
    rmSync(workDir, { recursive: true, force: true });
  }

  console.log(`\n## Compaction (${cpus().length} cores ${cpus()[0]?.model ?? ''}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version})`);
  console.log(`input: ${fmt(ROWS)} landed rows (${fmt(ROWS - distinct)} duplicates, v1 and v2 writers) in ${files.length} raw segments, ${(rawBytes / 2 ** 20).toFixed(1)} MiB Avro (deflate)`);
  console.log(`output: ${fmt(outputRows)} distinct rows, ${(parquetBytes / 2 ** 20).toFixed(1)} MiB zstd Parquet; peak RSS ${(peakRss / 2 ** 20).toFixed(0)} MiB`);
  console.log(`| variant | rows/s (median of ${ROUNDS}) | min–max |`);
  console.log(`|---|---:|---:|`);
  console.log(`| compaction (whole hour, end to end) | ${fmt(median(compactionRates))} | ${fmt(Math.min(...compactionRates))}–${fmt(Math.max(...compactionRates))} |`);
  console.log(`| compaction staging NDJSON (the fallback) | ${fmt(median(ndjsonRates))} | ${fmt(Math.min(...ndjsonRates))}–${fmt(Math.max(...ndjsonRates))} |`);
  console.log(`| DuckDB \`COPY same_rows TO … (FORMAT parquet, COMPRESSION zstd)\` | ${fmt(median(copyRates))} | ${fmt(Math.min(...copyRates))}–${fmt(Math.max(...copyRates))} |`);
  console.log(`compaction ÷ DuckDB COPY: median ${median(ratios).toFixed(2)} (paired rounds ${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)}; target ≥ 0.85)`);
  console.log(`phases (median ms): ${Object.entries(phases).map(([k, v]) => `${k} ${fmt(median(v))}`).join(', ')}`);
}

main().catch((err) => {
  console.error(`bench:compaction failed: ${(err as Error).stack ?? err}`);
  process.exit(1);
});
