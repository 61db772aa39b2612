import { MagicByteError, TruncatedPayloadError } from './codec-errors';

/** Confluent wire format: magic byte 0, the schema id as a 4-byte big-endian int, then Avro binary. */
export const MAGIC_BYTE = 0;
export const HEADER_LENGTH = 5;

export function readSchemaId(payload: Buffer): number {
  if (payload.length === 0 || payload[0] !== MAGIC_BYTE) throw new MagicByteError(payload[0]);
  if (payload.length < HEADER_LENGTH) throw new TruncatedPayloadError(payload.length);
  return payload.readUInt32BE(1);
}

export function writeHeader(target: Buffer, schemaId: number): void {
  target[0] = MAGIC_BYTE;
  target.writeUInt32BE(schemaId, 1);
}
