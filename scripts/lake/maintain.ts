// npm run lake:maintain — maintenance of the lake's Iceberg tables (LAKE_TABLE_FORMAT=iceberg): merges
// the current snapshot's small manifests, expires snapshots older than LAKE_ICEBERG_SNAPSHOT_RETENTION,
// caps the metadata log and deletes files no retained snapshot references (and orphans older than
// LAKE_ICEBERG_ORPHAN_GRACE). Never touches a file a live snapshot can read.
//   --topic <t>   only this table (repeatable as a comma list); default: every catalog topic that has one
//   --dry-run     say what would be deleted, change nothing
import { allTopics } from '@app/contracts';
import { maintainTable } from '@app/iceberg';
import { curatedTableRef, icebergCatalogFor, loadCompactionSettings, loadIcebergMaintenanceSettings } from '@app/lake';
import { fail, formatTable, openLake, parseArgs } from './lake-cli';

async function main(): Promise<void> {
  const { options } = parseArgs(process.argv.slice(2), ['dry-run']);
  const { store, lakeUrl } = openLake('lake-maintain');
  const settings = loadIcebergMaintenanceSettings(process.env);
  // The same catalog compaction commits to (LAKE_ICEBERG_CATALOG: file-system layout or Glue).
  const catalog = icebergCatalogFor(store, loadCompactionSettings(process.env));
  const named = typeof options.topic === 'string' ? options.topic.split(',').map((t) => t.trim()).filter(Boolean) : undefined;
  const dryRun = options['dry-run'] === true;
  console.error(`maintaining Iceberg tables in ${lakeUrl}${dryRun ? ' (dry run)' : ''}`);
  const rows: unknown[][] = [];
  for (const topic of named ?? allTopics.map((t) => t.name)) {
    const table = curatedTableRef(topic);
    if (!(await catalog.load(table))) {
      if (named) console.error(`${topic}: no Iceberg table at ${lakeUrl}${table.prefix}/ (is LAKE_TABLE_FORMAT=iceberg set for it, and an hour compacted?)`);
      continue;
    }
    const r = await maintainTable(store, catalog, table, {
      retainMs: settings.snapshotRetentionMs,
      retainLast: settings.retainLast,
      orphanGraceMs: settings.orphanGraceMs,
      mergeManifestsMin: settings.mergeManifestsMin,
      maxMetadataLog: settings.metadataLogMax,
      dryRun,
    });
    rows.push([topic, r.mergedManifests, r.expiredSnapshots, r.retainedSnapshots, r.deletedDataFiles, r.deletedManifests + r.deletedManifestLists, r.deletedMetadataFiles, r.deletedOrphans]);
    if (dryRun) for (const key of r.deletedKeys) console.log(`would delete ${key}`);
  }
  if (rows.length === 0) {
    console.log('No Iceberg tables found: set LAKE_TABLE_FORMAT=iceberg (README, "Iceberg tables") and compact an hour first.');
    return;
  }
  console.log(formatTable(['table', 'merged manifests', 'expired snapshots', 'snapshots left', 'data files deleted', 'manifests deleted', 'metadata deleted', 'orphans deleted'], rows));
}

main().catch((err) => fail('lake:maintain', err, process.env.LAKE_URL));
