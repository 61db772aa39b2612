import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createObjectStore, type ObjectStore } from '@app/object-store';
import { FileSystemCatalog, keyOfUri } from './catalog';
import { maintainTable } from './maintenance';
import { DELETED, decodeManifest, decodeManifestList, type DataFile } from './manifests';
import { unassignedField } from './schema';
import { hourOrdinal, IcebergTable, prepareSchema } from './table';
import { parseTableMetadata } from './table-metadata';

const ref = { namespace: 'curated', name: 't', prefix: 'curated/t' };
const fields = [unassignedField('eventId', 'string'), unassignedField('occurredAt', 'timestamptz')];

let dir: string;
let store: ObjectStore;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'iceberg-table-'));
  store = createObjectStore(pathToFileURL(dir).toString() + '/', {} as never);
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const clock = 1_800_000_000_000;
function table(now = () => clock) {
  return new IcebergTable({ store, catalog: new FileSystemCatalog(store), table: ref, partitionSource: 'occurredAt', now });
}
function file(name: string, rows = 10): DataFile {
  return { filePath: `${store.url}curated/t/${name}.parquet`, partition: {}, recordCount: BigInt(rows), fileSizeInBytes: 100n };
}
async function liveFiles(): Promise<string[]> {
  const loaded = (await new FileSystemCatalog(store).load(ref))!;
  const snapshot = loaded.metadata.snapshots.find((s) => s['snapshot-id'] === loaded.metadata['current-snapshot-id'])!;
  const out: string[] = [];
  for (const m of decodeManifestList(await store.get(keyOfUri(store, snapshot['manifest-list'])))) {
    for (const e of decodeManifest(await store.get(keyOfUri(store, m.manifestPath)), m)) if (e.status !== DELETED) out.push(e.file.filePath.split('/').pop()!);
  }
  return out.sort();
}

describe('IcebergTable commits', () => {
  it('appends new hours and overwrites a re-compacted hour in one snapshot', async () => {
    const schema = prepareSchema(undefined, fields);
    await table().commitHour({ hour: '2026-11-28T05', files: [file('a1')], schema });
    await table().commitHour({ hour: '2026-11-28T06', files: [file('b1'), file('b2')], schema });
    const result = await table().commitHour({ hour: '2026-11-28T05', files: [file('a2', 12)], schema });
    expect(result).toMatchObject({ operation: 'overwrite', addedFiles: 1, deletedFiles: 1 });
    expect(await liveFiles()).toEqual(['a2.parquet', 'b1.parquet', 'b2.parquet']);
    const metadata = parseTableMetadata((await store.get('curated/t/metadata/v3.metadata.json')).toString());
    expect(metadata.snapshots.map((s) => s.summary.operation)).toEqual(['append', 'append', 'overwrite']);
    expect(metadata.snapshots[2].summary).toMatchObject({ 'total-records': '32', 'total-data-files': '3', 'deleted-records': '10', 'added-records': '12' });
    expect(metadata['metadata-log'].map((e) => e['metadata-file'].split('/').pop())).toEqual(['v1.metadata.json', 'v2.metadata.json']);
    expect((await store.get('curated/t/metadata/version-hint.text')).toString()).toBe('3');
    expect(hourOrdinal('2026-11-28T05')).toBe(Date.parse('2026-11-28T05:00:00Z') / 3_600_000);
  });

  it('serializes concurrent writers of different hours through If-None-Match: both commits land, one retried', async () => {
    const schema = prepareSchema(undefined, fields);
    await table().commitHour({ hour: '2026-11-28T04', files: [file('z')], schema });
    const results = await Promise.all(
      ['2026-11-28T05', '2026-11-28T06', '2026-11-28T07'].map((hour, i) => table().commitHour({ hour, files: [file(`h${i}`)], schema })),
    );
    expect(results.map((r) => r.operation)).toEqual(['append', 'append', 'append']);
    expect(Math.max(...results.map((r) => r.attempts))).toBeGreaterThan(1);
    expect(await liveFiles()).toEqual(['h0.parquet', 'h1.parquet', 'h2.parquet', 'z.parquet']);
    const metadata = (await new FileSystemCatalog(store).load(ref))!.metadata;
    expect(metadata.snapshots).toHaveLength(4);
    expect(metadata['last-sequence-number']).toBe(4n);
  });

  it('refuses files written with ids that a concurrent schema change gave to another field', async () => {
    const base = prepareSchema(undefined, fields);
    await table().commitHour({ hour: '2026-11-28T04', files: [file('z')], schema: base });
    const loaded = (await new FileSystemCatalog(store).load(ref))!;
    const mine = prepareSchema(loaded.metadata, [...fields, unassignedField('a', 'string')]);
    const theirs = prepareSchema(loaded.metadata, [...fields, unassignedField('b', 'string')]);
    await table().commitHour({ hour: '2026-11-28T05', files: [file('x')], schema: theirs });
    await expect(table().commitHour({ hour: '2026-11-28T06', files: [file('y')], schema: mine })).rejects.toThrow(/schema changed/);
  });
});

describe('maintainTable', () => {
  it('merges manifests, expires old snapshots, removes their files and orphans, keeps everything live', async () => {
    const schema = prepareSchema(undefined, fields);
    for (const [i, hour] of ['2026-11-28T01', '2026-11-28T02', '2026-11-28T03'].entries()) {
      await store.put(`curated/t/${hour}.parquet`, Buffer.from('x'));
      await table(() => clock + i).commitHour({ hour, files: [file(hour)], schema });
    }
    // Re-compaction of hour 01: its first file is only in older snapshots now.
    await store.put('curated/t/01-again.parquet', Buffer.from('x'));
    await table(() => clock + 10).commitHour({ hour: '2026-11-28T01', files: [file('01-again')], schema });
    await store.put('curated/t/crashed-run.parquet', Buffer.from('x'));
    await store.put('curated/t/dt=2026-11-28/hour=01/_manifest.json', Buffer.from('{}'));

    const result = await maintainTable(store, new FileSystemCatalog(store), ref, { retainMs: 0, retainLast: 1, orphanGraceMs: 0, mergeManifestsMin: 2, now: () => clock + 1_000 });
    // Hours 01, 02, 03, the re-compacted 01, and the delete-only manifest of the overwrite.
    expect(result.mergedManifests).toBe(4);
    expect(result.expiredSnapshots).toBe(4);
    expect(result.deletedDataFiles).toBe(1);
    expect(result.deletedOrphans).toBe(1);
    expect(result.deletedKeys).toEqual(expect.arrayContaining(['curated/t/2026-11-28T01.parquet', 'curated/t/crashed-run.parquet']));
    expect(await liveFiles()).toEqual(['01-again.parquet', '2026-11-28T02.parquet', '2026-11-28T03.parquet']);
    for (const name of await liveFiles()) expect(await store.head(`curated/t/${name}`)).toBeDefined();
    expect(await store.head('curated/t/dt=2026-11-28/hour=01/_manifest.json')).toBeDefined();
    const loaded = (await new FileSystemCatalog(store).load(ref))!;
    expect(loaded.metadata.snapshots).toHaveLength(1);
    expect(loaded.metadata.snapshots[0].summary.operation).toBe('replace');
    const listed = decodeManifestList(await store.get(keyOfUri(store, loaded.metadata.snapshots[0]['manifest-list'])));
    expect(listed).toHaveLength(1);
    // A second run has nothing left to do.
    const again = await maintainTable(store, new FileSystemCatalog(store), ref, { retainMs: 0, retainLast: 1, orphanGraceMs: 0, now: () => clock + 2_000 });
    expect(again).toMatchObject({ expiredSnapshots: 0, deletedDataFiles: 0, deletedOrphans: 0, deletedManifests: 0 });
  });

  it('keeps snapshots inside the retention and caps the metadata log', async () => {
    const schema = prepareSchema(undefined, fields);
    for (const [i, hour] of ['2026-11-28T01', '2026-11-28T02', '2026-11-28T03'].entries()) {
      await table(() => clock + i * 60_000).commitHour({ hour, files: [file(hour)], schema });
    }
    const result = await maintainTable(store, new FileSystemCatalog(store), ref, { retainMs: 90_000, orphanGraceMs: 3_600_000, maxMetadataLog: 1, now: () => clock + 120_000 + 1 });
    expect(result.expiredSnapshots).toBe(1);
    const loaded = (await new FileSystemCatalog(store).load(ref))!;
    expect(loaded.metadata.snapshots).toHaveLength(2);
    expect(loaded.metadata['metadata-log']).toHaveLength(1);
    expect(result.deletedMetadataFiles).toBe(2);
  });
});
