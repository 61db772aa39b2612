/**
 * The workflow's "verify counts" step, independent of the build: every file a batch manifest names is
 * there with its size, sha256 and (Parquet footer) row count; orders_daily has exactly one row per
 * distinct order placed on the day in curated/ (recounted from the curated files); sales_by_day adds up
 * to orders_daily.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import type { ObjectStore } from '@app/object-store';
import { dayStartMillis, type OrderTopics } from './day-window';
import { BATCH_TABLES, batchManifestKey, inputManifests, readBatchManifest, type BatchManifest } from './orders-daily';

export class BatchVerificationError extends Error {
  readonly retriable = false;
  constructor(readonly problems: string[]) {
    super(`verification failed: ${problems.join('; ')}`);
    this.name = 'BatchVerificationError';
  }
}

export interface VerifyResult {
  day: string;
  orders: number;
  placedInCurated: number;
  tables: { table: string; rows: number; files: number; manifestKey: string }[];
}

async function scalar(connection: DuckDBConnection, query: string): Promise<number> {
  const reader = await connection.runAndReadAll(query);
  return Number((reader.getRows()[0] as [bigint | number | null])[0] ?? 0);
}

const quote = (p: string) => `'${p.replace(/'/g, "''")}'`;

export async function verifyOrdersDaily(
  store: ObjectStore,
  day: string,
  options: { topics: OrderTopics; lookaheadHours: number; workDir: string },
): Promise<VerifyResult> {
  const problems: string[] = [];
  mkdirSync(options.workDir, { recursive: true });
  const work = mkdtempSync(join(options.workDir, `verify-${day}-`));
  const db = await DuckDBInstance.create(':memory:', { threads: '1' });
  const connection = await db.connect();
  try {
    const manifests: Partial<Record<(typeof BATCH_TABLES)[number], BatchManifest>> = {};
    const paths: Record<string, string[]> = {};
    for (const table of BATCH_TABLES) {
      const m = await readBatchManifest(store, batchManifestKey(table, day));
      if (!m) {
        problems.push(`${batchManifestKey(table, day)} is missing`);
        continue;
      }
      manifests[table] = m;
      paths[table] = [];
      for (const [i, f] of m.files.entries()) {
        const body = await store.get(f.key).catch(() => undefined);
        if (!body) {
          problems.push(`${f.key}: missing`);
          continue;
        }
        if (body.length !== f.bytes) problems.push(`${f.key}: ${body.length} bytes, manifest says ${f.bytes}`);
        if (createHash('sha256').update(body).digest('hex') !== f.sha256) problems.push(`${f.key}: sha256 differs from the manifest`);
        const path = join(work, `${table}-${i}.parquet`);
        writeFileSync(path, body);
        paths[table].push(path);
        const rows = await scalar(connection, `SELECT count(*) FROM read_parquet(${quote(path)})`);
        if (rows !== f.rows) problems.push(`${f.key}: ${rows} rows in the file, manifest says ${f.rows}`);
      }
      const total = m.files.reduce((n, f) => n + f.rows, 0);
      if (total !== m.rows) problems.push(`${table}: files hold ${total} rows, manifest says ${m.rows}`);
    }

    // Recount the day's distinct orders straight from the curated OrderPlaced files.
    const inputs = await inputManifests(store, options.topics, day, 0);
    const placedPaths: string[] = [];
    for (const m of inputs.placed) {
      for (const f of m.files) {
        const path = join(work, 'placed', f.key.replace(/\//g, '_'));
        mkdirSync(join(work, 'placed'), { recursive: true });
        writeFileSync(path, await store.get(f.key));
        placedPaths.push(path);
      }
    }
    const start = new Date(dayStartMillis(day)).toISOString();
    const end = new Date(dayStartMillis(day) + 86_400_000).toISOString();
    const placed = placedPaths.length
      ? await scalar(
          connection,
          `SELECT count(DISTINCT orderId) FROM read_parquet([${placedPaths.map(quote).join(', ')}], union_by_name = true) WHERE occurredAt >= '${start}'::TIMESTAMPTZ AND occurredAt < '${end}'::TIMESTAMPTZ`,
        )
      : 0;
    const orders = manifests.orders_daily?.rows ?? 0;
    if (manifests.orders_daily && orders !== placed) problems.push(`orders_daily has ${orders} rows, curated/ has ${placed} distinct orders placed on ${day}`);
    if (manifests.orders_daily && paths.orders_daily?.length) {
      const distinct = await scalar(connection, `SELECT count(DISTINCT order_id) FROM read_parquet([${paths.orders_daily.map(quote).join(', ')}])`);
      if (distinct !== orders) problems.push(`orders_daily repeats orders: ${distinct} distinct of ${orders} rows`);
    }
    if (manifests.sales_by_day && paths.sales_by_day?.length) {
      const list = paths.sales_by_day.map(quote).join(', ');
      const sold = await scalar(connection, `SELECT coalesce(sum(orders_placed), 0) FROM read_parquet([${list}])`);
      const byStatus = await scalar(
        connection,
        `SELECT coalesce(sum(orders_confirmed + orders_rejected + orders_cancelled + orders_open), 0) FROM read_parquet([${list}])`,
      );
      if (sold !== orders) problems.push(`sales_by_day counts ${sold} orders placed, orders_daily has ${orders}`);
      if (byStatus !== sold) problems.push(`sales_by_day: statuses add up to ${byStatus}, not ${sold}`);
    }
    if (problems.length) throw new BatchVerificationError(problems);
    return {
      day,
      orders,
      placedInCurated: placed,
      tables: BATCH_TABLES.map((t) => ({ table: t, rows: manifests[t]!.rows, files: manifests[t]!.files.length, manifestKey: batchManifestKey(t, day) })),
    };
  } finally {
    connection.closeSync();
    db.closeSync();
    rmSync(work, { recursive: true, force: true });
  }
}
