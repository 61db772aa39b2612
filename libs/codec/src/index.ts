export { RegistryCodec, Serializer, Deserializer, avroSchema, valueSubject } from './registry-codec';
export type { AvroSchema, Decoded, RegistryCodecOptions } from './registry-codec';
export { createSchemaRegistry, registryAuthHeaders, RegistryRequestCounter, registryDefaults } from './schema-registry-client';
export { parseAvroSchema, avroTypeOptions, createResolver, resolverOptions, DecimalLogicalType, TimestampMillisLogicalType } from './logical-types';
export { decimal, DecimalError, fromUnscaled, toUnscaled } from './decimal';
export type { Decimal } from './decimal';
export { HEADER_LENGTH, MAGIC_BYTE, readSchemaId } from './wire-format';
export {
  CodecError,
  CorruptPayloadError,
  IncompatibleSchemaError,
  InvalidRecordError,
  MagicByteError,
  RegistryAuthError,
  RegistryRejectedError,
  RegistryUnavailableError,
  SchemaMismatchError,
  SchemaNotRegisteredError,
  TruncatedPayloadError,
  UnknownSchemaIdError,
} from './codec-errors';
