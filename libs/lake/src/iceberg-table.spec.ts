import { exampleEvents, topics } from '@app/contracts';
import { FileSystemCatalog, decodeManifest, decodeManifestList, keyOfUri } from '@app/iceberg';
import { encodeRawSegment, MemoryObjectStore } from '../test/compaction-fixtures';
import { compactHour } from './compaction';
import { IcebergCuratedTable, curatedTableRef } from './iceberg-table';
import { rawHourPrefix } from './manifest';

const topic = 'orders.order-placed.v1';
const hour = '2026-11-28T05';
const hourStart = Date.parse(`${hour}:00:00Z`);

async function land(store: MemoryObjectStore, times: number[]) {
  const prefix = rawHourPrefix(topic, hour);
  const key = `${prefix}${topic}+0+${'0'.repeat(20)}.avro`;
  const rows = times.map((t, i) => ({ partition: 0, offset: i, schemaId: 1, value: { ...exampleEvents.orderPlaced, eventId: `e-${i}`, occurredAt: new Date(t) } }));
  await store.put(key, await encodeRawSegment(topics.orderPlaced.schema, rows));
  await store.put(`${prefix}_manifest.json`, Buffer.from(JSON.stringify({ files: [{ key, rows: rows.length }] })));
}

describe('IcebergCuratedTable', () => {
  it('commits the hour with its partition value and the event-time bounds of the file', async () => {
    const store = new MemoryObjectStore();
    await land(store, [hourStart + 5, hourStart + 3_599_999]);
    const table = new IcebergCuratedTable(store, topic, 'occurredAt');
    const result = await compactHour(store, topic, hour, { reader: { schema: topics.orderPlaced.schema }, table });
    expect(result.tableCommit).toMatchObject({ operation: 'append', addedFiles: 1 });
    expect(await table.hasHour(hour)).toBe(true);
    expect(await table.hasHour('2026-11-28T06')).toBe(false);
    const loaded = (await new FileSystemCatalog(store).load(curatedTableRef(topic)))!;
    const snapshot = loaded.metadata.snapshots[0];
    const [manifest] = decodeManifestList(await store.get(keyOfUri(store, snapshot['manifest-list'])));
    const [entry] = decodeManifest(await store.get(keyOfUri(store, manifest.manifestPath)), manifest);
    expect(entry.file.partition).toEqual({ occurredAt_hour: hourStart / 3_600_000 });
    const occurredAt = loaded.metadata.schemas[0].fields.find((f) => f.name === 'occurredAt')!.id;
    expect(entry.file.lowerBounds?.get(occurredAt)?.readBigInt64LE()).toBe(BigInt(hourStart + 5) * 1000n);
    expect(entry.file.upperBounds?.get(occurredAt)?.readBigInt64LE()).toBe(BigInt(hourStart + 3_599_999) * 1000n);
    expect(entry.file.nullValueCounts?.get(occurredAt)).toBe(0n);
    expect(entry.file.valueCounts?.get(occurredAt)).toBe(2n);
  });

  it('refuses to commit a file whose rows are not all in the hour (its partition value would lie)', async () => {
    const store = new MemoryObjectStore();
    await land(store, [hourStart + 5, hourStart + 3_600_000]);
    const table = new IcebergCuratedTable(store, topic, 'occurredAt');
    await expect(compactHour(store, topic, hour, { reader: { schema: topics.orderPlaced.schema }, table })).rejects.toThrow(/not all in hour 2026-11-28T05/);
    expect(await table.exists()).toBe(false);
  });
});
