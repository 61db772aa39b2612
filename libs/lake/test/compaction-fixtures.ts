/**
 * Test fixtures for compaction: raw segments written the way the landing writes them (an Avro object
 * container file of RawRecord wrappers around the event in its writer schema), and a tiny in-memory
 * ObjectStore for unit tests (e2e tests use the real stores).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as avro from 'avsc';
import { parseAvroSchema, type AvroSchema } from '@app/codec';
import { ObjectExistsError, ObjectNotFoundError, type ObjectInfo, type ObjectStore, type PutOptions, type PutResult } from '@app/object-store';

export interface FixtureRow {
  partition: number;
  offset: number;
  timestamp?: Date;
  key?: Buffer | null;
  headers?: Record<string, Buffer>;
  schemaId: number;
  value: unknown;
}

/** The RawRecord wrapper schema around one writer schema (the landing's contract). */
export function rawRecordSchema(writer: AvroSchema): avro.Schema {
  return {
    type: 'record',
    name: 'RawRecord',
    namespace: 'com.securecart.lake',
    fields: [
      { name: '_partition', type: 'int' },
      { name: '_offset', type: 'long' },
      { name: '_timestamp', type: { type: 'long', logicalType: 'timestamp-millis' } },
      { name: '_key', type: ['null', 'bytes'], default: null },
      { name: '_headers', type: { type: 'map', values: 'bytes' } },
      { name: '_schema_id', type: 'int' },
      { name: 'value', type: JSON.parse(writer.json) },
    ],
  } as unknown as avro.Schema;
}

/** One deflate Avro container file holding the rows, in the given writer schema. */
export async function encodeRawSegment(writer: AvroSchema, rows: readonly FixtureRow[]): Promise<Buffer> {
  const type = parseAvroSchema(rawRecordSchema(writer));
  const encoder = new avro.streams.BlockEncoder(type, { codec: 'deflate', blockSize: 256 * 1024 } as Partial<avro.EncoderOptions>);
  const chunks: Buffer[] = [];
  encoder.on('data', (chunk: Buffer) => chunks.push(chunk));
  const done = new Promise<void>((resolve, reject) => {
    encoder.on('end', resolve);
    encoder.on('error', reject);
  });
  for (const row of rows) {
    encoder.write({
      _partition: row.partition,
      _offset: row.offset,
      _timestamp: row.timestamp ?? new Date(0),
      _key: row.key ?? null,
      _headers: row.headers ?? {},
      _schema_id: row.schemaId,
      value: row.value,
    });
  }
  encoder.end();
  await done;
  return Buffer.concat(chunks);
}

/** A Map-backed ObjectStore with the interface's semantics (sorted listing, If-None-Match). */
export class MemoryObjectStore implements ObjectStore {
  readonly url = 'memory:///';
  readonly objects = new Map<string, { body: Buffer; lastModified: Date }>();

  async put(key: string, body: Uint8Array, options?: PutOptions): Promise<PutResult> {
    if (options?.ifNoneMatch && this.objects.has(key)) throw new ObjectExistsError(key);
    this.objects.set(key, { body: Buffer.from(body), lastModified: new Date() });
    return { serverSideEncryption: 'aws:kms' };
  }

  async get(key: string): Promise<Buffer> {
    const o = this.objects.get(key);
    if (!o) throw new ObjectNotFoundError(key);
    return o.body;
  }

  async head(key: string): Promise<ObjectInfo | undefined> {
    const o = this.objects.get(key);
    return o ? { key, size: o.body.length, lastModified: o.lastModified } : undefined;
  }

  async list(prefix: string): Promise<ObjectInfo[]> {
    return [...this.objects.entries()]
      .filter(([key]) => key.startsWith(prefix))
      .map(([key, o]) => ({ key, size: o.body.length, lastModified: o.lastModified }))
      .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  async delete(keys: readonly string[]): Promise<void> {
    for (const key of keys) this.objects.delete(key);
  }
}

/** Downloads the Parquet files a curated manifest lists into `dir`; returns their paths quoted for DuckDB's `read_parquet([...])`. */
export async function downloadCurated(store: ObjectStore, manifest: { files: Array<{ key: string }> }, dir: string): Promise<string[]> {
  const paths: string[] = [];
  for (const file of manifest.files) {
    const path = join(dir, file.key.split('/').pop()!);
    writeFileSync(path, await store.get(file.key));
    paths.push(`'${path}'`);
  }
  return paths;
}
