import { parseAvroSchema } from '@app/codec';
import { AvroBytes, RawSegmentBuilder, rawRecordSchema, readSegmentHeader, readSegmentRows, recordOffset } from './raw-segment';

const valueSchema = {
  type: 'record',
  name: 'Thing',
  namespace: 'com.example',
  fields: [
    { name: 'eventId', type: 'string' },
    { name: 'occurredAt', type: { type: 'long', logicalType: 'timestamp-millis' } },
    { name: 'n', type: 'long' },
  ],
};
const valueType = parseAvroSchema(JSON.stringify(valueSchema));

function build(key: string, count: number, blockBytes = 200, offThread?: { onBufferedChange: (delta: number) => void }) {
  const b = new RawSegmentBuilder(key, 't', 2, 7, JSON.stringify(rawRecordSchema(valueSchema)), {
    blockBytes,
    deflateLevel: 1,
    ...(offThread ? { deflateOffThread: true, onBufferedChange: offThread.onBufferedChange } : {}),
  });
  for (let i = 0; i < count; i++) {
    const at = Date.UTC(2026, 10, 28, 5, 0, i);
    const body = valueType.toBuffer({ eventId: `e${i}`, occurredAt: new Date(at), n: i * 1000 });
    b.append(
      {
        partition: 2,
        offset: 100n + BigInt(i),
        timestamp: at + 5,
        key: i % 2 ? Buffer.from(`k${i}`) : null,
        headers: { traceparent: `tp${i}`, multi: [Buffer.from('a'), 'b'] },
        schemaId: 7,
      },
      body,
      at,
    );
  }
  return b;
}

describe('RawSegmentBuilder', () => {
  it('writes a container avsc reads back, row for row, with the wrapper fields', async () => {
    const file = build('raw/t/x.avro', 50).finish();
    const rows = await readSegmentRows<{ eventId: string; occurredAt: Date; n: number }>(file, (s) =>
      parseAvroSchema(JSON.stringify(s)),
    );
    expect(rows).toHaveLength(50);
    expect(rows[3]).toEqual({
      _partition: 2,
      _offset: 103,
      _timestamp: new Date(Date.UTC(2026, 10, 28, 5, 0, 3) + 5),
      _key: Buffer.from('k3'),
      _headers: { traceparent: Buffer.from('tp3'), multi: Buffer.from('b') },
      _schema_id: 7,
      value: { eventId: 'e3', occurredAt: new Date(Date.UTC(2026, 10, 28, 5, 0, 3)), n: 3000 },
    });
    expect(rows[0]._key).toBeNull();
  });

  it('keeps statistics in the header', () => {
    const header = readSegmentHeader(build('raw/t/x.avro', 10).finish());
    expect(header).toMatchObject({
      codec: 'deflate',
      rows: 10,
      partition: 2,
      firstOffset: '100',
      lastOffset: '109',
      minEventTime: Date.UTC(2026, 10, 28, 5, 0, 0),
      maxEventTime: Date.UTC(2026, 10, 28, 5, 0, 9),
      schemaIds: [7],
    });
  });

  it('gives identical bytes for the same rows under the same key, whatever the timing', () => {
    expect(build('raw/t/a.avro', 30).finish().equals(build('raw/t/a.avro', 30).finish())).toBe(true);
    expect(build('raw/t/a.avro', 30).finish().equals(build('raw/t/b.avro', 30).finish())).toBe(false);
  });

  it('gives the same bytes with blocks deflated off-thread, and reports how much each block shrank', async () => {
    let reported = 0;
    const b = build('raw/t/a.avro', 30, 200, { onBufferedChange: (delta) => (reported += delta) });
    const heldWhileCompressing = b.bufferedBytes;
    expect(() => b.finish()).toThrow(/compressed\(\)/);
    await b.compressed();
    expect(reported).toBeLessThan(0);
    expect(b.bufferedBytes).toBe(heldWhileCompressing + reported);
    expect(b.finish().equals(build('raw/t/a.avro', 30).finish())).toBe(true);
  });

  it('reports nothing for blocks that finish compressing after the builder was released', async () => {
    let reported = 0;
    const b = build('raw/t/a.avro', 30, 200, { onBufferedChange: (delta) => (reported += delta) });
    b.release();
    await b.compressed();
    expect(reported).toBe(0);
  });
});

describe('record offsets on the per-record path', () => {
  it('are numbers while exact and bigints beyond, and land the same bytes either way', async () => {
    expect(recordOffset('123456789012345')).toBe(123456789012345);
    expect(recordOffset('9007199254740993')).toBe(9007199254740993n);
    const segment = (offset: (i: number) => number | bigint, framed: boolean) => {
      const b = new RawSegmentBuilder('raw/t/o.avro', 't', 0, 7, JSON.stringify(rawRecordSchema(valueSchema)), { blockBytes: 300, deflateLevel: 1 });
      for (let i = 0; i < 20; i++) {
        const body = valueType.toBuffer({ eventId: `e${i}`, occurredAt: new Date(i), n: i });
        const fields = { partition: 0, offset: offset(i), timestamp: i, key: null, headers: {}, schemaId: 7 };
        // The sink passes the framed value and where its body starts.
        if (framed) b.append(fields, Buffer.concat([Buffer.from([0, 0, 0, 0, 7]), body]), i, 5);
        else b.append(fields, body, i);
      }
      return b;
    };
    const big = segment((i) => 2n ** 40n + BigInt(i), false);
    const small = segment((i) => 2 ** 40 + i, true);
    expect(small.stats).toMatchObject({ firstOffset: 2n ** 40n, rows: 20 });
    expect(small.finish().equals(big.finish())).toBe(true);
    const rows = await readSegmentRows(segment((i) => 2 ** 40 + i, true).finish());
    expect(rows.map((r) => r._offset)).toEqual(Array.from({ length: 20 }, (_, i) => 2 ** 40 + i));
  });
});

describe('AvroBytes', () => {
  it.each([0, 1, -1, 63, -64, 64, 2 ** 31, -(2 ** 31) - 1, 2 ** 52 - 1, 2 ** 52, 2 ** 53 - 2])(
    'encodes %d like avsc',
    (n) => {
      const out = new AvroBytes(2);
      out.writeLong(n);
      expect(out.view()).toEqual(parseAvroSchema('"long"').toBuffer(n));
    },
  );

  it('encodes offsets beyond 2^53 exactly', () => {
    const out = new AvroBytes(2);
    const n = 2n ** 60n + 3n;
    out.writeBigLong(n);
    let z = 0n;
    out.view().forEach((byte, i) => (z |= BigInt(byte & 0x7f) << BigInt(7 * i)));
    expect(z).toBe(n * 2n);
  });
});
