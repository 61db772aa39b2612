import { createHash } from 'node:crypto';
import * as avro from 'avsc';
import {
  CodecError,
  CorruptPayloadError,
  HEADER_LENGTH,
  parseAvroSchema,
  readSchemaId,
  registryAuthHeaders,
  RegistryUnavailableError,
  TruncatedPayloadError,
  UnknownSchemaIdError,
} from '@app/codec';
import type { SchemaRegistryConfig } from '@app/config';
import type { MaskAction } from './lake-settings';
import { rawRecordSchema } from './raw-segment';

/** The event time of a record cannot be read from its value: the record goes to the DLQ. */
export class EventTimeUnreadableError extends CodecError {
  readonly retriable = false;
  constructor(message: string, readonly code = 'EVENT_TIME_UNREADABLE') {
    super(message);
  }
}

/** What the sink needs per (topic, writer schema id): how to read event time, and what to land. */
export interface LandingPlan {
  schemaId: number;
  /** Reads the event time (epoch millis, UTC) from the Avro body starting at `start` of `value`. */
  eventTime(value: Buffer, start: number): number;
  /** The masked re-encoding of a body to land instead of the body itself; undefined when nothing is masked. */
  landedValue?: (body: Buffer) => Buffer;
  /** JSON of the wrapper schema the segment embeds. */
  wrapperSchemaJson: string;
  maskedFields: string[];
}

type FieldSchema = { name: string; type: unknown };
type RecordSchema = { type: 'record'; name: string; namespace?: string; fields: FieldSchema[] };

const MAX_TIME = Date.UTC(9999, 11, 31);
const MIN_TIME = Date.UTC(1, 0, 1);

function timeReader(fieldType: unknown): ((raw: unknown) => number) | undefined {
  const t = fieldType as { type?: string; logicalType?: string } | string;
  const base = typeof t === 'string' ? t : t.type;
  const logical = typeof t === 'string' ? undefined : t.logicalType;
  if (base === 'long' || base === 'int') {
    if (logical === 'timestamp-micros') return (raw) => Math.floor((raw as number) / 1000);
    return (raw) => raw as number; // timestamp-millis, or plain epoch millis
  }
  if (base === 'string') return (raw) => Date.parse(raw as string);
  return undefined;
}

/** A value ends inside the prefix (the cursor ran past the end). */
const PAST_END = -1;

/** Skips one value of a type in Avro binary: the position after it, {@link PAST_END}, or throws on corrupt bytes. */
type Skipper = (buf: Buffer, pos: number) => number;

const varint = { value: 0, pos: 0 };

/** Reads a zig-zag varint into {@link varint}; false when the value ends first. Exact up to 2^53. */
function readVarLong(buf: Buffer, pos: number): boolean {
  let n = 0;
  let scale = 1;
  for (let i = 0; i < 10; i++) {
    if (pos >= buf.length) return false;
    const b = buf[pos++];
    n += (b & 0x7f) * scale;
    if ((b & 0x80) === 0) {
      varint.value = n % 2 === 1 ? -(n + 1) / 2 : n / 2;
      varint.pos = pos;
      return true;
    }
    scale *= 128;
  }
  throw new Error('varint longer than 10 bytes');
}

const skipVarint: Skipper = (buf, pos) => (readVarLong(buf, pos) ? varint.pos : PAST_END);
const skipLengthPrefixed: Skipper = (buf, pos) => {
  if (!readVarLong(buf, pos)) return PAST_END;
  if (varint.value < 0) throw new Error(`negative length ${varint.value}`);
  const end = varint.pos + varint.value;
  return end > buf.length ? PAST_END : end;
};
const fixedSkipper = (size: number): Skipper => (buf, pos) => (pos + size > buf.length ? PAST_END : pos + size);
/** A Map, not an object: a type name never finds an inherited property. */
const PRIMITIVE_SKIPPERS = new Map<string, Skipper>([
  ['null', (_buf, pos) => pos],
  ['boolean', fixedSkipper(1)],
  ['int', skipVarint],
  ['long', skipVarint],
  ['float', fixedSkipper(4)],
  ['double', fixedSkipper(8)],
  ['string', skipLengthPrefixed],
  ['bytes', skipLengthPrefixed],
]);
/** An enum index outside its symbols is corrupt, as avsc says: the record goes to the DLQ, not to raw. */
const enumSkipper = (symbols: number): Skipper => (buf, pos) => {
  if (!readVarLong(buf, pos)) return PAST_END;
  if (varint.value < 0 || varint.value >= symbols) throw new Error(`invalid enum index ${varint.value}`);
  return varint.pos;
};

/** A skipper for a field type, or undefined for types left to avsc (records, arrays, maps, named references). */
function skipperOf(type: unknown): Skipper | undefined {
  if (typeof type === 'string') return PRIMITIVE_SKIPPERS.get(type);
  if (Array.isArray(type)) {
    const branches = type.map(skipperOf);
    if (branches.some((b) => b === undefined)) return undefined;
    return (buf, pos) => {
      if (!readVarLong(buf, pos)) return PAST_END;
      const branch = branches[varint.value];
      if (branch === undefined) throw new Error(`invalid union index ${varint.value}`);
      return branch(buf, varint.pos);
    };
  }
  const t = type as { type?: unknown; size?: number; symbols?: unknown[] };
  if (t.type === 'fixed' && typeof t.size === 'number') return fixedSkipper(t.size);
  if (t.type === 'enum') return Array.isArray(t.symbols) ? enumSkipper(t.symbols.length) : undefined;
  // A primitive with a logical type (uuid, decimal bytes, timestamps) is its primitive on the wire.
  if (typeof t.type === 'string') return PRIMITIVE_SKIPPERS.get(t.type);
  return undefined;
}

/**
 * The event time read straight from the bytes: the fields before it skipped by their wire format, no
 * value built. Undefined when a field before it has a type this does not skip (avsc reads those).
 */
function skippingTimeReader(
  fieldsBefore: FieldSchema[],
  field: string,
  timeType: unknown,
  unionBranches: unknown[] | undefined,
  convert: (raw: unknown) => number,
): ((body: Buffer, start?: number) => number) | undefined {
  const skippers = fieldsBefore.map((f) => skipperOf(f.type));
  if (skippers.some((s) => s === undefined)) return undefined;
  const base = typeof timeType === 'string' ? timeType : (timeType as { type?: string }).type;
  const isString = base === 'string';
  const truncated = () => new EventTimeUnreadableError(`value ends before ${field}`, 'TRUNCATED');
  return (body, start = 0) => {
    let pos = start;
    try {
      for (const skip of skippers) {
        pos = skip!(body, pos);
        if (pos === PAST_END) throw truncated();
      }
      if (unionBranches) {
        if (!readVarLong(body, pos)) throw truncated();
        const branch = unionBranches[varint.value];
        if (branch === undefined) throw new Error(`invalid union index ${varint.value}`);
        if (branch === 'null' || (branch as { type?: unknown }).type === 'null') {
          throw new EventTimeUnreadableError(`${field} is null`, 'EVENT_TIME_NULL');
        }
        pos = varint.pos;
      }
      let raw: unknown;
      if (isString) {
        const end = skipLengthPrefixed(body, pos);
        if (end === PAST_END) throw truncated();
        raw = body.toString('utf8', varint.pos, end);
      } else {
        if (!readVarLong(body, pos)) throw truncated();
        raw = varint.value;
      }
      const millis = convert(raw);
      if (!Number.isFinite(millis) || millis < MIN_TIME || millis > MAX_TIME) {
        throw new EventTimeUnreadableError(`${field} is not a readable time: ${String(raw)}`);
      }
      return millis;
    } catch (err) {
      if (err instanceof EventTimeUnreadableError) throw err;
      throw new EventTimeUnreadableError(`value is not valid Avro before ${field}: ${(err as Error).message}`, 'CORRUPT');
    }
  };
}

/**
 * Builds the reader of the event time for one writer schema. The time field is the second field of
 * every platform event, so only a value's prefix is read and the rest of its bytes never touched: by
 * skipping the fields before it on the wire when their types allow (primitives, enums, fixed, unions
 * of those), otherwise by decoding a record type of the writer's fields up to and including the time
 * field, without logical types, through avsc. `options.skip: false` forces the avsc path (tests).
 */
export function eventTimeReader(
  writer: RecordSchema,
  field: string,
  options: { skip?: boolean } = {},
): (body: Buffer, start?: number) => number {
  const index = writer.fields.findIndex((f) => f.name === field);
  if (index < 0) {
    return () => {
      throw new EventTimeUnreadableError(`writer schema ${writer.name} has no field ${field}`, 'EVENT_TIME_FIELD_MISSING');
    };
  }
  let fieldType = writer.fields[index].type;
  let nullable = false;
  if (Array.isArray(fieldType)) {
    const branches = fieldType.filter((b) => b !== 'null');
    nullable = branches.length !== fieldType.length;
    fieldType = branches.length === 1 ? branches[0] : fieldType;
  }
  const convert = timeReader(fieldType);
  if (!convert) {
    return () => {
      throw new EventTimeUnreadableError(`field ${field} of ${writer.name} is not a timestamp`, 'EVENT_TIME_NOT_A_TIME');
    };
  }
  if (options.skip !== false) {
    const declared = writer.fields[index].type;
    const skipping = skippingTimeReader(writer.fields.slice(0, index), field, fieldType, Array.isArray(declared) ? declared : undefined, convert);
    if (skipping) return skipping;
  }
  const prefix = avro.Type.forSchema(
    { ...writer, fields: writer.fields.slice(0, index + 1) } as avro.Schema,
    // Raw numbers, no logical types; ambiguous unions before the time field are read wrapped, as the codec does.
    { wrapUnions: 'auto', assertLogicalTypes: false } as Partial<avro.ForSchemaOptions>,
  );
  return (body, start = 0) => {
    let decoded: { value: Record<string, unknown> | undefined; offset: number };
    try {
      decoded = prefix.decode(body, start) as typeof decoded;
    } catch (err) {
      throw new EventTimeUnreadableError(`value is not valid Avro before ${field}: ${(err as Error).message}`, 'CORRUPT');
    }
    if (decoded.offset < 0 || !decoded.value) throw new EventTimeUnreadableError(`value ends before ${field}`, 'TRUNCATED');
    const raw = decoded.value[field];
    if (raw === null || raw === undefined) {
      throw new EventTimeUnreadableError(`${field} is null`, nullable ? 'EVENT_TIME_NULL' : 'CORRUPT');
    }
    const millis = convert(raw);
    if (!Number.isFinite(millis) || millis < MIN_TIME || millis > MAX_TIME) {
      throw new EventTimeUnreadableError(`${field} is not a readable time: ${String(raw)}`);
    }
    return millis;
  };
}

function maskedSchemaOf(writer: RecordSchema, masks: Record<string, MaskAction>): RecordSchema {
  const fields: FieldSchema[] = [];
  for (const f of writer.fields) {
    const action = masks[f.name];
    if (action === 'drop') continue;
    if (action === 'hash') {
      const nullable = Array.isArray(f.type) && f.type.includes('null');
      fields.push({ ...f, type: nullable ? ['null', 'string'] : 'string' });
    } else fields.push(f);
  }
  return { ...writer, fields };
}

/** The masked re-encoding of values: decode with the writer schema, hash or drop fields, encode. */
function masker(writer: RecordSchema, masks: Record<string, MaskAction>, salt: string) {
  const writerType = parseAvroSchema(JSON.stringify(writer));
  const maskedSchema = maskedSchemaOf(writer, masks);
  const maskedType = parseAvroSchema(JSON.stringify(maskedSchema));
  const hashed = Object.entries(masks).filter(([, a]) => a === 'hash').map(([f]) => f);
  const dropped = Object.entries(masks).filter(([, a]) => a === 'drop').map(([f]) => f);
  const hash = (v: unknown) =>
    createHash('sha256')
      .update(salt)
      .update(Buffer.isBuffer(v) ? v : String(v))
      .digest('hex');
  return {
    maskedSchema,
    apply(body: Buffer): Buffer {
      let value: Record<string, unknown>;
      try {
        value = writerType.fromBuffer(body) as Record<string, unknown>;
      } catch (err) {
        throw new EventTimeUnreadableError(`value is not valid Avro: ${(err as Error).message}`, 'CORRUPT');
      }
      for (const f of hashed) if (value[f] !== null && value[f] !== undefined) value[f] = hash(value[f]);
      for (const f of dropped) delete value[f];
      return maskedType.toBuffer(value);
    },
  };
}

/**
 * Writer schemas by registry id (fetched once each, the exact JSON text the producer registered) and
 * the landing plan for each (topic, schema id). Registry failures are classified like the codec's: an
 * id the registry does not know goes to the DLQ; an unreachable registry pauses the partition.
 */
export class LandingPlans {
  private readonly schemas = new Map<number, Promise<RecordSchema>>();
  private readonly plans = new Map<string, LandingPlan>();

  constructor(
    private readonly registry: SchemaRegistryConfig,
    private readonly eventTimeFields: Record<string, string>,
    private readonly defaultEventTimeField: string,
    private readonly masks: Record<string, Record<string, MaskAction>>,
    private readonly maskSalt: string,
  ) {}

  /** The plan for a framed value (synchronous when cached). Throws CodecError subclasses. */
  planFor(topic: string, schemaId: number): LandingPlan | Promise<LandingPlan> {
    const key = `${topic}\u0000${schemaId}`;
    const cached = this.plans.get(key);
    if (cached) return cached;
    return this.writerSchema(schemaId).then((writer) => {
      const plan = this.buildPlan(topic, schemaId, writer);
      this.plans.set(key, plan);
      return plan;
    });
  }

  /** Reads the schema id of a framed value; throws MagicByteError/TruncatedPayloadError. */
  schemaIdOf(value: Buffer | null): number {
    if (value === null) throw new TruncatedPayloadError(0);
    const id = readSchemaId(value);
    if (value.length === HEADER_LENGTH) throw new TruncatedPayloadError(value.length);
    return id;
  }

  private buildPlan(topic: string, schemaId: number, writer: RecordSchema): LandingPlan {
    const field = this.eventTimeFields[topic] ?? this.defaultEventTimeField;
    const eventTime = eventTimeReader(writer, field);
    const masks = this.masks[topic];
    if (masks && Object.keys(masks).length > 0) {
      const m = masker(writer, masks, this.maskSalt);
      return {
        schemaId,
        eventTime,
        landedValue: (body) => m.apply(body),
        wrapperSchemaJson: JSON.stringify(rawRecordSchema(m.maskedSchema)),
        maskedFields: Object.keys(masks).sort(),
      };
    }
    return {
      schemaId,
      eventTime,
      wrapperSchemaJson: JSON.stringify(rawRecordSchema(writer)),
      maskedFields: [],
    };
  }

  private writerSchema(id: number): Promise<RecordSchema> {
    let pending = this.schemas.get(id);
    if (!pending) {
      pending = this.fetchSchema(id);
      // Only a definitive answer is cached; an unreachable registry is asked again next time.
      pending.catch(() => this.schemas.delete(id));
      this.schemas.set(id, pending);
    }
    return pending;
  }

  private async fetchSchema(id: number): Promise<RecordSchema> {
    let res: Response;
    try {
      res = await fetch(`${this.registry.url}/schemas/ids/${id}`, {
        headers: registryAuthHeaders(this.registry),
        signal: AbortSignal.timeout(5_000),
      });
    } catch (err) {
      throw new RegistryUnavailableError((err as Error).message, err);
    }
    const body = (await res.json().catch(() => ({}))) as { schema?: string; schemaType?: string; error_code?: number };
    if (res.status === 404 && body.error_code === 40403) throw new UnknownSchemaIdError(id);
    if (!res.ok || typeof body.schema !== 'string') {
      throw new RegistryUnavailableError(`GET /schemas/ids/${id} answered ${res.status}`);
    }
    if (body.schemaType && body.schemaType !== 'AVRO') {
      throw new CorruptPayloadError(id, new Error(`schema ${id} is ${body.schemaType}, not Avro`));
    }
    const schema = JSON.parse(body.schema) as RecordSchema;
    if (schema.type !== 'record') throw new CorruptPayloadError(id, new Error(`schema ${id} is not a record`));
    return schema;
  }
}
