/**
 * Writes one hour's curated Parquet files with DuckDB. Decoded rows are staged into a typed DuckDB
 * table — as data chunks through its appender (`parquet-writer-chunks.ts`), or as NDJSON files that
 * DuckDB parses natively for schemas the chunk plan does not cover (see BENCHMARKS.md) — then
 * deduplicated by the event id (first by Kafka position wins), sorted by event time and copied to zstd
 * Parquet files of about the target size.
 */
import { closeSync, mkdtempSync, openSync, readdirSync, rmSync, statSync, writeSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance, type DuckDBAppender, type DuckDBConnection } from '@duckdb/node-api';
import type { AvroSchema } from '@app/codec';
import type { RawRow, RawSegmentDecoder } from './compaction-input';
import { LINEAGE_COLUMNS, containsBytes, containsFloatingPoint, eventColumns, type EventColumn } from './parquet-columns';
import { ChunkStager, chunkPlanOf, traceIdOf, type ChunkPlan, type PlainRawRecord } from './parquet-writer-chunks';

export { traceIdOf };

export interface CuratedWriteOptions {
  /** Field holding the event time, which files are sorted by (TIMESTAMP). */
  eventTimeField: string;
  /** Field that identifies an event for dedup; when the schema has none, Kafka position does. */
  dedupField: string;
  /** Files roll over once they pass this size (DuckDB checks between row groups). */
  targetFileBytes: number;
  /** Distinguishes this run's file names from every other run's: `part-<runId>-<n>.parquet`. */
  runId: string;
  /** Where temp files go (NDJSON staging, DuckDB spill, the Parquet output); the OS temp dir by default. */
  workDir?: string;
  /** NDJSON bytes per chunk handed to DuckDB while decoding goes on; Infinity loads once at the end. */
  stagingChunkBytes?: number;
  /** DuckDB `FIELD_IDS` value giving every column its Iceberg field id (Iceberg tables only). */
  fieldIds?: string;
  /**
   * How decoded rows reach DuckDB: `chunks` (typed data chunks through the appender; the default when
   * the schema allows it) or `ndjson` (JSON text staged in files, which every schema allows).
   */
  staging?: 'chunks' | 'ndjson';
}

export interface WrittenParquetFile {
  /** Local path of the written file. */
  path: string;
  name: string;
  rows: number;
  bytes: number;
  minEventTime: string | null;
  maxEventTime: string | null;
}

export interface CuratedWriteResult {
  inputRows: number;
  /** Distinct events among the input (what the files must hold). */
  distinctRows: number;
  files: WrittenParquetFile[];
  /** Time spent in DuckDB's COPY to Parquet alone, for the benchmark. */
  copyMillis: number;
}

const FLUSH_BYTES = 4 * 1024 * 1024;
/** NDJSON chunk handed to DuckDB while decoding goes on (~20k events). */
const CHUNK_BYTES = 16 * 1024 * 1024;

function sqlString(text: string): string {
  return `'${text.replace(/'/g, "''")}'`;
}

function ident(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** Stages rows and turns them into curated Parquet files; one instance per compaction run. */
export class CuratedParquetWriter {
  private readonly dir: string;
  private chunk?: { path: string; fd: number; bytes: number };
  private chunks = 0;
  /** Loads of finished chunks, one after the other on the connection, while decoding goes on. */
  private loading: Promise<void> = Promise.resolve();
  private loadError?: unknown;
  private db?: Promise<{ instance: DuckDBInstance; connection: DuckDBConnection }>;
  private pending: string[] = [];
  private pendingBytes = 0;
  private inputRows = 0;
  private stagedBytes = 0;
  private sourceBytes = 0;
  private readonly columns: EventColumn[];
  private readonly carried: { path: string; rows: number }[] = [];
  private readonly valueReplacer?: (this: unknown, key: string, value: unknown) => unknown;
  private finished = false;
  private readonly chunkPlan?: ChunkPlan;
  private stager?: { appender: DuckDBAppender; chunks: ChunkStager };

  constructor(
    reader: AvroSchema,
    private readonly options: CuratedWriteOptions,
  ) {
    this.columns = eventColumns(reader.type, 'duckdb');
    if (!this.columns.some((c) => c.name === options.eventTimeField)) {
      throw new Error(`${reader.name} has no event time field ${options.eventTimeField}`);
    }
    const bytes = containsBytes(reader.type);
    if (bytes || containsFloatingPoint(reader.type)) {
      this.valueReplacer = function (this: unknown, key: string, value: unknown) {
        // JSON has no NaN or ±Infinity (JSON.stringify writes null) and writes -0 as 0: such floats
        // and doubles are staged as text ("NaN", "Infinity", "-Infinity", "-0"), which DuckDB's JSON
        // reader casts exactly into FLOAT/DOUBLE columns, nested ones too. JSON columns (unions of
        // several types) keep that text: standard JSON still, but in a union that also has a string
        // branch and is not wrapped it reads like the string "NaN".
        if (typeof value === 'number') return Number.isFinite(value) && !Object.is(value, -0) ? value : String(value === 0 ? '-0' : value);
        if (!bytes) return value;
        // JSON.stringify calls Buffer#toJSON before a replacer sees the value: read the holder instead.
        // Bytes are staged as base64 (top-level columns turn back into BLOB with from_base64).
        const raw = (this as Record<string, unknown>)[key];
        return Buffer.isBuffer(raw) ? raw.toString('base64') : value;
      };
    }
    if (options.staging !== 'ndjson') this.chunkPlan = chunkPlanOf(reader.type);
    if (options.staging === 'chunks' && !this.chunkPlan) throw new Error(`${reader.name} has columns only the NDJSON staging can stage`);
    this.dir = mkdtempSync(join(options.workDir ?? tmpdir(), 'compaction-'));
  }

  /** Whether rows go in through {@link addRecord} (decoded without logical types) rather than {@link add}. */
  get columnar(): boolean {
    return this.chunkPlan !== undefined;
  }

  /** Opens the DuckDB session (and, for columnar staging, the appender) before the first row. */
  async open(): Promise<void> {
    const { connection } = await this.session();
    if (this.chunkPlan && !this.stager) {
      const appender = await connection.createAppender('staged');
      this.stager = { appender, chunks: new ChunkStager(this.chunkPlan, appender) };
    }
  }

  /** Counts the compressed raw bytes the columnar rows came from (they size the Parquet row groups). */
  addSourceBytes(bytes: number): void {
    this.sourceBytes += bytes;
  }

  /** Adds one landed record decoded without logical types (columnar staging; call {@link open} first). */
  addRecord(record: PlainRawRecord): void {
    this.chunkStager().add(record);
  }

  /**
   * Stages one raw segment's rows (columnar staging; call {@link open} first), off the wire where the
   * decoder can; `onRow` sees each row's lineage.
   */
  stageSegment(decoder: RawSegmentDecoder, key: string, bytes: Buffer, onRow: (partition: number, offset: number, schemaId: number) => void): void {
    decoder.stage(key, bytes, this.chunkStager(), onRow);
  }

  private chunkStager(): ChunkStager {
    if (!this.stager) throw new Error('columnar staging needs open() and a chunk plan');
    return this.stager.chunks;
  }

  private jsonColumns(): string {
    return [
      ...LINEAGE_COLUMNS.map((c) => `${ident(c.name)}: ${sqlString(c.name === '_key' ? 'VARCHAR' : c.duckdb)}`),
      ...this.columns.map((c) => `${ident(c.name)}: ${sqlString(c.bytes ? 'VARCHAR' : c.type)}`),
    ].join(', ');
  }

  private selectList(): string {
    return [
      ...this.columns.map((c) => (c.bytes ? `from_base64(${ident(c.name)}) AS ${ident(c.name)}` : ident(c.name))),
      ...LINEAGE_COLUMNS.map((c) => (c.name === '_key' ? 'from_base64("_key") AS "_key"' : ident(c.name))),
    ].join(', ');
  }

  /** The DuckDB session, with the typed staging table, opened on first use. */
  private session(): Promise<{ instance: DuckDBInstance; connection: DuckDBConnection }> {
    this.db ??= (async () => {
      const instance = await DuckDBInstance.create(':memory:', {
        temp_directory: join(this.dir, 'spill'),
        preserve_insertion_order: 'true',
      });
      const connection = await instance.connect();
      const columns = [...this.columns.map((c) => `${ident(c.name)} ${c.type}`), ...LINEAGE_COLUMNS.map((c) => `${ident(c.name)} ${c.duckdb}`)];
      await connection.run(`CREATE TABLE staged (${columns.join(', ')})`);
      return { instance, connection };
    })();
    return this.db;
  }

  /** Hands the current chunk file to DuckDB (in the background) and starts a new one. */
  private sealChunk(): void {
    const chunk = this.chunk;
    if (!chunk) return;
    this.chunk = undefined;
    closeSync(chunk.fd);
    this.loading = this.loading.then(async () => {
      if (this.loadError) return;
      try {
        const { connection } = await this.session();
        await connection.run(
          `INSERT INTO staged SELECT ${this.selectList()} FROM read_json(${sqlString(chunk.path)}, ` +
            `format = 'newline_delimited', columns = {${this.jsonColumns()}}, maximum_object_size = 67108864)`,
        );
        rmSync(chunk.path, { force: true });
      } catch (err) {
        this.loadError = err;
      }
    });
  }

  get rowsAdded(): number {
    return this.inputRows + (this.stager?.chunks.rows ?? 0);
  }

  add(row: RawRow): void {
    const headers: Record<string, string> = {};
    for (const name of Object.keys(row.headers)) headers[name] = row.headers[name].toString('utf8');
    const lineage =
      `{"_partition":${row.partition},"_offset":${row.offset},"_timestamp":${JSON.stringify(row.timestamp)}` +
      `,"_schema_id":${row.schemaId},"_trace_id":${JSON.stringify(traceIdOf(row.headers.traceparent))}` +
      `,"_key":${row.key ? JSON.stringify(row.key.toString('base64')) : 'null'},"_headers":${JSON.stringify(headers)}`;
    const value = JSON.stringify(row.value, this.valueReplacer);
    const line = value.length > 2 ? `${lineage},${value.slice(1)}\n` : `${lineage}}\n`;
    this.pending.push(line);
    this.pendingBytes += line.length;
    this.stagedBytes += line.length;
    this.inputRows++;
    if (this.pendingBytes >= FLUSH_BYTES) this.flush();
  }

  /**
   * Adds the rows of an earlier curated file (when its raw segments have expired); columns the
   * current schema no longer has are dropped, new ones are null. Returns its row count.
   */
  async addParquet(body: Uint8Array, rows: number): Promise<number> {
    const path = join(this.dir, `carried-${this.carried.length}.parquet`);
    await writeFile(path, body);
    this.carried.push({ path, rows });
    return rows;
  }

  private flush(): void {
    if (this.pending.length === 0) return;
    if (!this.chunk) {
      const path = join(this.dir, `rows-${this.chunks++}.ndjson`);
      this.chunk = { path, fd: openSync(path, 'w'), bytes: 0 };
    }
    writeSync(this.chunk.fd, this.pending.join(''));
    this.chunk.bytes += this.pendingBytes;
    this.pending = [];
    this.pendingBytes = 0;
    if (this.chunk.bytes >= (this.options.stagingChunkBytes ?? CHUNK_BYTES)) this.sealChunk();
  }

  /** Loads, dedups, sorts and writes the Parquet files; the result's files live until {@link dispose}. */
  async finish(): Promise<CuratedWriteResult> {
    if (this.finished) throw new Error('finish() called twice');
    this.finished = true;
    this.flush();
    this.sealChunk();
    const { instance, connection } = await this.session();
    try {
      if (this.stager) {
        this.stager.chunks.flush();
        this.stager.appender.closeSync();
        this.inputRows += this.stager.chunks.rows;
        this.stager = undefined;
      }
      await this.loading;
      if (this.loadError) throw this.loadError;
      return await this.writeWith(connection);
    } finally {
      connection.closeSync();
      instance.closeSync();
    }
  }

  private async writeWith(db: DuckDBConnection): Promise<CuratedWriteResult> {
    const { eventTimeField, dedupField, targetFileBytes, runId } = this.options;
    if (this.carried.length > 0) {
      const files = `[${this.carried.map((c) => sqlString(c.path)).join(', ')}]`;
      const described = await db.runAndReadAll(`DESCRIBE SELECT * FROM read_parquet(${files}, union_by_name = true)`);
      const present = new Set((described.getRows() as [string][]).map(([name]) => name));
      const shared = [...this.columns.map((c) => c.name), ...LINEAGE_COLUMNS.map((c) => c.name)].filter((n) => present.has(n));
      const names = shared.map(ident).join(', ');
      await db.run(`INSERT INTO staged (${names}) SELECT ${names} FROM read_parquet(${files}, union_by_name = true)`);
    }
    const expectedStaged = this.inputRows + this.carried.reduce((n, c) => n + c.rows, 0);
    const hasDedupField = this.columns.some((c) => c.name === dedupField);
    const identity = hasDedupField ? ident(dedupField) : `("_partition"::VARCHAR || ':' || "_offset"::VARCHAR)`;
    const counts = await db.runAndReadAll(`SELECT count(*)::BIGINT AS n, count(DISTINCT ${identity})::BIGINT AS d FROM staged`);
    const [[stagedRows, distinctRows]] = counts.getRows() as [[bigint, bigint]];
    if (Number(stagedRows) !== expectedStaged) {
      throw new Error(`staged ${stagedRows} rows, expected ${expectedStaged}: the staging lost rows`);
    }
    const outDir = join(this.dir, 'out');
    // DuckDB rolls files over between row groups: size the groups so a file can stop near the target.
    // Zstd Parquet of our events is roughly a tenth of their JSON (measured); row groups stay within
    // DuckDB's vector multiple (2048) and its default (122880).
    // Deflate/zstd Avro, when that is what was staged, comes out at about the size of the zstd Parquet.
    const estimatedBytes = this.chunkPlan ? this.sourceBytes : this.stagedBytes / 10;
    const parquetBytesPerRow = Math.max(1, estimatedBytes / Math.max(1, this.inputRows));
    const rowGroupRows = Math.min(122_880, Math.max(2048, Math.floor(targetFileBytes / parquetBytesPerRow / 4 / 2048) * 2048));
    const started = performance.now();
    await db.run(
      // Dedup ranks only the ids that occur more than once (a hash aggregate finds them): cheaper than
      // a window over every row when duplicates are a few percent, which they are.
      `COPY (SELECT * FROM staged WHERE rowid NOT IN (SELECT rowid FROM (` +
        `SELECT rowid, row_number() OVER (PARTITION BY ${identity} ORDER BY "_partition", "_offset") AS rank FROM staged ` +
        `WHERE ${identity} IN (SELECT ${identity} FROM staged GROUP BY ALL HAVING count(*) > 1)) WHERE rank > 1) ` +
        `ORDER BY ${ident(eventTimeField)}, "_partition", "_offset") TO ${sqlString(outDir)} ` +
        `(FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE ${rowGroupRows}, FILE_SIZE_BYTES ${Math.max(1, Math.floor(targetFileBytes))}, ` +
        `FILENAME_PATTERN ${sqlString(`part-${runId}-{i}`)}${this.options.fieldIds ? `, FIELD_IDS ${this.options.fieldIds}` : ''})`,
    );
    const copyMillis = performance.now() - started;
    const names = readdirSync(outDir)
      .filter((n) => n.endsWith('.parquet'))
      .sort((a, b) => fileIndex(a) - fileIndex(b));
    const stats = new Map<string, { rows: number; min: string | null; max: string | null }>();
    if (names.length > 0) {
      const reader = await db.runAndReadAll(
        // The file name column gets a name no event field has (a topic may well have a `filename` field).
        `SELECT parse_filename("__compaction_file") AS name, count(*)::BIGINT AS rows, ` +
          `strftime(min(${ident(eventTimeField)})::TIMESTAMP, '%Y-%m-%dT%H:%M:%S.%gZ') AS min_t, ` +
          `strftime(max(${ident(eventTimeField)})::TIMESTAMP, '%Y-%m-%dT%H:%M:%S.%gZ') AS max_t ` +
          `FROM read_parquet(${sqlString(join(outDir, '*.parquet'))}, filename = '__compaction_file') GROUP BY ALL`,
      );
      for (const [name, rows, min, max] of reader.getRows() as [string, bigint, string | null, string | null][]) {
        stats.set(name, { rows: Number(rows), min, max });
      }
    }
    const files = names.map((name) => {
      const path = join(outDir, name);
      const s = stats.get(name) ?? { rows: 0, min: null, max: null };
      return { path, name, rows: s.rows, bytes: statSync(path).size, minEventTime: s.min, maxEventTime: s.max };
    });
    return { inputRows: expectedStaged, distinctRows: Number(distinctRows), files, copyMillis };
  }

  /** Removes the staging file and the written files. */
  dispose(): void {
    if (!this.finished) {
      this.finished = true;
      if (this.chunk) closeSync(this.chunk.fd);
      this.chunk = undefined;
      // A run that failed mid-decode: the appender goes before its connection, its rows discarded.
      const stager = this.stager;
      this.stager = undefined;
      try {
        stager?.appender.clear();
        stager?.appender.closeSync();
      } catch {
        // closing is all that is left to do with it
      }
      // A session opened for loads that never finished: close it once they settle.
      void this.loading.then(async () => {
        const db = await this.db?.catch(() => undefined);
        db?.connection.closeSync();
        db?.instance.closeSync();
      });
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

function fileIndex(name: string): number {
  const match = /-(\d+)\.parquet$/.exec(name);
  return match ? Number(match[1]) : 0;
}
