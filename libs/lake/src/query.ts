/**
 * DuckDB over the curated lake: one view per topic (`orders.order-placed.v1` → `orders_order_placed_v1`)
 * over exactly the Parquet files the hours' manifests name, with Hive partition columns `dt` and
 * `hour`. A lake on S3 is fetched into a local cache first (DuckDB's httpfs cannot be installed here,
 * and a cache makes repeated questions free); a lake on `file://` is read in place.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import type { ObjectStore } from '@app/object-store';
import type { CuratedManifest } from './curated-manifest';
import { tableNameOf } from './parquet-columns';

export interface LakeQueryOptions {
  /** Where S3 objects are cached (`.lake-cache/` by default in the tools). */
  cacheDir: string;
  /** Only hours in this range (inclusive, `YYYY-MM-DDTHH`) are fetched and read. */
  fromHour?: string;
  toHour?: string;
  onProgress?: (message: string) => void;
  /** Parallel downloads. */
  concurrency?: number;
}

export interface QueryResult {
  columns: string[];
  rows: unknown[][];
}

export interface TopicFiles {
  topic: string;
  view: string;
  hours: number;
  rows: number;
  keys: string[];
}

/** The curated manifests of every topic (a listing finds the manifests; the files come from them). */
export async function curatedManifests(store: ObjectStore, topic?: string): Promise<CuratedManifest[]> {
  const keys = (await store.list(topic ? `curated/${topic}/` : 'curated/')).map((o) => o.key).filter((k) => k.endsWith('/_manifest.json'));
  const manifests: CuratedManifest[] = [];
  for (const key of keys) manifests.push(JSON.parse((await store.get(key)).toString('utf8')) as CuratedManifest);
  return manifests;
}

/** A session over the lake; create views for the topics a statement names, then run it. */
export class LakeQuery {
  private readonly localRoot?: string;

  private constructor(
    private readonly store: ObjectStore,
    private readonly db: DuckDBInstance,
    private readonly connection: DuckDBConnection,
    private readonly options: LakeQueryOptions,
  ) {
    // A file:// lake needs no cache: DuckDB reads the files where they are.
    this.localRoot = store.url.startsWith('file:') ? fileURLToPath(store.url) : undefined;
  }

  static async open(store: ObjectStore, options: LakeQueryOptions): Promise<LakeQuery> {
    const db = await DuckDBInstance.create(':memory:');
    return new LakeQuery(store, db, await db.connect(), options);
  }

  /** Topics with compacted hours, their view names and files. */
  async topics(): Promise<TopicFiles[]> {
    const byTopic = new Map<string, TopicFiles>();
    const { fromHour, toHour } = this.options;
    for (const m of await curatedManifests(this.store)) {
      if ((fromHour && m.hour < fromHour) || (toHour && m.hour > toHour)) continue;
      const entry = byTopic.get(m.topic) ?? { topic: m.topic, view: tableNameOf(m.topic), hours: 0, rows: 0, keys: [] };
      entry.hours++;
      entry.rows += m.rows;
      entry.keys.push(...m.files.map((f) => f.key));
      byTopic.set(m.topic, entry);
    }
    // The daily batch's tables (batch/<table>/dt=YYYY-MM-DD/_manifest.json, @app/batch) as views
    // batch_<table>, counted per day; their manifests name the files the same way.
    for (const o of await this.store.list('batch/')) {
      const match = /^batch\/([a-z0-9_]+)\/dt=(\d{4}-\d{2}-\d{2})\/_manifest\.json$/.exec(o.key);
      if (!match || (fromHour && `${match[2]}T23` < fromHour) || (toHour && `${match[2]}T00` > toHour)) continue;
      const m = JSON.parse((await this.store.get(o.key)).toString('utf8')) as { rows: number; files: { key: string }[] };
      const topic = `batch/${match[1]}`;
      const entry = byTopic.get(topic) ?? { topic, view: `batch_${match[1]}`, hours: 0, rows: 0, keys: [] };
      entry.hours++;
      entry.rows += m.rows;
      entry.keys.push(...m.files.map((f) => f.key));
      byTopic.set(topic, entry);
    }
    return [...byTopic.values()].sort((a, b) => a.topic.localeCompare(b.topic));
  }

  /**
   * Creates a view for every topic whose view name the SQL mentions (all topics when `all`), fetching
   * their files first when the lake is remote. Returns the views created.
   */
  async prepare(sql: string, all = false): Promise<TopicFiles[]> {
    const topics = await this.topics();
    const wanted = all ? topics : topics.filter((t) => new RegExp(`\\b${t.view}\\b`, 'i').test(sql));
    for (const t of wanted) {
      const paths = await this.localPaths(t.keys);
      this.pruneCache(t.topic, new Set(paths));
      const list = paths.map((p) => `'${p.replace(/'/g, "''")}'`).join(', ');
      await this.connection.run(
        `CREATE OR REPLACE VIEW "${t.view}" AS SELECT * FROM read_parquet([${list}], hive_partitioning = true, union_by_name = true)`,
      );
    }
    return wanted;
  }

  async run(sql: string): Promise<QueryResult> {
    const reader = await this.connection.runAndReadAll(sql);
    return { columns: reader.columnNames(), rows: reader.getRowsJson() as unknown[][] };
  }

  close(): void {
    this.connection.closeSync();
    this.db.closeSync();
  }

  /** Drops cached files of the topic that no manifest names any more (superseded by re-compaction). */
  private pruneCache(topic: string, keep: Set<string>): void {
    // With an hour range, files of other hours are still current: keep them.
    if (this.localRoot || this.options.fromHour || this.options.toHour) return;
    const dir = join(this.options.cacheDir, 'curated', topic);
    if (!existsSync(dir)) return;
    for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
      if (!entry.isFile()) continue;
      const path = join(entry.parentPath ?? (entry as unknown as { path: string }).path, entry.name);
      if (!keep.has(path)) rmSync(path, { force: true });
    }
  }

  private async localPaths(keys: string[]): Promise<string[]> {
    if (this.localRoot) return keys.map((k) => join(this.localRoot!, k));
    const paths = keys.map((k) => join(this.options.cacheDir, k));
    const missing = keys.filter((_, i) => !existsSync(paths[i]));
    if (missing.length > 0) this.options.onProgress?.(`fetching ${missing.length} of ${keys.length} files into ${this.options.cacheDir}`);
    let next = 0;
    let fetched = 0;
    const worker = async () => {
      while (next < missing.length) {
        const key = missing[next++];
        const body = await this.store.get(key);
        const path = join(this.options.cacheDir, key);
        mkdirSync(dirname(path), { recursive: true });
        // Written aside and renamed: an interrupted fetch never leaves a half file in the cache.
        const partial = `${path}.${process.pid}.partial`;
        writeFileSync(partial, body);
        renameSync(partial, path);
        fetched++;
        if (fetched % 20 === 0) this.options.onProgress?.(`  ${fetched}/${missing.length}`);
      }
    };
    await Promise.all(Array.from({ length: this.options.concurrency ?? 8 }, worker));
    return paths;
  }
}

/**
 * Checks that each file the manifests name exists with the manifest's size, sha256 and row count (the
 * Parquet footer's), and that the files' rows add up to the manifest's; returns the problems found.
 */
export async function verifyCuratedFiles(store: ObjectStore, manifests: readonly CuratedManifest[], workDir = tmpdir()): Promise<string[]> {
  const problems: string[] = [];
  const dir = mkdtempSync(join(workDir, 'verify-'));
  const db = await DuckDBInstance.create(':memory:');
  const connection = await db.connect();
  try {
    for (const m of manifests) {
      let rows = 0;
      for (const f of m.files) {
        rows += f.rows;
        const body = await store.get(f.key).catch(() => undefined);
        if (!body) {
          problems.push(`${f.key}: missing`);
          continue;
        }
        if (body.length !== f.bytes) problems.push(`${f.key}: ${body.length} bytes, manifest says ${f.bytes}`);
        if (createHash('sha256').update(body).digest('hex') !== f.sha256) problems.push(`${f.key}: sha256 differs from the manifest`);
        const path = join(dir, 'file.parquet');
        writeFileSync(path, body);
        try {
          const reader = await connection.runAndReadAll(
            `SELECT sum(row_group_num_rows)::BIGINT FROM (SELECT DISTINCT row_group_id, row_group_num_rows FROM parquet_metadata('${path}'))`,
          );
          const [[fileRows]] = reader.getRows() as [[bigint | null]];
          if (Number(fileRows ?? 0) !== f.rows) problems.push(`${f.key}: ${fileRows} rows in the file, manifest says ${f.rows}`);
        } catch (err) {
          problems.push(`${f.key}: not a readable Parquet file (${(err as Error).message})`);
        }
      }
      if (rows !== m.rows) problems.push(`${m.topic} ${m.hour}: files hold ${rows} rows, manifest says ${m.rows}`);
    }
  } finally {
    connection.closeSync();
    db.closeSync();
    rmSync(dir, { recursive: true, force: true });
  }
  return problems;
}
