import type * as avro from 'avsc';
import { COMPATIBILITY, SchemaType, type SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import {
  CodecError,
  CorruptPayloadError,
  IncompatibleSchemaError,
  InvalidRecordError,
  RegistryAuthError,
  RegistryRejectedError,
  RegistryUnavailableError,
  SchemaNotRegisteredError,
  SchemaMismatchError,
  TruncatedPayloadError,
  UnknownSchemaIdError,
} from './codec-errors';
import { createResolver, parseAvroSchema } from './logical-types';
import { HEADER_LENGTH, readSchemaId, writeHeader } from './wire-format';

/** A schema as the registry stores it (JSON text with docs) and as avsc reads and writes it. */
export interface AvroSchema {
  readonly name: string;
  readonly json: string;
  readonly type: avro.Type;
}

export function avroSchema(definition: string | object): AvroSchema {
  const json = typeof definition === 'string' ? definition : JSON.stringify(definition);
  const type = parseAvroSchema(json);
  return { name: type.name ?? type.typeName, json, type };
}

export interface RegistryCodecOptions {
  /**
   * Register the writer's schema on first use (local development, tests). Off in production, where
   * `npm run schemas:register` registers schemas in CI and producers only look their id up.
   */
  autoRegister: boolean;
}

/** TopicNameStrategy: the value schema of topic `t` lives under subject `t-value`. */
export function valueSubject(topic: string): string {
  return `${topic}-value`;
}

/** The part of the client's HTTP API (mappersmith) `registerUnnamed` uses. */
interface RegistryApi {
  Subject: {
    config(args: { subject: string }): Promise<{ data(): { compatibilityLevel: string } }>;
    register(args: { subject: string; body: { schema: string } }): Promise<{ data(): { id: number } }>;
    updateConfig(args: { subject: string; body: { compatibility: string } }): Promise<unknown>;
  };
}

interface HttpishError {
  status?: number;
  message?: string;
}

// The registry's own "not found" answers (Confluent error codes 40401 subject, 40403 schema). Apicurio
// words a schema missing under an existing subject as "does not match any schema under the subject".
const REGISTRY_NOT_FOUND = /\b(Schema|Subject)\b.*not found|does not match any schema under the subject/i;

/** Sorts a registry client failure into the codec's error tree. */
function classifyRegistryError(err: unknown, context: { schemaId?: number; subject?: string }): CodecError {
  if (err instanceof CodecError) return err;
  const { status, message = String(err), name } = (err ?? {}) as HttpishError & { name?: string };
  if (name === 'ConfluentSchemaRegistryCompatibilityError' && context.subject) {
    // The subject exists with another compatibility rule than the platform's.
    return new IncompatibleSchemaError(context.subject, message, err);
  }
  // The client turns a 404 from "is this schema registered?" into its own error, without the status.
  const notFound = status === 404 || (name === 'ConfluentSchemaRegistryError' && status === undefined);
  if (notFound) {
    // Any other 404 means a wrong SCHEMA_REGISTRY_URL: retriable, so records wait instead of going to a DLQ.
    if (!REGISTRY_NOT_FOUND.test(message)) return new RegistryUnavailableError(`${message} (is SCHEMA_REGISTRY_URL right?)`, err);
    if (context.schemaId !== undefined) return new UnknownSchemaIdError(context.schemaId, err);
    if (context.subject) return new SchemaNotRegisteredError(context.subject, err);
  }
  if (status === 409 && context.subject) return new IncompatibleSchemaError(context.subject, message, err);
  // Bad credentials are the deployment's problem, not the record's: pause, never dead-letter every record.
  if (status === 401 || status === 403) return new RegistryAuthError(status, message, err);
  if (status !== undefined && status >= 400 && status < 500 && status !== 408 && status !== 429 && !NETWORK_FAILURE.test(message)) {
    return new RegistryRejectedError(status, message, err);
  }
  return new RegistryUnavailableError(message, err);
}

// mappersmith reports failures below HTTP (refused, reset, timeout) as a response without a real status.
const NETWORK_FAILURE = /ECONNREFUSED|ECONNRESET|ETIMEDOUT|EHOSTUNREACH|EAI_AGAIN|socket hang up|timeout|network/i;

/** Writes values of one schema to one topic; `encode` is synchronous once the schema id is known. */
export class Serializer<T> {
  private scratch = Buffer.allocUnsafe(4096);

  constructor(
    readonly schemaId: number,
    private readonly schema: AvroSchema,
  ) {}

  encode(value: T): Buffer {
    const type = this.schema.type;
    for (;;) {
      writeHeader(this.scratch, this.schemaId);
      let end: number;
      try {
        end = type.encode(value, this.scratch, HEADER_LENGTH);
      } catch {
        throw this.invalid(value);
      }
      if (end >= 0) return Buffer.from(this.scratch.subarray(0, end));
      // avsc returns minus the bytes it would have needed: grow once and write again.
      this.scratch = Buffer.allocUnsafe(Math.max(this.scratch.length * 2, HEADER_LENGTH - end));
    }
  }

  private invalid(value: unknown): InvalidRecordError {
    const paths: string[] = [];
    this.schema.type.isValid(value, { errorHook: (path) => paths.push(path.join('.')) });
    return new InvalidRecordError(this.schema.name, paths);
  }
}

/** One record's outcome in a batch. */
export type Decoded<T> = { ok: true; value: T } | { ok: false; error: CodecError };

function attempt<V>(run: () => V): Decoded<V> {
  try {
    return { ok: true, value: run() };
  } catch (err) {
    if (err instanceof CodecError) return { ok: false, error: err };
    throw err;
  }
}

// avsc's `equals` takes `{ strict }` (compare with attributes such as logical types); its typings omit it.
type StrictlyComparable = { equals(other: avro.Type, opts: { strict: boolean }): boolean };

interface ReaderPlan {
  writer: avro.Type;
  resolver?: avro.Resolver;
}

/**
 * Reads framed records into the reader's schema. Records written with an older or newer compatible
 * schema are resolved (avsc resolver), so a consumer built for v1 reads v2 and the other way round.
 */
export class Deserializer<T> {
  private readonly plans = new Map<number, ReaderPlan>();
  private readonly pending = new Map<number, Promise<ReaderPlan>>();

  constructor(
    private readonly registry: SchemaRegistry,
    private readonly reader: AvroSchema,
  ) {}

  async decode(payload: Buffer): Promise<T> {
    const schemaId = readSchemaId(payload);
    const plan = this.plans.get(schemaId) ?? (await this.planFor(schemaId));
    return this.read(payload, schemaId, plan);
  }

  /**
   * Decodes a batch, fetching each unknown writer schema once, then reading synchronously. One result
   * per payload, in order: a bad record fails alone, so the caller can dead-letter just that one.
   */
  async decodeAll(payloads: Buffer[]): Promise<Decoded<T>[]> {
    const ids = payloads.map((payload) => attempt(() => readSchemaId(payload)));
    const missing = new Set<number>();
    for (const id of ids) if (id.ok && !this.plans.has(id.value)) missing.add(id.value);
    const failedPlans = new Map<number, CodecError>();
    await Promise.all(
      [...missing].map((id) => this.planFor(id).catch((err: CodecError) => void failedPlans.set(id, err))),
    );
    return payloads.map((payload, i) => {
      const id = ids[i];
      if (!id.ok) return id;
      const planError = failedPlans.get(id.value);
      if (planError) return { ok: false, error: planError };
      return attempt(() => this.read(payload, id.value, this.plans.get(id.value)!));
    });
  }

  private read(payload: Buffer, schemaId: number, plan: ReaderPlan): T {
    const body = payload.subarray(HEADER_LENGTH);
    let decoded: { value: T; offset: number };
    try {
      decoded = this.reader.type.decode(body, 0, plan.resolver) as { value: T; offset: number };
    } catch (err) {
      throw new CorruptPayloadError(schemaId, err);
    }
    const { value, offset } = decoded;
    if (offset < 0) throw new TruncatedPayloadError(payload.length);
    if (offset !== body.length) throw new CorruptPayloadError(schemaId, new Error(`${body.length - offset} trailing bytes`));
    return value;
  }

  private planFor(schemaId: number): Promise<ReaderPlan> {
    let pending = this.pending.get(schemaId);
    if (!pending) {
      pending = this.fetchPlan(schemaId).finally(() => this.pending.delete(schemaId));
      this.pending.set(schemaId, pending);
    }
    return pending;
  }

  private async fetchPlan(schemaId: number): Promise<ReaderPlan> {
    let writer: avro.Type;
    try {
      writer = (await this.registry.getSchema(schemaId)) as unknown as avro.Type;
    } catch (err) {
      throw classifyRegistryError(err, { schemaId });
    }
    let plan: ReaderPlan;
    // Strict: canonical equality ignores logical types, so decimal(18,4) would pass for decimal(18,2)
    // and be read 100x too large; only an identical schema may skip resolution.
    if ((writer as StrictlyComparable).equals(this.reader.type, { strict: true })) {
      plan = { writer };
    } else {
      try {
        plan = { writer, resolver: createResolver(this.reader.type, writer) };
      } catch (err) {
        throw new SchemaMismatchError(schemaId, this.reader.name, err);
      }
    }
    this.plans.set(schemaId, plan);
    return plan;
  }
}

/**
 * Encodes and decodes events in the Confluent wire format against a Confluent-compatible registry.
 * Schema ids are looked up once per (topic, schema) and cached, so steady-state traffic makes no
 * registry calls.
 */
export class RegistryCodec {
  private readonly serializers = new Map<string, Promise<Serializer<unknown>>>();

  constructor(
    private readonly registry: SchemaRegistry,
    private readonly options: RegistryCodecOptions,
  ) {}

  serializerFor<T>(topic: string, schema: AvroSchema): Promise<Serializer<T>> {
    const key = `${valueSubject(topic)}\u0000${schema.json}`;
    let serializer = this.serializers.get(key);
    if (!serializer) {
      serializer = this.resolveSchemaId(topic, schema).then((id) => new Serializer(id, schema));
      // A failed lookup (registry down) must not poison the cache.
      serializer.catch(() => this.serializers.delete(key));
      this.serializers.set(key, serializer);
    }
    return serializer as Promise<Serializer<T>>;
  }

  async encode<T>(topic: string, schema: AvroSchema, value: T): Promise<Buffer> {
    return (await this.serializerFor<T>(topic, schema)).encode(value);
  }

  deserializerFor<T>(reader: AvroSchema): Deserializer<T> {
    return new Deserializer<T>(this.registry, reader);
  }

  /**
   * The client refuses to register a schema without a top-level name — a union of event types, which
   * Avro and the registry accept — so this makes the client's own calls for it: read the subject's
   * rule, register, and set BACKWARD_TRANSITIVE on a new subject.
   */
  private async registerUnnamed(subject: string, json: string): Promise<number> {
    const api = (this.registry as unknown as { api: RegistryApi }).api;
    let firstVersion = false;
    try {
      const { compatibilityLevel } = (await api.Subject.config({ subject })).data();
      if (compatibilityLevel.toUpperCase() !== COMPATIBILITY.BACKWARD_TRANSITIVE) {
        throw new IncompatibleSchemaError(subject, `the subject's rule is ${compatibilityLevel}, not BACKWARD_TRANSITIVE`);
      }
    } catch (err) {
      if ((err as HttpishError).status !== 404) throw err;
      firstVersion = true;
    }
    const { id } = (await api.Subject.register({ subject, body: { schema: json } })).data();
    if (firstVersion) await api.Subject.updateConfig({ subject, body: { compatibility: COMPATIBILITY.BACKWARD_TRANSITIVE } });
    return id;
  }

  private async resolveSchemaId(topic: string, schema: AvroSchema): Promise<number> {
    const subject = valueSubject(topic);
    const confluentSchema = { type: SchemaType.AVRO, schema: schema.json } as const;
    try {
      if (this.options.autoRegister) {
        if (!schema.type.name) return await this.registerUnnamed(subject, schema.json);
        const { id } = await this.registry.register(confluentSchema, {
          subject,
          compatibility: COMPATIBILITY.BACKWARD_TRANSITIVE,
        });
        return id;
      }
      return await this.registry.getRegistryIdBySchema(subject, confluentSchema);
    } catch (err) {
      throw classifyRegistryError(err, { subject });
    }
  }
}
