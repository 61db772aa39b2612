/**
 * Raw segment encoding in detail (found by mutation testing): Avro longs at the 2^52 boundary and
 * beyond, the wrapper prefix (keys, headers), the builder's statistics and block sealing, and the header
 * reader's handling of files that are not what it expects.
 */
import * as avro from 'avsc';
import { parseAvroSchema } from '@app/codec';
import { AvroBytes, encodeRawPrefix, RawSegmentBuilder, rawRecordSchema, readSegmentHeader, readSegmentRows, SEGMENT_META, type RawRecordFields } from './raw-segment';

const valueSchema = { type: 'record', name: 'Thing', namespace: 'com.example', fields: [{ name: 'n', type: 'long' }] };
const wrapperType = parseAvroSchema(JSON.stringify(rawRecordSchema(valueSchema)));
const nType = parseAvroSchema(JSON.stringify(valueSchema));

/** Decodes one zig-zag varint long exactly (as BigInt). */
function readLong(bytes: Buffer): bigint {
  let z = 0n;
  bytes.forEach((byte, i) => (z |= BigInt(byte & 0x7f) << BigInt(7 * i)));
  return (z >> 1n) ^ -(z & 1n);
}

const fields = (over: Partial<RawRecordFields> = {}): RawRecordFields => ({
  partition: 2,
  offset: 10n,
  timestamp: Date.UTC(2026, 10, 28, 5),
  key: null,
  headers: undefined,
  schemaId: 7,
  ...over,
});

describe('wrapper schema', () => {
  it('is the landing contract every reader of raw/ decodes with', () => {
    expect(rawRecordSchema(valueSchema)).toEqual({
      type: 'record',
      name: 'RawRecord',
      namespace: 'com.securecart.lake',
      fields: [
        { name: '_partition', type: 'int' },
        { name: '_offset', type: 'long' },
        { name: '_timestamp', type: { type: 'long', logicalType: 'timestamp-millis' }, doc: 'Kafka record time' },
        { name: '_key', type: ['null', 'bytes'] },
        { name: '_headers', type: { type: 'map', values: 'bytes' } },
        { name: '_schema_id', type: 'int' },
        { name: 'value', type: valueSchema },
      ],
    });
    expect(rawRecordSchema(JSON.stringify(valueSchema))).toEqual(rawRecordSchema(valueSchema));
  });
});

describe('AvroBytes longs', () => {
  it.each([-(2 ** 52), -(2 ** 52) - 2, 2 ** 52, 2 ** 53 + 2, -(2 ** 53)])('encodes %d exactly on either side of the 2^52 switch', (n) => {
    const out = new AvroBytes(1);
    out.writeLong(n);
    expect(readLong(out.view())).toBe(BigInt(n));
  });

  it.each([2n ** 62n, -(2n ** 62n) - 7n, 5n, -5n, -(2n ** 52n), 2n ** 52n])('encodes the bigint %s exactly, small ones like numbers', (n) => {
    const big = new AvroBytes(1);
    big.writeBigLong(n);
    expect(readLong(big.view())).toBe(n);
    if (n < 2n ** 52n && n >= -(2n ** 52n)) {
      const small = new AvroBytes(1);
      small.writeLong(Number(n));
      expect(big.view()).toEqual(small.view());
    }
  });

  it('grows past its initial size, keeping what was written', () => {
    const out = new AvroBytes(2);
    const body = Buffer.from(Array.from({ length: 300 }, (_, i) => i % 256));
    out.writeBytes(body);
    out.writeLong(-1);
    expect(out.view()).toEqual(Buffer.concat([parseAvroSchema('"bytes"').toBuffer(body), Buffer.from([1])]));
    out.reset();
    expect(out.view().length).toBe(0);
  });
});

describe('wrapper prefix', () => {
  const decode = (f: RawRecordFields) => {
    const out = new AvroBytes(8);
    encodeRawPrefix(out, f);
    out.writeRaw(nType.toBuffer({ n: 3 }));
    return wrapperType.fromBuffer(out.view());
  };

  it('encodes key and headers as the wrapper schema reads them', () => {
    expect(
      decode(fields({ key: Buffer.from('k'), headers: { a: 'x', b: Buffer.from('y'), gone: undefined, many: ['1', Buffer.from('2')], none: [] } })),
    ).toEqual({
      _partition: 2,
      _offset: 10,
      _timestamp: new Date(Date.UTC(2026, 10, 28, 5)),
      _key: Buffer.from('k'),
      _headers: { a: Buffer.from('x'), b: Buffer.from('y'), many: Buffer.from('2'), none: Buffer.alloc(0) },
      _schema_id: 7,
      value: { n: 3 },
    });
  });

  it('writes an empty map for no headers or only undefined ones', () => {
    expect(decode(fields({ headers: { gone: undefined } }))._headers).toEqual({});
    expect(decode(fields())._headers).toEqual({});
    expect(decode(fields())._key).toBeNull();
  });
});

describe('RawSegmentBuilder statistics and blocks', () => {
  const wrapper = JSON.stringify(rawRecordSchema(valueSchema));

  function build(blockBytes: number, eventTimes: number[], maskedFields?: string[]) {
    const b = new RawSegmentBuilder('raw/k.avro', 'shop.thing.v1', 4, 9, wrapper, { blockBytes, deflateLevel: 1 }, maskedFields);
    eventTimes.forEach((t, i) => b.append(fields({ partition: 4, offset: 50n + BigInt(i), timestamp: 1000 + i, schemaId: 9 }), nType.toBuffer({ n: i }), t));
    return b;
  }

  it('tracks rows, offsets, the event-time range and the first record time', () => {
    const b = build(1 << 20, [300, 100, 500, 200]);
    const one = new AvroBytes(8);
    encodeRawPrefix(one, fields({ partition: 4, offset: 50n, timestamp: 1000, schemaId: 9 }));
    expect(b.stats).toEqual({
      rows: 4,
      rawBytes: 4 * (one.length + nType.toBuffer({ n: 0 }).length),
      firstOffset: 50n,
      lastOffset: 53n,
      minEventTime: 100,
      maxEventTime: 500,
      firstTimestamp: 1000,
    });
    // The open block is held at its allocated size (4 KiB to start), not at the 32 bytes written.
    expect(b.bufferedBytes).toBe(4096);
  });

  it('compresses each block once it reaches the block size, and every row still reads back', async () => {
    const many = Array.from({ length: 200 }, (_, i) => i);
    const small = build(512, many);
    const big = build(1 << 20, many);
    // Sealed blocks are counted compressed; the open block's buffer, 512 bytes grown to 1 KiB by the
    // record that filled it, at its allocated size.
    expect(small.bufferedBytes).toBeLessThan(small.stats.rawBytes + 1024);
    expect(big.bufferedBytes).toBe(4096);
    expect(big.stats.rawBytes).toBeLessThan(4096);
    const file = small.finish();
    const rows = await readSegmentRows<{ n: number }>(file, (s) => parseAvroSchema(JSON.stringify(s)));
    expect(rows.map((r) => r.value.n)).toEqual(many);
    expect(rows.map((r) => r._offset)).toEqual(many.map((i) => 50 + i));
    // One sync marker after the header and one after each block.
    const sync = file.subarray(file.length - 16);
    let markers = 0;
    for (let i = file.indexOf(sync); i !== -1; i = file.indexOf(sync, i + 1)) markers++;
    expect(markers).toBeGreaterThan(2);
    // Once finished, what it holds is exactly the file's blocks and their sync markers.
    const header = readSegmentHeader(file);
    const metaBytes = avro.Type.forSchema({ type: 'map', values: 'bytes' }).toBuffer(
      Object.fromEntries(Object.entries(header.metadata).map(([k, v]) => [k, Buffer.from(v)])),
    );
    expect(small.bufferedBytes).toBe(file.length - 4 - metaBytes.length - 16 + 1024);
  });

  it('fails reading a segment whose blocks are corrupt, rather than hanging or returning part', async () => {
    const file = Buffer.from(build(512, Array.from({ length: 50 }, (_, i) => i)).finish());
    file.fill(0xff, file.length - 60, file.length - 20);
    await expect(readSegmentRows(file, (s) => parseAvroSchema(JSON.stringify(s)))).rejects.toThrow();
  });

  it('writes the statistics and masked fields into the header, and an empty segment reads as empty', async () => {
    const header = readSegmentHeader(build(1 << 20, [7, 3], ['email', 'phone']).finish());
    expect(header.metadata).toMatchObject({
      [SEGMENT_META.topic]: 'shop.thing.v1',
      [SEGMENT_META.partition]: '4',
      [SEGMENT_META.maskedFields]: 'email,phone',
      'avro.codec': 'deflate',
    });
    expect(header).toMatchObject({ rows: 2, partition: 4, firstOffset: '50', lastOffset: '51', minEventTime: 3, maxEventTime: 7, schemaIds: [9] });
    expect(header.schema).toEqual(JSON.parse(wrapper));
    expect(Object.keys(readSegmentHeader(build(1 << 20, [1]).finish()).metadata)).not.toContain(SEGMENT_META.maskedFields);

    const empty = build(1 << 20, []).finish();
    expect(readSegmentHeader(empty)).toMatchObject({ rows: 0, firstOffset: '-1', lastOffset: '-1' });
    expect(await readSegmentRows(empty)).toEqual([]);
  });
});

describe('readSegmentHeader', () => {
  it('refuses what is not an Avro object container file', () => {
    expect(() => readSegmentHeader(Buffer.from('Obj'))).toThrow('not an Avro object container file');
    expect(() => readSegmentHeader(Buffer.from('PAR1....'))).toThrow('not an Avro object container file');
  });

  it('reads a container another writer made: codec null by default, no schema ids', () => {
    const container = (meta: Record<string, string>) =>
      Buffer.concat([
        Buffer.from('Obj\x01', 'latin1'),
        avro.Type.forSchema({ type: 'map', values: 'bytes' }).toBuffer(Object.fromEntries(Object.entries(meta).map(([k, v]) => [k, Buffer.from(v)]))),
        Buffer.alloc(16),
      ]);
    expect(readSegmentHeader(container({ 'avro.schema': '"long"' }))).toMatchObject({ schema: 'long', codec: 'null', schemaIds: [] });
    expect(readSegmentHeader(container({ 'avro.schema': '"long"', [SEGMENT_META.schemaIds]: '3,12' })).schemaIds).toEqual([3, 12]);
  });
});
