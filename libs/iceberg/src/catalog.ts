/**
 * Catalogs: where a table's current metadata file is recorded, and the atomic swap a commit is.
 * The file-system catalog keeps `metadata/vN.metadata.json` + `version-hint.text` under the table
 * location (what DuckDB, Spark's Hadoop catalog and pyiceberg's StaticTable read from a path); each
 * new version is created with `If-None-Match`, so of two writers racing for vN+1 exactly one wins and
 * the other reloads and retries.
 */
import { ObjectExistsError, ObjectNotFoundError, type ObjectStore } from '@app/object-store';
import { parseTableMetadata, serializeTableMetadata, type TableMetadata } from './table-metadata';

export interface LoadedTable {
  metadata: TableMetadata;
  /** Full URI of the metadata file read. */
  metadataLocation: string;
  /** Catalog-specific version the commit checks against (a file version, or Glue's VersionId). */
  version: string;
}

/** Another writer committed first: reload and try again. */
export class CommitConflictError extends Error {
  readonly retriable = true;
  constructor(message: string) {
    super(message);
    this.name = 'CommitConflictError';
  }
}

export interface IcebergCatalog {
  /** The table's current metadata, or undefined when the table does not exist yet. */
  load(table: TableRef): Promise<LoadedTable | undefined>;
  /**
   * Writes `next` as the table's new current metadata if `base` is still current (undefined: the
   * table must not exist yet); otherwise throws {@link CommitConflictError}. Returns the new load.
   */
  commit(table: TableRef, base: LoadedTable | undefined, next: TableMetadata): Promise<LoadedTable>;
}

/** A table: its name (for catalogs with names) and its folder relative to the object store's root. */
export interface TableRef {
  namespace: string;
  name: string;
  /** Key prefix of the table location without trailing slash, e.g. `curated/orders.order-placed.v1`. */
  prefix: string;
}

/** The table location as a URI readers resolve (`s3://bucket/curated/<topic>`, `file:///...`). */
export function tableLocation(store: ObjectStore, table: TableRef): string {
  return store.url.replace(/\/?$/, '/') + table.prefix;
}

/** Store key of a URI under the store's root (the inverse of {@link tableLocation}). */
export function keyOfUri(store: ObjectStore, uri: string): string {
  const root = store.url.replace(/\/?$/, '/');
  if (!uri.startsWith(root)) throw new Error(`${uri} is not under the lake root ${root}`);
  return uri.slice(root.length);
}

const VERSION_FILE = /\/v(\d+)\.metadata\.json$/;

export class FileSystemCatalog implements IcebergCatalog {
  constructor(private readonly store: ObjectStore) {}

  private metadataKey(table: TableRef, version: number): string {
    return `${table.prefix}/metadata/v${version}.metadata.json`;
  }

  /** The newest version: the hint, then forward while newer files exist (a writer may die before updating the hint). */
  private async currentVersion(table: TableRef): Promise<number | undefined> {
    let version: number | undefined;
    try {
      const hint = Number((await this.store.get(`${table.prefix}/metadata/version-hint.text`)).toString('utf8').trim());
      if (Number.isInteger(hint) && hint > 0) version = hint;
    } catch (err) {
      if (!(err instanceof ObjectNotFoundError)) throw err;
    }
    if (version === undefined) {
      const versions = (await this.store.list(`${table.prefix}/metadata/`))
        .map((o) => VERSION_FILE.exec(o.key))
        .filter((m): m is RegExpExecArray => m !== null)
        .map((m) => Number(m[1]));
      if (versions.length === 0) return undefined;
      version = Math.max(...versions);
    }
    while (await this.store.head(this.metadataKey(table, version + 1))) version++;
    return version;
  }

  async load(table: TableRef): Promise<LoadedTable | undefined> {
    const version = await this.currentVersion(table);
    if (version === undefined) return undefined;
    const key = this.metadataKey(table, version);
    const metadata = parseTableMetadata((await this.store.get(key)).toString('utf8'));
    return { metadata, metadataLocation: tableLocation(this.store, table) + `/metadata/v${version}.metadata.json`, version: String(version) };
  }

  async commit(table: TableRef, base: LoadedTable | undefined, next: TableMetadata): Promise<LoadedTable> {
    const version = base ? Number(base.version) + 1 : 1;
    const key = this.metadataKey(table, version);
    try {
      await this.store.put(key, Buffer.from(serializeTableMetadata(next)), { contentType: 'application/json', ifNoneMatch: true });
    } catch (err) {
      if (err instanceof ObjectExistsError) throw new CommitConflictError(`${key} was created by another writer`);
      throw err;
    }
    // The hint only speeds up loads; readers and writers probe past a stale one.
    await this.store.put(`${table.prefix}/metadata/version-hint.text`, Buffer.from(String(version)), { contentType: 'text/plain' });
    return { metadata: next, metadataLocation: tableLocation(this.store, table) + `/metadata/v${version}.metadata.json`, version: String(version) };
  }
}
