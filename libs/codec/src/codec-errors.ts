/**
 * One error tree for everything that can go wrong turning bytes into events and back. `retriable`
 * tells the caller what to do: back off and retry (registry down) or send the record to the DLQ.
 */
export abstract class CodecError extends Error {
  abstract readonly retriable: boolean;

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** The first byte is not the Confluent magic byte 0: not a framed Avro record at all. */
export class MagicByteError extends CodecError {
  readonly retriable = false;
  constructor(readonly actual: number | undefined) {
    super(`expected magic byte 0, got ${actual === undefined ? 'an empty payload' : actual}`);
  }
}

/** The payload ends before its header or its Avro body does. */
export class TruncatedPayloadError extends CodecError {
  readonly retriable = false;
  constructor(readonly length: number, cause?: unknown) {
    super(`payload of ${length} bytes is truncated`, { cause });
  }
}

/** The registry answered that no schema has this id. */
export class UnknownSchemaIdError extends CodecError {
  readonly retriable = false;
  constructor(readonly schemaId: number, cause?: unknown) {
    super(`schema id ${schemaId} is not known to the registry`, { cause });
  }
}

/** The registry could not be reached or failed (connection refused, timeout, 5xx): try again later. */
export class RegistryUnavailableError extends CodecError {
  readonly retriable = true;
  constructor(message: string, cause?: unknown) {
    super(`schema registry unavailable: ${message}`, { cause });
  }
}

/** The writer's schema cannot be read with the reader's (an incompatible change slipped through). */
export class SchemaMismatchError extends CodecError {
  readonly retriable = false;
  constructor(readonly schemaId: number, readerName: string, cause?: unknown) {
    super(`records written with schema id ${schemaId} cannot be read as ${readerName}`, { cause });
  }
}

/** The value does not match the schema it is encoded with; `paths` names the offending fields. */
export class InvalidRecordError extends CodecError {
  readonly retriable = false;
  constructor(readonly schemaName: string, readonly paths: string[]) {
    super(`record does not match ${schemaName}: invalid ${paths.join(', ') || 'value'}`);
  }
}

/** The payload is framed correctly but its Avro body is corrupt (bad varint, trailing bytes). */
export class CorruptPayloadError extends CodecError {
  readonly retriable = false;
  constructor(readonly schemaId: number, cause?: unknown) {
    super(`payload for schema id ${schemaId} is not valid Avro`, { cause });
  }
}

/** The producer's schema is not registered under the topic's subject (run `npm run schemas:register`). */
export class SchemaNotRegisteredError extends CodecError {
  readonly retriable = false;
  constructor(readonly subject: string, cause?: unknown) {
    super(`schema is not registered under subject ${subject}`, { cause });
  }
}

/** The registry refused to register a schema that breaks the subject's compatibility rule. */
export class IncompatibleSchemaError extends CodecError {
  readonly retriable = false;
  constructor(readonly subject: string, detail: string, cause?: unknown) {
    super(`schema is incompatible with subject ${subject}: ${detail}`, { cause });
  }
}

/** The registry rejected the request (bad credentials, malformed schema): retrying will not help. */
export class RegistryRejectedError extends CodecError {
  readonly retriable = false;
  constructor(readonly status: number, detail: string, cause?: unknown) {
    super(`schema registry rejected the request (${status}): ${detail}`, { cause });
  }
}

/** The registry refused our credentials (401/403). Retriable: consumers pause until it is fixed. */
export class RegistryAuthError extends CodecError {
  readonly retriable = true;
  constructor(readonly status: number, detail: string, cause?: unknown) {
    super(`schema registry refused the credentials (${status}): ${detail}`, { cause });
  }
}
