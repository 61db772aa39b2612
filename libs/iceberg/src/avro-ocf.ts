/**
 * Avro object container files for Iceberg manifests and manifest lists, with a lossless long type:
 * avsc's default long throws beyond 2^53, and snapshot ids are random 63-bit numbers. Written by hand
 * (header, one block per call, sync marker) so the header carries exactly the writer schema we give,
 * with its `field-id` attributes, and Iceberg's metadata keys; read back with any writer's schema.
 */
import { randomBytes } from 'node:crypto';
import { inflateRawSync, deflateRawSync } from 'node:zlib';
import * as avro from 'avsc';

/** avsc's long as bigint: never a rounded number. */
export const losslessLong = avro.types.LongType.__with({
  fromBuffer: (buf: Buffer) => buf.readBigInt64LE(),
  toBuffer: (n: bigint | number) => {
    const buf = Buffer.alloc(8);
    buf.writeBigInt64LE(BigInt(n));
    return buf;
  },
  fromJSON: (v: unknown) => BigInt(v as string),
  toJSON: (n: bigint) => (Number.isSafeInteger(Number(n)) ? Number(n) : n.toString()),
  isValid: (n: unknown) => typeof n === 'bigint' || (typeof n === 'number' && Number.isInteger(n)),
  compare: (a: bigint, b: bigint) => (a === b ? 0 : a < b ? -1 : 1),
});

/** An avsc type for a schema, with longs as bigint. */
export function losslessType(schema: object): avro.Type {
  return avro.Type.forSchema(schema as avro.Schema, { registry: { long: losslessLong } as unknown as Record<string, avro.Type>, wrapUnions: false });
}

const MAGIC = Buffer.from([0x4f, 0x62, 0x6a, 0x01]);
const headerType = avro.Type.forSchema({
  type: 'record',
  name: 'org.apache.avro.file.Header',
  fields: [
    { name: 'magic', type: { type: 'fixed', name: 'Magic', size: 4 } },
    { name: 'meta', type: { type: 'map', values: 'bytes' } },
    { name: 'sync', type: { type: 'fixed', name: 'Sync', size: 16 } },
  ],
});

function zigzag(n: number): Buffer {
  return avro.Type.forSchema('long').toBuffer(n);
}

/** One OCF file: the writer schema (JSON, as stored), Iceberg's metadata and the records. */
export function writeOcf(schema: object, metadata: Record<string, string>, records: readonly unknown[], codec: 'deflate' | 'null' = 'deflate'): Buffer {
  const type = losslessType(schema);
  const sync = randomBytes(16);
  const meta: Record<string, Buffer> = { 'avro.schema': Buffer.from(JSON.stringify(schema)), 'avro.codec': Buffer.from(codec) };
  for (const [k, v] of Object.entries(metadata)) meta[k] = Buffer.from(v);
  const parts: Buffer[] = [headerType.toBuffer({ magic: MAGIC, meta, sync })];
  if (records.length > 0) {
    const raw = Buffer.concat(records.map((r) => type.toBuffer(r)));
    const data = codec === 'deflate' ? deflateRawSync(raw) : raw;
    parts.push(zigzag(records.length), zigzag(data.length), data, sync);
  }
  return Buffer.concat(parts);
}

export interface OcfContents<T> {
  schema: object;
  metadata: Record<string, string>;
  records: T[];
}

/** Reads a whole OCF file (null or deflate codec) with its own writer schema, longs as bigint. */
export function readOcf<T = Record<string, unknown>>(buf: Buffer): OcfContents<T> {
  if (!buf.subarray(0, 4).equals(MAGIC)) throw new Error('not an Avro object container file');
  const header = headerType.decode(buf, 0);
  if (header.offset < 0) throw new Error('truncated Avro header');
  const { meta, sync } = header.value as { meta: Record<string, Buffer>; sync: Buffer };
  const metadata: Record<string, string> = {};
  for (const [k, v] of Object.entries(meta)) metadata[k] = v.toString('utf8');
  const schema = JSON.parse(metadata['avro.schema']) as object;
  const codec = metadata['avro.codec'] ?? 'null';
  if (codec !== 'null' && codec !== 'deflate') throw new Error(`unsupported Avro codec ${codec}`);
  const type = losslessType(schema);
  const long = avro.Type.forSchema('long');
  const records: T[] = [];
  let pos = header.offset;
  while (pos < buf.length) {
    const count = long.decode(buf, pos);
    const size = long.decode(buf, count.offset);
    const start = size.offset;
    const end = start + (size.value as number);
    const block = codec === 'deflate' ? inflateRawSync(buf.subarray(start, end)) : buf.subarray(start, end);
    let at = 0;
    for (let n = 0; n < (count.value as number); n++) {
      const decoded = type.decode(block, at);
      records.push(decoded.value as T);
      at = decoded.offset;
    }
    if (!buf.subarray(end, end + 16).equals(sync)) throw new Error('Avro sync marker mismatch');
    pos = end + 16;
  }
  return { schema, metadata, records };
}
