/**
 * The orders_daily job: from the curated order topics, one row per order placed on the day with its
 * final status, amounts and fraud score (`batch/orders_daily/dt=YYYY-MM-DD/`), and the day's
 * `sales_by_day` aggregate per currency (`batch/sales_by_day/dt=YYYY-MM-DD/`), built with DuckDB.
 *
 * Idempotent: the output files are named by a fingerprint of the inputs (the curated manifests' files
 * and the job version), written with a single DuckDB thread and a total order so the same inputs give
 * the same bytes; a partition is switched by writing its `_manifest.json` after its files, then the
 * files the previous manifest named are deleted. Readers trust the manifest, as for curated/.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { ObjectNotFoundError, type ObjectStore } from '@app/object-store';
import { curatedManifests, type CuratedManifest } from '@app/lake';
import { dayStartMillis, hoursOf, type OrderTopics } from './day-window';

/** Bumped when the SQL or the output layout changes: a new version rebuilds every day it runs on. */
export const ORDERS_DAILY_JOB_VERSION = 1;
export const BATCH_MANIFEST_VERSION = 1;
export const BATCH_TABLES = ['orders_daily', 'sales_by_day'] as const;
export type BatchTableName = (typeof BATCH_TABLES)[number];

export function batchPartitionPrefix(table: string, day: string): string {
  dayStartMillis(day);
  return `batch/${table}/dt=${day}/`;
}

export function batchManifestKey(table: string, day: string): string {
  return `${batchPartitionPrefix(table, day)}_manifest.json`;
}

export interface BatchFile {
  key: string;
  rows: number;
  bytes: number;
  sha256: string;
}

export interface BatchInput {
  topic: string;
  hour: string;
  compactionId: string;
  rows: number;
}

/** `batch/<table>/dt=<day>/_manifest.json`: the files of the partition, and what they were built from. */
export interface BatchManifest {
  version: number;
  table: BatchTableName;
  day: string;
  job: string;
  jobVersion: number;
  /** sha256 over the job version and every input file; names the output files. */
  inputFingerprint: string;
  builtAt: string;
  /** Execution name of the workflow run that built it. */
  runId: string;
  rows: number;
  files: BatchFile[];
  inputs: BatchInput[];
}

export interface BuildOptions {
  topics: OrderTopics;
  lookaheadHours: number;
  workDir: string;
  runId: string;
  /** Rebuild even when the inputs did not change (the output is the same bytes). */
  force?: boolean;
  now?: () => number;
  onProgress?: (message: string) => void;
}

export interface TableResult {
  table: BatchTableName;
  status: 'built' | 'unchanged';
  manifestKey: string;
  rows: number;
  files: number;
  /** Files of the previous build deleted after the switch. */
  replaced: number;
}

export interface BuildResult {
  day: string;
  inputFingerprint: string;
  inputRows: Record<keyof OrderTopics, number>;
  tables: TableResult[];
}

/** What each source contributes, as flat typed columns (so a topic without files is an empty table of the same shape). */
const SOURCES: Record<keyof OrderTopics, { columns: [string, string, string][] }> = {
  placed: {
    columns: [
      ['eventId', 'eventId', 'VARCHAR'],
      ['occurredAt', 'occurredAt', 'TIMESTAMPTZ'],
      ['orderId', 'orderId', 'VARCHAR'],
      ['customerId', 'customerId', 'VARCHAR'],
      ['channel', 'channel::VARCHAR', 'VARCHAR'],
      ['currency', 'currency', 'VARCHAR'],
      ['line_count', 'len(lineItems)::INTEGER', 'INTEGER'],
      ['item_count', 'coalesce(list_sum([li.quantity for li in lineItems]), 0)::BIGINT', 'BIGINT'],
      ['subtotal', 'subtotal::DECIMAL(18,2)', 'DECIMAL(18,2)'],
      ['shippingTotal', 'shippingTotal::DECIMAL(18,2)', 'DECIMAL(18,2)'],
      ['taxTotal', 'taxTotal::DECIMAL(18,2)', 'DECIMAL(18,2)'],
      ['grandTotal', 'grandTotal::DECIMAL(18,2)', 'DECIMAL(18,2)'],
      ['shippingCountry', 'shippingCountry', 'VARCHAR'],
      ['billingCountry', 'billingCountry', 'VARCHAR'],
      ['paymentType', 'payment.type::VARCHAR', 'VARCHAR'],
    ],
  },
  confirmed: {
    columns: [
      ['eventId', 'eventId', 'VARCHAR'],
      ['occurredAt', 'occurredAt', 'TIMESTAMPTZ'],
      ['orderId', 'orderId', 'VARCHAR'],
      ['fraudScore', 'fraudScore::INTEGER', 'INTEGER'],
      ['reservationId', 'reservationId', 'VARCHAR'],
    ],
  },
  rejected: {
    columns: [
      ['eventId', 'eventId', 'VARCHAR'],
      ['occurredAt', 'occurredAt', 'TIMESTAMPTZ'],
      ['orderId', 'orderId', 'VARCHAR'],
      ['reasonCodes', '[r.code::VARCHAR for r in reasons]', 'VARCHAR[]'],
    ],
  },
  cancelled: {
    columns: [
      ['eventId', 'eventId', 'VARCHAR'],
      ['occurredAt', 'occurredAt', 'TIMESTAMPTZ'],
      ['orderId', 'orderId', 'VARCHAR'],
      ['cancelledBy', 'cancelledBy::VARCHAR', 'VARCHAR'],
    ],
  },
  fraudAssessed: {
    columns: [
      ['eventId', 'eventId', 'VARCHAR'],
      ['occurredAt', 'occurredAt', 'TIMESTAMPTZ'],
      ['orderId', 'orderId', 'VARCHAR'],
      ['score', 'score::INTEGER', 'INTEGER'],
      ['decision', 'decision::VARCHAR', 'VARCHAR'],
    ],
  },
};

/**
 * One row per order placed on the day (the first OrderPlaced per order id: a retry across instances can
 * publish it twice). The final status is the last final event, a cancel outranking the confirmation it
 * undoes; orders with none are PENDING, or REVIEW when fraud asked for a human.
 */
const ORDERS_DAILY_SQL = `
WITH p AS (
  SELECT * FROM placed WHERE occurredAt >= $dayStart AND occurredAt < $dayEnd
  QUALIFY row_number() OVER (PARTITION BY orderId ORDER BY occurredAt, eventId) = 1
), finals AS (
  SELECT orderId, 'CONFIRMED' AS status, occurredAt, NULL::VARCHAR[] AS reasonCodes, NULL::VARCHAR AS cancelledBy, fraudScore, reservationId, eventId, 1 AS rank FROM confirmed
  UNION ALL SELECT orderId, 'REJECTED', occurredAt, reasonCodes, NULL, NULL, NULL, eventId, 1 FROM rejected
  UNION ALL SELECT orderId, 'CANCELLED', occurredAt, NULL, cancelledBy, NULL, NULL, eventId, 2 FROM cancelled
), f AS (
  SELECT * FROM finals QUALIFY row_number() OVER (PARTITION BY orderId ORDER BY rank DESC, occurredAt DESC, eventId) = 1
), c AS (
  SELECT orderId, fraudScore, reservationId FROM confirmed QUALIFY row_number() OVER (PARTITION BY orderId ORDER BY occurredAt, eventId) = 1
), fr AS (
  SELECT * FROM fraudAssessed QUALIFY row_number() OVER (PARTITION BY orderId ORDER BY occurredAt DESC, eventId) = 1
)
SELECT
  p.orderId AS order_id,
  p.customerId AS customer_id,
  p.occurredAt AS placed_at,
  p.channel,
  p.currency,
  p.line_count,
  p.item_count,
  p.subtotal,
  p.shippingTotal AS shipping_total,
  p.taxTotal AS tax_total,
  p.grandTotal AS grand_total,
  p.shippingCountry AS shipping_country,
  p.billingCountry AS billing_country,
  p.paymentType AS payment_type,
  coalesce(fr.score, c.fraudScore) AS fraud_score,
  fr.decision AS fraud_decision,
  coalesce(f.status, CASE WHEN fr.decision = 'REVIEW' THEN 'REVIEW' ELSE 'PENDING' END) AS status,
  f.occurredAt AS status_at,
  f.reasonCodes AS rejection_reasons,
  f.cancelledBy AS cancelled_by,
  c.reservationId AS reservation_id
FROM p
LEFT JOIN f ON f.orderId = p.orderId
LEFT JOIN c ON c.orderId = p.orderId
LEFT JOIN fr ON fr.orderId = p.orderId
ORDER BY order_id`;

/** The day's sales per currency (amounts are never added across currencies). */
const SALES_BY_DAY_SQL = `
SELECT
  currency,
  count(*)::BIGINT AS orders_placed,
  count(*) FILTER (WHERE status = 'CONFIRMED')::BIGINT AS orders_confirmed,
  count(*) FILTER (WHERE status = 'REJECTED')::BIGINT AS orders_rejected,
  count(*) FILTER (WHERE status = 'CANCELLED')::BIGINT AS orders_cancelled,
  count(*) FILTER (WHERE status IN ('PENDING', 'REVIEW'))::BIGINT AS orders_open,
  count(DISTINCT customer_id)::BIGINT AS customers,
  coalesce(sum(grand_total), 0)::DECIMAL(18,2) AS placed_value,
  coalesce(sum(grand_total) FILTER (WHERE status = 'CONFIRMED'), 0)::DECIMAL(18,2) AS confirmed_revenue,
  coalesce(sum(item_count) FILTER (WHERE status = 'CONFIRMED'), 0)::BIGINT AS items_sold,
  round(avg(fraud_score), 2)::DOUBLE AS avg_fraud_score
FROM orders_daily
GROUP BY currency
ORDER BY currency`;

function sql(text: string): string {
  return `'${text.replace(/'/g, "''")}'`;
}

async function readManifest(store: ObjectStore, key: string): Promise<BatchManifest | undefined> {
  try {
    return JSON.parse((await store.get(key)).toString('utf8')) as BatchManifest;
  } catch (err) {
    if (err instanceof ObjectNotFoundError) return undefined;
    throw err;
  }
}

export { readManifest as readBatchManifest };

/** The curated manifests of each source over the day's window. */
export async function inputManifests(store: ObjectStore, topics: OrderTopics, day: string, lookaheadHours: number): Promise<Record<keyof OrderTopics, CuratedManifest[]>> {
  const dayHours = new Set(hoursOf(day, 0));
  const windowHours = new Set(hoursOf(day, lookaheadHours));
  const out = {} as Record<keyof OrderTopics, CuratedManifest[]>;
  for (const source of Object.keys(SOURCES) as (keyof OrderTopics)[]) {
    // Orders placed on the day; their verdicts and final events may come up to the lookahead later.
    const hours = source === 'placed' ? dayHours : windowHours;
    const days = [...new Set([...hours].map((h) => h.slice(0, 10)))];
    const manifests: CuratedManifest[] = [];
    for (const d of days) {
      for (const m of await curatedManifests(store, `${topics[source]}/dt=${d}`)) if (hours.has(m.hour)) manifests.push(m);
    }
    out[source] = manifests.sort((a, b) => a.hour.localeCompare(b.hour));
  }
  return out;
}

export function fingerprintOf(inputs: Record<keyof OrderTopics, CuratedManifest[]>, lookaheadHours: number): string {
  const hash = createHash('sha256').update(`orders_daily v${ORDERS_DAILY_JOB_VERSION} lookahead ${lookaheadHours}\n`);
  for (const source of Object.keys(SOURCES).sort()) {
    for (const m of inputs[source as keyof OrderTopics]) {
      // Files are identified by content, so re-compacting an hour into the same rows changes nothing here.
      for (const f of m.files) hash.update(`${source} ${m.hour} ${f.sha256} ${f.rows}\n`);
    }
  }
  return hash.digest('hex');
}

/** Local paths of the files: in place for a file:// lake, else fetched into `dir`. */
async function localFiles(store: ObjectStore, keys: string[], dir: string): Promise<string[]> {
  if (store.url.startsWith('file:')) return keys.map((k) => join(fileURLToPath(store.url), k));
  const paths: string[] = [];
  for (const key of keys) {
    const path = join(dir, key);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, await store.get(key));
    paths.push(path);
  }
  return paths;
}

async function loadSource(connection: DuckDBConnection, name: keyof OrderTopics, paths: string[]): Promise<void> {
  const { columns } = SOURCES[name];
  const select = paths.length
    ? `SELECT ${columns.map(([alias, expr]) => `${expr} AS "${alias}"`).join(', ')} FROM read_parquet([${paths.map(sql).join(', ')}], union_by_name = true)`
    : `SELECT ${columns.map(([alias, , type]) => `NULL::${type} AS "${alias}"`).join(', ')} LIMIT 0`;
  await connection.run(`CREATE OR REPLACE TABLE "${name}" AS ${select}`);
}

async function count(connection: DuckDBConnection, query: string): Promise<number> {
  const reader = await connection.runAndReadAll(query);
  return Number((reader.getRows()[0] as [bigint | number])[0]);
}

/**
 * Builds (or confirms unchanged) both tables for one day. The caller has checked that the day's hours
 * are compacted; what is in curated/ now is what gets built.
 */
export async function buildOrdersDaily(store: ObjectStore, day: string, options: BuildOptions): Promise<BuildResult> {
  const progress = options.onProgress ?? (() => undefined);
  const now = options.now ?? Date.now;
  const dayStart = dayStartMillis(day);
  const inputs = await inputManifests(store, options.topics, day, options.lookaheadHours);
  const fingerprint = fingerprintOf(inputs, options.lookaheadHours);
  const inputRows = Object.fromEntries(Object.entries(inputs).map(([k, ms]) => [k, ms.reduce((n, m) => n + m.rows, 0)])) as BuildResult['inputRows'];
  progress(
    `inputs: ${Object.entries(inputs)
      .map(([k, ms]) => `${k} ${inputRows[k as keyof OrderTopics]} rows in ${ms.length} hour(s)`)
      .join(', ')}`,
  );

  const previous = await Promise.all(BATCH_TABLES.map((t) => readManifest(store, batchManifestKey(t, day))));
  if (!options.force && previous.every((m) => m && m.inputFingerprint === fingerprint && m.jobVersion === ORDERS_DAILY_JOB_VERSION)) {
    progress(`unchanged: ${day} was built from the same inputs (fingerprint ${fingerprint.slice(0, 12)})`);
    return {
      day,
      inputFingerprint: fingerprint,
      inputRows,
      tables: previous.map((m) => ({ table: m!.table, status: 'unchanged', manifestKey: batchManifestKey(m!.table, day), rows: m!.rows, files: m!.files.length, replaced: 0 })),
    };
  }

  mkdirSync(options.workDir, { recursive: true });
  const work = mkdtempSync(join(options.workDir, `orders-daily-${day}-`));
  const db = await DuckDBInstance.create(':memory:', { threads: '1' });
  const connection = await db.connect();
  try {
    for (const source of Object.keys(SOURCES) as (keyof OrderTopics)[]) {
      const keys = inputs[source].flatMap((m) => m.files.map((f) => f.key));
      await loadSource(connection, source, await localFiles(store, keys, join(work, 'in')));
    }
    const dayStartSql = `'${new Date(dayStart).toISOString()}'::TIMESTAMPTZ`;
    const dayEndSql = `'${new Date(dayStart + 86_400_000).toISOString()}'::TIMESTAMPTZ`;
    await connection.run(`CREATE TABLE orders_daily AS ${ORDERS_DAILY_SQL.replace('$dayStart', dayStartSql).replace('$dayEnd', dayEndSql)}`);
    await connection.run(`CREATE TABLE sales_by_day AS ${SALES_BY_DAY_SQL}`);

    const tables: TableResult[] = [];
    for (const table of BATCH_TABLES) {
      const rows = await count(connection, `SELECT count(*) FROM ${table}`);
      const key = `${batchPartitionPrefix(table, day)}part-${fingerprint.slice(0, 16)}.parquet`;
      const path = join(work, `${table}.parquet`);
      await connection.run(`COPY (SELECT * FROM ${table}) TO ${sql(path)} (FORMAT parquet, COMPRESSION zstd)`);
      const body = readFileSync(path);
      const sha256 = createHash('sha256').update(body).digest();
      await store.put(key, body, { contentType: 'application/vnd.apache.parquet', sha256Base64: sha256.toString('base64') });
      progress(`  uploaded ${key} (${rows} rows, ${body.length} bytes)`);
      const manifest: BatchManifest = {
        version: BATCH_MANIFEST_VERSION,
        table,
        day,
        job: 'orders-daily',
        jobVersion: ORDERS_DAILY_JOB_VERSION,
        inputFingerprint: fingerprint,
        builtAt: new Date(now()).toISOString(),
        runId: options.runId,
        rows,
        files: [{ key, rows, bytes: body.length, sha256: sha256.toString('hex') }],
        inputs: (Object.keys(SOURCES) as (keyof OrderTopics)[]).flatMap((s) =>
          inputs[s].map((m) => ({ topic: m.topic, hour: m.hour, compactionId: m.compactionId, rows: m.rows })),
        ),
      };
      const manifestKey = batchManifestKey(table, day);
      // The switch: readers see the new files from here on.
      await store.put(manifestKey, Buffer.from(JSON.stringify(manifest, null, 2)), { contentType: 'application/json' });
      // Files of the previous build, and of any build that crashed before its switch.
      const stale = (await store.list(batchPartitionPrefix(table, day))).map((o) => o.key).filter((k) => k.endsWith('.parquet') && k !== key);
      if (stale.length) await store.delete(stale);
      progress(`switched ${manifestKey}: ${rows} rows${stale.length ? `, ${stale.length} replaced file(s) deleted` : ''}`);
      tables.push({ table, status: 'built', manifestKey, rows, files: 1, replaced: stale.length });
    }
    return { day, inputFingerprint: fingerprint, inputRows, tables };
  } finally {
    connection.closeSync();
    db.closeSync();
    rmSync(work, { recursive: true, force: true });
  }
}
