import { decodeManifest, decodeManifestList, encodeManifest, encodeManifestList, manifestEntrySchema, ADDED, MANIFEST_FILE_SCHEMA, type ManifestFile } from './manifests';
import { readOcf, writeOcf } from './avro-ocf';
import type { IcebergSchema } from './schema';

const bigId = 9_007_199_254_740_993n; // 2^53 + 1: not representable as a double
const spec = { 'spec-id': 0, fields: [{ name: 'occurredAt_hour', transform: 'hour', 'source-id': 2, 'field-id': 1000 }] };
const schema: IcebergSchema = {
  type: 'struct',
  'schema-id': 0,
  fields: [
    { id: 1, name: 'eventId', required: false, type: 'string' },
    { id: 2, name: 'occurredAt', required: false, type: 'timestamptz' },
  ],
};

/** Every record field of an Avro schema, recursively. */
function fieldsOf(node: unknown, out: Record<string, unknown>[] = []): Record<string, unknown>[] {
  if (Array.isArray(node)) node.forEach((n) => fieldsOf(n, out));
  else if (node && typeof node === 'object') {
    const o = node as Record<string, unknown>;
    if (Array.isArray(o.fields)) for (const f of o.fields as Record<string, unknown>[]) out.push(f);
    Object.values(o).forEach((v) => fieldsOf(v, out));
  }
  return out;
}

describe('Avro object container files for manifests', () => {
  it('round-trips longs beyond 2^53 exactly, deflated or not', () => {
    for (const codec of ['deflate', 'null'] as const) {
      const body = writeOcf({ type: 'record', name: 'r', fields: [{ name: 'id', type: 'long' }] }, { k: 'v' }, [{ id: bigId }, { id: -bigId }], codec);
      const read = readOcf<{ id: bigint }>(body);
      expect(read.records.map((r) => r.id)).toEqual([bigId, -bigId]);
      expect(read.metadata.k).toBe('v');
      expect(read.metadata['avro.codec']).toBe(codec);
    }
  });

  it('writes a field-id on every field of the manifest and manifest-list schemas', () => {
    const fields = [...fieldsOf(manifestEntrySchema(spec)), ...fieldsOf(MANIFEST_FILE_SCHEMA)];
    expect(fields.length).toBeGreaterThan(30);
    for (const f of fields) expect(typeof f['field-id']).toBe('number');
  });

  it('writes Iceberg header metadata and reads entries back', () => {
    const lower = Buffer.from([1, 2, 3]);
    const body = encodeManifest(
      [
        {
          status: ADDED,
          snapshotId: bigId,
          sequenceNumber: 3n,
          fileSequenceNumber: 3n,
          file: { filePath: 's3://b/t/x.parquet', partition: { occurredAt_hour: 491622 }, recordCount: 10n, fileSizeInBytes: 999n, valueCounts: new Map([[1, 10n]]), lowerBounds: new Map([[1, lower]]) },
        },
      ],
      schema,
      spec,
    );
    const { metadata } = readOcf(body);
    expect(metadata).toMatchObject({ 'format-version': '2', content: 'data', 'partition-spec-id': '0', 'schema-id': '0' });
    expect(JSON.parse(metadata['partition-spec'])).toEqual(spec.fields);
    expect(JSON.parse(metadata.schema).fields.map((f: { id: number }) => f.id)).toEqual([1, 2]);
    const [entry] = decodeManifest(body, { addedSnapshotId: 1n, sequenceNumber: 1n });
    expect(entry).toMatchObject({ status: ADDED, snapshotId: bigId, sequenceNumber: 3n, file: { partition: { occurredAt_hour: 491622 }, recordCount: 10n } });
    expect(entry.file.lowerBounds?.get(1)).toEqual(lower);
    expect(entry.file.valueCounts?.get(1)).toBe(10n);
  });

  it('inherits null snapshot ids and sequence numbers from the manifest list (v2)', () => {
    const body = writeOcf(manifestEntrySchema(spec), {}, [
      {
        status: 1,
        snapshot_id: null,
        sequence_number: null,
        file_sequence_number: null,
        data_file: { content: 0, file_path: 'f', file_format: 'PARQUET', partition: { occurredAt_hour: 1 }, record_count: 1n, file_size_in_bytes: 1n, column_sizes: null, value_counts: null, null_value_counts: null, nan_value_counts: null, lower_bounds: null, upper_bounds: null, key_metadata: null, split_offsets: null, equality_ids: null, sort_order_id: null },
      },
    ]);
    expect(decodeManifest(body, { addedSnapshotId: bigId, sequenceNumber: 7n })[0]).toMatchObject({ snapshotId: bigId, sequenceNumber: 7n, fileSequenceNumber: 7n });
  });

  it('round-trips a manifest list with its snapshot ids in the header', () => {
    const manifest: ManifestFile = {
      manifestPath: 's3://b/t/metadata/m.avro',
      manifestLength: 1234n,
      partitionSpecId: 0,
      content: 0,
      sequenceNumber: 2n,
      minSequenceNumber: 1n,
      addedSnapshotId: bigId,
      addedFilesCount: 1,
      existingFilesCount: 2,
      deletedFilesCount: 0,
      addedRowsCount: 10n,
      existingRowsCount: 20n,
      deletedRowsCount: 0n,
      partitions: [{ containsNull: false, containsNan: null, lowerBound: Buffer.from([1, 0, 0, 0]), upperBound: Buffer.from([2, 0, 0, 0]) }],
    };
    const body = encodeManifestList([manifest], { snapshotId: bigId, parentSnapshotId: bigId - 1n, sequenceNumber: 2n });
    expect(readOcf(body).metadata).toMatchObject({ 'snapshot-id': String(bigId), 'parent-snapshot-id': String(bigId - 1n), 'sequence-number': '2', 'format-version': '2' });
    expect(decodeManifestList(body)).toEqual([manifest]);
  });
});
