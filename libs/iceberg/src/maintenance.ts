/**
 * Table maintenance (`npm run lake:maintain`): merge the current snapshot's small manifests (one per
 * committed hour) into one, expire snapshots older than a retention, cap the metadata log, and
 * delete what no live snapshot references: data files, manifests and manifest lists of expired
 * snapshots, metadata files that fell off the log, and orphans (files under the table no metadata
 * names, e.g. of a crashed compaction) older than a grace period. Files any retained snapshot can
 * read are never deleted.
 */
import { randomUUID } from 'node:crypto';
import type { ObjectStore } from '@app/object-store';
import { CommitConflictError, keyOfUri, tableLocation, type IcebergCatalog, type LoadedTable, type TableRef } from './catalog';
import { DELETED, EXISTING, decodeManifest, decodeManifestList, encodeManifest, encodeManifestList, type ManifestEntry, type ManifestFile } from './manifests';
import { summarizeManifest } from './table';
import { currentSchema, currentSnapshot, defaultSpec, newSnapshotId, withSnapshot, DEFAULT_PREVIOUS_VERSIONS_MAX, type Snapshot, type TableMetadata } from './table-metadata';

export interface MaintenanceOptions {
  /** Snapshots younger than this stay (time travel window). */
  retainMs: number;
  /** The newest this many snapshots stay whatever their age (at least 1: the current one always stays). */
  retainLast?: number;
  /** Files no metadata names are deleted only once older than this (a running compaction's are not committed yet). */
  orphanGraceMs: number;
  /** Merge the current snapshot's manifests into one when it has at least this many (0: never). */
  mergeManifestsMin?: number;
  /** Metadata files kept in the log (default: the table's `write.metadata.previous-versions-max`, else 50). */
  maxMetadataLog?: number;
  now?: () => number;
  dryRun?: boolean;
}

export interface MaintenanceResult {
  mergedManifests: number;
  expiredSnapshots: number;
  retainedSnapshots: number;
  deletedDataFiles: number;
  deletedManifests: number;
  deletedManifestLists: number;
  deletedMetadataFiles: number;
  deletedOrphans: number;
  /** Every key deleted (or that would be, on a dry run). */
  deletedKeys: string[];
}

export async function maintainTable(store: ObjectStore, catalog: IcebergCatalog, table: TableRef, options: MaintenanceOptions): Promise<MaintenanceResult> {
  const now = options.now ?? Date.now;
  const result: MaintenanceResult = {
    mergedManifests: 0,
    expiredSnapshots: 0,
    retainedSnapshots: 0,
    deletedDataFiles: 0,
    deletedManifests: 0,
    deletedManifestLists: 0,
    deletedMetadataFiles: 0,
    deletedOrphans: 0,
    deletedKeys: [],
  };
  let loaded = await catalog.load(table);
  if (!loaded) return result;
  const uriOf = (key: string) => tableLocation(store, { ...table, prefix: key });
  const keyOf = (uri: string) => keyOfUri(store, uri);

  if ((options.mergeManifestsMin ?? 0) > 1 && !options.dryRun) {
    const merged = await commitWithRetry(catalog, table, loaded, (base) => mergeManifests(store, catalog, table, base, options.mergeManifestsMin!, now(), uriOf, keyOf));
    if (merged) {
      result.mergedManifests = merged.merged;
      loaded = merged.loaded;
    }
  }

  // Expire: build the new metadata from the newest state, commit it optimistically.
  let expired: Snapshot[] = [];
  const committed = await commitWithRetry(catalog, table, loaded, async (base) => {
    const metadata = base.metadata;
    const keep = retainedSnapshotIds(metadata, options.retainMs, options.retainLast ?? 1, now());
    expired = metadata.snapshots.filter((s) => !keep.has(s['snapshot-id']));
    const max = options.maxMetadataLog ?? Number(metadata.properties['write.metadata.previous-versions-max'] ?? DEFAULT_PREVIOUS_VERSIONS_MAX);
    const log = [...metadata['metadata-log'], { 'timestamp-ms': metadata['last-updated-ms'], 'metadata-file': base.metadataLocation }];
    if (expired.length === 0 && metadata['metadata-log'].length <= max) return undefined;
    const next: TableMetadata = {
      ...metadata,
      'last-updated-ms': now(),
      snapshots: metadata.snapshots.filter((s) => keep.has(s['snapshot-id'])),
      'snapshot-log': metadata['snapshot-log'].filter((e) => keep.has(e['snapshot-id'])),
      'metadata-log': log.slice(Math.max(0, log.length - max)),
    };
    if (options.dryRun) return { loaded: base, merged: 0 };
    return { loaded: await catalog.commit(table, base, next), merged: 0 };
  });
  if (committed) loaded = committed.loaded;
  result.expiredSnapshots = expired.length;
  result.retainedSnapshots = loaded.metadata.snapshots.length - (options.dryRun ? expired.length : 0);

  // What the retained snapshots reference.
  const retained = loaded.metadata.snapshots.filter((s) => !expired.some((e) => e['snapshot-id'] === s['snapshot-id']));
  const liveLists = new Set<string>();
  const liveManifests = new Set<string>();
  const liveData = new Set<string>();
  const manifestCache = new Map<string, ManifestEntry[]>();
  const entriesOf = async (m: ManifestFile) => {
    let entries = manifestCache.get(m.manifestPath);
    if (!entries) {
      entries = decodeManifest(await store.get(keyOf(m.manifestPath)), m);
      manifestCache.set(m.manifestPath, entries);
    }
    return entries;
  };
  for (const snapshot of retained) {
    liveLists.add(keyOf(snapshot['manifest-list']));
    for (const m of decodeManifestList(await store.get(keyOf(snapshot['manifest-list'])))) {
      liveManifests.add(keyOf(m.manifestPath));
      for (const e of await entriesOf(m)) if (e.status !== DELETED) liveData.add(keyOf(e.file.filePath));
    }
  }

  // Files of expired snapshots no retained one needs.
  const doomed = new Set<string>();
  for (const snapshot of expired) {
    const listKey = keyOf(snapshot['manifest-list']);
    if (!liveLists.has(listKey)) {
      doomed.add(listKey);
      result.deletedManifestLists++;
    }
    let manifests: ManifestFile[] = [];
    try {
      manifests = decodeManifestList(await store.get(listKey));
    } catch {
      continue; // already gone (an earlier, interrupted run)
    }
    for (const m of manifests) {
      const key = keyOf(m.manifestPath);
      if (!liveManifests.has(key) && !doomed.has(key)) {
        doomed.add(key);
        result.deletedManifests++;
      }
      let entries: ManifestEntry[] = [];
      try {
        entries = await entriesOf(m);
      } catch {
        continue;
      }
      for (const e of entries) {
        const dataKey = keyOf(e.file.filePath);
        if (!liveData.has(dataKey) && !doomed.has(dataKey)) {
          doomed.add(dataKey);
          result.deletedDataFiles++;
        }
      }
    }
  }

  // Metadata files off the log, and orphans past the grace period.
  const current = keyOf(loaded.metadataLocation);
  const logged = new Set([current, ...loaded.metadata['metadata-log'].map((e) => keyOf(e['metadata-file']))]);
  const cutoff = now() - options.orphanGraceMs;
  for (const object of await store.list(`${table.prefix}/`)) {
    const key = object.key;
    if (doomed.has(key) || liveLists.has(key) || liveManifests.has(key) || liveData.has(key)) continue;
    const modified = object.lastModified?.getTime() ?? now();
    if (/\/metadata\/v\d+\.metadata\.json$/.test(key)) {
      if (!logged.has(key) && versionOf(key) < versionOf(current)) {
        doomed.add(key);
        result.deletedMetadataFiles++;
      }
    } else if ((key.endsWith('.parquet') || (key.includes('/metadata/') && key.endsWith('.avro'))) && modified < cutoff) {
      doomed.add(key);
      result.deletedOrphans++;
    }
  }
  result.deletedKeys = [...doomed];
  if (!options.dryRun && doomed.size > 0) await store.delete([...doomed]);
  return result;
}

function versionOf(key: string): number {
  return Number(/\/v(\d+)\.metadata\.json$/.exec(key)?.[1] ?? Infinity);
}

/** Current snapshot, every ref's, the newest `retainLast` and those younger than the retention. */
function retainedSnapshotIds(metadata: TableMetadata, retainMs: number, retainLast: number, now: number): Set<bigint> {
  const keep = new Set<bigint>();
  if (metadata['current-snapshot-id'] !== null) keep.add(metadata['current-snapshot-id']);
  for (const ref of Object.values(metadata.refs)) keep.add(ref['snapshot-id']);
  const newest = [...metadata.snapshots].sort((a, b) => b['timestamp-ms'] - a['timestamp-ms'] || (b['sequence-number'] > a['sequence-number'] ? 1 : -1));
  for (const s of newest.slice(0, Math.max(1, retainLast))) keep.add(s['snapshot-id']);
  for (const s of metadata.snapshots) if (s['timestamp-ms'] >= now - retainMs) keep.add(s['snapshot-id']);
  return keep;
}

async function commitWithRetry<T>(
  catalog: IcebergCatalog,
  table: TableRef,
  first: LoadedTable,
  attempt: (base: LoadedTable) => Promise<T | undefined>,
): Promise<T | undefined> {
  let base = first;
  for (let n = 1; ; n++) {
    try {
      return await attempt(base);
    } catch (err) {
      if (!(err instanceof CommitConflictError) || n >= 8) throw err;
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 100 * 2 ** n));
      const reloaded = await catalog.load(table);
      if (!reloaded) throw err;
      base = reloaded;
    }
  }
}

/** A `replace` snapshot whose manifest list holds one manifest with every live file of the current one. */
async function mergeManifests(
  store: ObjectStore,
  catalog: IcebergCatalog,
  table: TableRef,
  base: LoadedTable,
  min: number,
  now: number,
  uriOf: (key: string) => string,
  keyOf: (uri: string) => string,
): Promise<{ loaded: LoadedTable; merged: number } | undefined> {
  const metadata = base.metadata;
  const parent = currentSnapshot(metadata);
  if (!parent) return undefined;
  const manifests = decodeManifestList(await store.get(keyOf(parent['manifest-list'])));
  if (manifests.length < min) return undefined;
  const spec = defaultSpec(metadata);
  if (manifests.some((m) => m.partitionSpecId !== spec['spec-id'] || m.content !== 0)) return undefined;
  const entries: ManifestEntry[] = [];
  for (const m of manifests) {
    for (const e of decodeManifest(await store.get(keyOf(m.manifestPath)), m)) if (e.status !== DELETED) entries.push({ ...e, status: EXISTING });
  }
  const snapshotId = newSnapshotId();
  const sequenceNumber = metadata['last-sequence-number'] + 1n;
  const dir = `${table.prefix}/metadata`;
  const manifestKey = `${dir}/${randomUUID()}-m0.avro`;
  const body = encodeManifest(entries, currentSchema(metadata), spec);
  await store.put(manifestKey, body, { contentType: 'application/avro' });
  const merged = summarizeManifest(uriOf(manifestKey), BigInt(body.length), entries, spec, snapshotId, sequenceNumber);
  const listKey = `${dir}/snap-${snapshotId}-1-${randomUUID()}.avro`;
  await store.put(listKey, encodeManifestList([merged], { snapshotId, parentSnapshotId: parent['snapshot-id'], sequenceNumber }), { contentType: 'application/avro' });
  const keepTotals = Object.fromEntries(Object.entries(parent.summary).filter(([k]) => k.startsWith('total-')));
  const snapshot: Snapshot = {
    'snapshot-id': snapshotId,
    'parent-snapshot-id': parent['snapshot-id'],
    'sequence-number': sequenceNumber,
    'timestamp-ms': now,
    'manifest-list': uriOf(listKey),
    summary: { operation: 'replace', 'manifests-replaced': String(manifests.length), 'manifests-created': '1', 'manifests-kept': '0', ...keepTotals },
    'schema-id': metadata['current-schema-id'],
  };
  const loaded = await catalog.commit(table, base, withSnapshot(metadata, snapshot, base.metadataLocation));
  return { loaded, merged: manifests.length };
}
