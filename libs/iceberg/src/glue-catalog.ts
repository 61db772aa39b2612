/**
 * The AWS Glue Data Catalog as an Iceberg catalog (what Athena reads): the Glue table carries
 * `table_type=ICEBERG` and `metadata_location`; a commit writes a new metadata file (If-None-Match),
 * then swaps the pointer with UpdateTable guarded twice: the table's `metadata_location` must still
 * be the base's, and Glue's `VersionId` must still be the one read (Glue rejects a stale one with
 * ConcurrentModificationException). A lost race deletes its metadata file and reloads.
 */
import { randomUUID } from 'node:crypto';
import {
  AlreadyExistsException,
  ConcurrentModificationException,
  CreateDatabaseCommand,
  CreateTableCommand,
  EntityNotFoundException,
  GetTableCommand,
  UpdateTableCommand,
  type GlueClient,
  type TableInput,
} from '@aws-sdk/client-glue';
import { ObjectExistsError, type ObjectStore } from '@app/object-store';
import { CommitConflictError, keyOfUri, tableLocation, type IcebergCatalog, type LoadedTable, type TableRef } from './catalog';
import type { IcebergType } from './schema';
import { currentSchema, parseTableMetadata, serializeTableMetadata, type TableMetadata } from './table-metadata';

/** Glue names are lower case letters, digits and underscores: `orders.order-placed.v1` → `orders_order_placed_v1`. */
export function glueName(name: string): string {
  return name.toLowerCase().replace(/[^a-z0-9_]/g, '_');
}

/** Hive type of an Iceberg type, for the Glue columns consoles show (readers use the Iceberg metadata). */
export function hiveType(type: IcebergType): string {
  if (typeof type === 'string') {
    if (type === 'long') return 'bigint';
    if (type === 'timestamptz') return 'timestamp';
    if (type.startsWith('decimal')) return type.replace(/ /g, '');
    return type;
  }
  if (type.type === 'struct') return `struct<${type.fields.map((f) => `${f.name}:${hiveType(f.type)}`).join(',')}>`;
  if (type.type === 'list') return `array<${hiveType(type.element)}>`;
  return `map<${hiveType(type.key)},${hiveType(type.value)}>`;
}

/**
 * Check-and-swap sections per Glue table within this process. Across processes Glue's VersionId guards
 * the swap; moto's Glue does not enforce it, and one process running several writers (tests, a sink
 * compacting hours in parallel) must not depend on that.
 */
const swapping = new Map<string, Promise<unknown>>();
function serialized<T>(key: string, section: () => Promise<T>): Promise<T> {
  const previous = swapping.get(key) ?? Promise.resolve();
  const run = previous.then(section, section);
  const tail = run.catch(() => undefined);
  swapping.set(key, tail);
  void tail.then(() => {
    if (swapping.get(key) === tail) swapping.delete(key);
  });
  return run;
}

export class GlueCatalog implements IcebergCatalog {
  constructor(
    private readonly store: ObjectStore,
    private readonly glue: GlueClient,
    private readonly database: string,
  ) {}

  /** Creates the table; creates the database first only when it is missing (the CDK app creates it on AWS). */
  private async createTable(input: TableInput): Promise<void> {
    try {
      await this.glue.send(new CreateTableCommand({ DatabaseName: this.database, TableInput: input }));
    } catch (err) {
      if (!(err instanceof EntityNotFoundException)) throw err;
      try {
        await this.glue.send(new CreateDatabaseCommand({ DatabaseInput: { Name: this.database, Description: 'SecureCart curated lake (Iceberg tables)' } }));
      } catch (created) {
        if (!(created instanceof AlreadyExistsException)) throw created;
      }
      await this.glue.send(new CreateTableCommand({ DatabaseName: this.database, TableInput: input }));
    }
  }

  async load(table: TableRef): Promise<LoadedTable | undefined> {
    let response;
    try {
      response = await this.glue.send(new GetTableCommand({ DatabaseName: this.database, Name: glueName(table.name) }));
    } catch (err) {
      if (err instanceof EntityNotFoundException) return undefined;
      throw err;
    }
    const location = response.Table?.Parameters?.metadata_location;
    if (!location) throw new Error(`Glue table ${this.database}.${glueName(table.name)} is not an Iceberg table (no metadata_location)`);
    const metadata = parseTableMetadata((await this.store.get(keyOfUri(this.store, location))).toString('utf8'));
    return { metadata, metadataLocation: location, version: response.Table?.VersionId ?? '' };
  }

  async commit(table: TableRef, base: LoadedTable | undefined, next: TableMetadata): Promise<LoadedTable> {
    const sequence = base ? Number(/\/(\d+)-[^/]+\.metadata\.json$/.exec(base.metadataLocation)?.[1] ?? 0) + 1 : 1;
    const key = `${table.prefix}/metadata/${String(sequence).padStart(5, '0')}-${randomUUID()}.metadata.json`;
    const location = tableLocation(this.store, { ...table, prefix: key });
    try {
      await this.store.put(key, Buffer.from(serializeTableMetadata(next)), { contentType: 'application/json', ifNoneMatch: true });
    } catch (err) {
      if (err instanceof ObjectExistsError) throw new CommitConflictError(`${key} exists`);
      throw err;
    }
    const input: TableInput = {
      Name: glueName(table.name),
      TableType: 'EXTERNAL_TABLE',
      Parameters: {
        table_type: 'ICEBERG',
        metadata_location: location,
        ...(base ? { previous_metadata_location: base.metadataLocation } : {}),
      },
      StorageDescriptor: {
        Location: next.location,
        Columns: currentSchema(next).fields.map((f) => ({ Name: f.name, Type: hiveType(f.type), Comment: f.doc, Parameters: { 'iceberg.field.id': String(f.id) } })),
      },
    };
    try {
      await serialized(`${this.database}.${input.Name}`, async () => {
        if (!base) return this.createTable(input);
        const current = await this.glue.send(new GetTableCommand({ DatabaseName: this.database, Name: input.Name }));
        if (current.Table?.Parameters?.metadata_location !== base.metadataLocation) {
          throw new CommitConflictError(`${this.database}.${input.Name} moved to ${current.Table?.Parameters?.metadata_location}`);
        }
        await this.glue.send(new UpdateTableCommand({ DatabaseName: this.database, TableInput: input, VersionId: base.version || undefined }));
      });
    } catch (err) {
      const lost = err instanceof CommitConflictError || err instanceof AlreadyExistsException || err instanceof ConcurrentModificationException;
      if (lost) await this.store.delete([key]);
      if (err instanceof CommitConflictError) throw err;
      if (lost) throw new CommitConflictError(`${this.database}.${input.Name}: ${(err as Error).name}`);
      throw err;
    }
    const reread = await this.glue.send(new GetTableCommand({ DatabaseName: this.database, Name: input.Name }));
    return { metadata: next, metadataLocation: location, version: reread.Table?.VersionId ?? '' };
  }
}
