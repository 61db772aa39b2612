/**
 * The Glue catalog against the local stack's Glue API (moto, same endpoint as S3): hours compacted
 * through the real compaction path commit via CreateTable/UpdateTable with table_type=ICEBERG and
 * metadata_location; concurrent writers serialize; a stale base is refused and leaves no metadata
 * file behind; pyiceberg reads the table from the location Glue points at.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetTableCommand, GlueClient } from '@aws-sdk/client-glue';
import { decimal } from '@app/codec';
import { loadConfig } from '@app/config';
import { exampleEvents, topics } from '@app/contracts';
import { CommitConflictError, GlueCatalog, glueName } from '@app/iceberg';
import { compactHour, curatedTableRef, IcebergCuratedTable, icebergCatalogFor, loadCompactionSettings, rawHourPrefix } from '@app/lake';
import { createObjectStore } from '@app/object-store';
import { uniqueName } from '@app/testing';
import { encodeRawSegment } from '../../lake/test/compaction-fixtures';

const ROOT = join(__dirname, '../../..');
const config = loadConfig(process.env, { service: 'iceberg-glue-test', defaultHttpPort: 0 });

describe('Iceberg tables in the Glue catalog (moto)', () => {
  const glue = new GlueClient({ region: config.objectStore.region, endpoint: config.objectStore.endpoint, credentials: config.objectStore.credentials });
  const store = createObjectStore(`s3://${config.objectStore.bucket}/${uniqueName('glue')}/`, config.objectStore);
  const database = glueName(uniqueName('lake'));
  const topic = uniqueName('glue.order-placed');
  let tempDir: string;
  let python: string;
  beforeAll(() => {
    tempDir = mkdtempSync(join(tmpdir(), 'iceberg-glue-'));
    python = execFileSync('bash', [join(ROOT, 'infra/local/python-tools.sh')], { encoding: 'utf8' }).trim();
  }, 300_000);
  afterAll(() => {
    rmSync(tempDir, { recursive: true, force: true });
    glue.destroy();
  });

  async function landAndCompact(hour: string, ids: number[]) {
    const start = Date.parse(`${hour}:00:00Z`);
    const prefix = rawHourPrefix(topic, hour);
    const key = `${prefix}${topic}+0+${'0'.repeat(20)}.avro`;
    const rows = ids.map((i, n) => ({ partition: 0, offset: n, schemaId: 1, value: { ...exampleEvents.orderPlaced, eventId: `glue-${i}`, occurredAt: new Date(start + i), grandTotal: decimal('1.00') } }));
    await store.put(key, await encodeRawSegment(topics.orderPlaced.schema, rows));
    await store.put(`${prefix}_manifest.json`, Buffer.from(JSON.stringify({ files: [{ key, rows: rows.length }] })));
    // The catalog as the sink builds it from LAKE_ICEBERG_CATALOG=glue.
    const settings = loadCompactionSettings({ LAKE_ICEBERG_CATALOG: 'glue', LAKE_GLUE_DATABASE: database, LAKE_GLUE_ENDPOINT: config.objectStore.endpoint, AWS_REGION: config.objectStore.region });
    const table = new IcebergCuratedTable(store, topic, 'occurredAt', icebergCatalogFor(store, settings));
    return compactHour(store, topic, hour, { reader: { schema: topics.orderPlaced.schema }, workDir: tempDir, table });
  }
  const glueTable = async () => (await glue.send(new GetTableCommand({ DatabaseName: database, Name: glueName(topic) }))).Table!;

  it('creates the table on the first commit and swaps metadata_location on each later one, concurrent writers included', async () => {
    await landAndCompact('2026-11-28T01', [1, 2, 3]);
    const first = await glueTable();
    expect(first.Parameters).toMatchObject({ table_type: 'ICEBERG', metadata_location: expect.stringMatching(/\/metadata\/00001-.*\.metadata\.json$/) });
    expect(first.StorageDescriptor?.Columns?.find((c) => c.Name === 'occurredAt')).toMatchObject({ Type: 'timestamp' });

    // Two sink instances compacting different hours at once: both commits land.
    const results = await Promise.all([landAndCompact('2026-11-28T02', [4, 5]), landAndCompact('2026-11-28T03', [6])]);
    expect(results.map((r) => r.tableCommit?.operation)).toEqual(['append', 'append']);
    const now = await glueTable();
    expect(now.Parameters?.metadata_location).toMatch(/\/metadata\/00003-.*\.metadata\.json$/);
    expect(now.Parameters?.previous_metadata_location).toMatch(/\/metadata\/00002-.*\.metadata\.json$/);

    const s3 = { endpoint: config.objectStore.endpoint, accessKeyId: config.objectStore.credentials?.accessKeyId, secretAccessKey: config.objectStore.credentials?.secretAccessKey, region: config.objectStore.region };
    const out = execFileSync(python, [join(__dirname, 'interop/read_table.py'), JSON.stringify({ metadata: now.Parameters!.metadata_location, s3, duckdb: false })], { encoding: 'utf8' });
    const facts = JSON.parse(out) as { snapshots: unknown[]; current: { rows: number; distinct: number } };
    expect(facts.snapshots).toHaveLength(3);
    expect(facts.current).toMatchObject({ rows: 6, distinct: 6 });
  });

  it('refuses a commit from a stale base and removes the metadata file it wrote', async () => {
    const catalog = new GlueCatalog(store, glue, database);
    const ref = curatedTableRef(topic);
    const current = (await catalog.load(ref))!;
    const stale = { ...current, metadataLocation: current.metadata['metadata-log'].at(-1)!['metadata-file'] };
    const before = (await store.list(`${ref.prefix}/metadata/`)).filter((o) => o.key.endsWith('.metadata.json')).length;
    await expect(catalog.commit(ref, stale, current.metadata)).rejects.toBeInstanceOf(CommitConflictError);
    const after = (await store.list(`${ref.prefix}/metadata/`)).filter((o) => o.key.endsWith('.metadata.json')).length;
    expect(after).toBe(before);
    expect((await glueTable()).Parameters?.metadata_location).toBe(current.metadataLocation);
  });
});
