import type { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import {
  CodecError,
  CorruptPayloadError,
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
import { decimal } from './decimal';
import { parseAvroSchema } from './logical-types';
import { avroSchema, RegistryCodec } from './registry-codec';

// Unit tests use an in-memory stand-in for the registry; the e2e spec runs the same paths for real.
class InMemoryRegistry {
  calls = 0;
  private byId = new Map<number, string>();
  failWith?: unknown;

  add(id: number, json: string): void {
    this.byId.set(id, json);
  }
  async getSchema(id: number) {
    this.calls++;
    if (this.failWith) throw this.failWith;
    const json = this.byId.get(id);
    if (!json) throw Object.assign(new Error(`Schema ${id} not found.`), { status: 404 });
    return parseAvroSchema(json);
  }
  async getRegistryIdBySchema(_subject: string, schema: { schema: string }) {
    this.calls++;
    if (this.failWith) throw this.failWith;
    for (const [id, json] of this.byId) if (json === schema.schema) return id;
    // What the client throws for the registry's 40401/40403: its own error, message kept, status lost.
    throw Object.assign(new Error(`Subject '${_subject}' not found.`), { name: 'ConfluentSchemaRegistryError' });
  }
  async register(schema: { schema: string }) {
    this.calls++;
    const id = this.byId.size + 1;
    this.byId.set(id, schema.schema);
    return { id };
  }
}

const paymentV1 = avroSchema({
  type: 'record',
  name: 'Payment',
  namespace: 'com.securecart.test',
  fields: [
    { name: 'id', type: 'string' },
    { name: 'amount', type: { type: 'bytes', logicalType: 'decimal', precision: 18, scale: 2 } },
    { name: 'at', type: { type: 'long', logicalType: 'timestamp-millis' } },
  ],
});
const paymentV2 = avroSchema({
  type: 'record',
  name: 'Payment',
  namespace: 'com.securecart.test',
  fields: [
    { name: 'id', type: 'string' },
    { name: 'amount', type: { type: 'bytes', logicalType: 'decimal', precision: 18, scale: 2 } },
    { name: 'at', type: { type: 'long', logicalType: 'timestamp-millis' } },
    { name: 'note', type: ['null', 'string'], default: null },
  ],
});
const unrelated = avroSchema({ type: 'record', name: 'Other', fields: [{ name: 'x', type: 'int' }] });

async function failureOf(promise: Promise<unknown>): Promise<CodecError & { schemaId?: number }> {
  try {
    await promise;
  } catch (err) {
    return err as CodecError;
  }
  throw new Error('expected a failure');
}

const v1Value = { id: 'p-1', amount: decimal('10.05'), at: new Date('2026-11-26T00:00:00Z') };

function setup() {
  const registry = new InMemoryRegistry();
  registry.add(1, paymentV1.json);
  registry.add(2, paymentV2.json);
  const codec = new RegistryCodec(registry as unknown as SchemaRegistry, { autoRegister: false });
  return { registry, codec };
}

describe('RegistryCodec', () => {
  it('frames records as magic byte, schema id, Avro body', async () => {
    const { codec } = setup();
    const bytes = await codec.encode('payments.v1', paymentV1, v1Value);
    expect(bytes[0]).toBe(0);
    expect(bytes.readUInt32BE(1)).toBe(1);
    expect(bytes.subarray(5)).toEqual(paymentV1.type.toBuffer(v1Value));
  });

  it('round-trips decimals and timestamps exactly', async () => {
    const { codec } = setup();
    const bytes = await codec.encode('payments.v1', paymentV1, v1Value);
    expect(await codec.deserializerFor(paymentV1).decode(bytes)).toEqual(v1Value);
  });

  it('looks each schema id up once, then encodes and decodes without the registry', async () => {
    const { codec, registry } = setup();
    const serializer = await codec.serializerFor<typeof v1Value>('payments.v1', paymentV1);
    const deserializer = codec.deserializerFor(paymentV1);
    await deserializer.decode(serializer.encode(v1Value));
    const warm = registry.calls;
    for (let i = 0; i < 100; i++) await deserializer.decode(serializer.encode({ ...v1Value, id: `p-${i}` }));
    expect(registry.calls).toBe(warm);
  });

  it('reads v2 records with a v1 reader and v1 records with a v2 reader', async () => {
    const { codec } = setup();
    const v2Bytes = await codec.encode('payments.v1', paymentV2, { ...v1Value, note: 'gift' });
    expect(await codec.deserializerFor(paymentV1).decode(v2Bytes)).toEqual(v1Value);
    const v1Bytes = await codec.encode('payments.v1', paymentV1, v1Value);
    expect(await codec.deserializerFor(paymentV2).decode(v1Bytes)).toEqual({ ...v1Value, note: null });
  });

  it('decodes a batch with one schema fetch per writer schema', async () => {
    const { codec, registry } = setup();
    const serializer = await codec.serializerFor<typeof v1Value>('payments.v1', paymentV1);
    const before = registry.calls;
    const batch = Array.from({ length: 50 }, (_, i) => serializer.encode({ ...v1Value, id: `p-${i}` }));
    const decoded = await codec.deserializerFor<typeof v1Value>(paymentV1).decodeAll(batch);
    expect(decoded.map((d) => (d.ok ? d.value.id : d.error))).toEqual(batch.map((_, i) => `p-${i}`));
    expect(registry.calls - before).toBe(1);
  });

  it('fails bad records of a batch one by one and decodes the rest', async () => {
    const { codec } = setup();
    const good = await codec.encode('payments.v1', paymentV1, v1Value);
    const results = await codec.deserializerFor<typeof v1Value>(paymentV1).decodeAll([
      good,
      Buffer.from('not avro'),
      Buffer.from([0, 0, 0, 0, 42, 1]),
      good.subarray(0, good.length - 2),
      good,
    ]);
    expect(results.map((r) => (r.ok ? 'ok' : r.error.constructor.name))).toEqual([
      'ok',
      'MagicByteError',
      'UnknownSchemaIdError',
      'TruncatedPayloadError',
      'ok',
    ]);
  });

  it('refuses to read decimals of another scale instead of returning wrong amounts', async () => {
    const { codec, registry } = setup();
    const fourDigits = avroSchema(JSON.parse(paymentV1.json.replace('"scale":2', '"scale":4')));
    registry.add(5, fourDigits.json);
    const payload = Buffer.concat([Buffer.from([0, 0, 0, 0, 5]), fourDigits.type.toBuffer({ ...v1Value, amount: '12.3400' })]);
    await expect(codec.deserializerFor(paymentV1).decode(payload)).rejects.toBeInstanceOf(SchemaMismatchError);
  });

  it('reads a timestamp-micros writer as the same instant, not 1000 times later', async () => {
    const { codec, registry } = setup();
    const micros = avroSchema(JSON.parse(paymentV1.json.replace('timestamp-millis', 'timestamp-micros')));
    registry.add(6, micros.json);
    const payload = Buffer.concat([Buffer.from([0, 0, 0, 0, 6]), micros.type.toBuffer(v1Value)]);
    expect(await codec.deserializerFor(paymentV1).decode(payload)).toEqual(v1Value);
  });

  it.each([
    ['an empty payload', Buffer.alloc(0), MagicByteError],
    ['a wrong magic byte', Buffer.from([1, 0, 0, 0, 1, 2]), MagicByteError],
    ['a cut header', Buffer.from([0, 0, 0]), TruncatedPayloadError],
  ])('rejects %s with a typed, non-retriable error', async (_what, payload, errorClass) => {
    const { codec } = setup();
    const error = await failureOf(codec.deserializerFor(paymentV1).decode(payload));
    expect(error).toBeInstanceOf(errorClass);
    expect(error.retriable).toBe(false);
  });

  it('rejects a cut Avro body as truncated and extra bytes as corrupt', async () => {
    const { codec } = setup();
    const bytes = await codec.encode('payments.v1', paymentV1, v1Value);
    const deserializer = codec.deserializerFor(paymentV1);
    await expect(deserializer.decode(bytes.subarray(0, bytes.length - 3))).rejects.toBeInstanceOf(TruncatedPayloadError);
    await expect(deserializer.decode(Buffer.concat([bytes, Buffer.from([7])]))).rejects.toBeInstanceOf(CorruptPayloadError);
  });

  it('names an unknown schema id', async () => {
    const { codec } = setup();
    const payload = Buffer.from([0, 0, 0, 0, 99, 0]);
    const error = await failureOf(codec.deserializerFor(paymentV1).decode(payload));
    expect(error).toBeInstanceOf(UnknownSchemaIdError);
    expect(error.schemaId).toBe(99);
  });

  it('treats a 404 that is not the registry\'s own "not found" as a misconfigured URL: retriable', async () => {
    const { codec, registry } = setup();
    registry.failWith = Object.assign(new Error('Could not find resource for full path: /wrong/schemas/ids/1'), { status: 404 });
    const error = await failureOf(codec.deserializerFor(paymentV1).decode(Buffer.from([0, 0, 0, 0, 1, 0])));
    expect(error).toBeInstanceOf(RegistryUnavailableError);
    expect(error.message).toContain('SCHEMA_REGISTRY_URL');
  });

  it('treats a producer lookup that 404s outside the registry API as a misconfigured URL', async () => {
    const { codec, registry } = setup();
    registry.failWith = Object.assign(new Error('RESTEASY003210: Could not find resource for full path'), {
      name: 'ConfluentSchemaRegistryError',
    });
    expect(await failureOf(codec.serializerFor('payments.v1', paymentV1))).toBeInstanceOf(RegistryUnavailableError);
  });

  it.each([401, 403])('pauses on registry credentials refused (%i) instead of dead-lettering', async (status) => {
    const { codec, registry } = setup();
    registry.failWith = Object.assign(new Error('Unauthorized'), { status });
    const error = await failureOf(codec.deserializerFor(paymentV1).decode(Buffer.from([0, 0, 0, 0, 1, 0])));
    expect(error).toBeInstanceOf(RegistryAuthError);
    expect(error.retriable).toBe(true);
  });

  it('reports an unreachable registry as retriable and recovers once it is back', async () => {
    const { codec, registry } = setup();
    registry.failWith = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:8081'), { status: 400 });
    const error = await failureOf(codec.serializerFor('payments.v1', paymentV1));
    expect(error).toBeInstanceOf(RegistryUnavailableError);
    expect(error.retriable).toBe(true);
    registry.failWith = undefined;
    await expect(codec.serializerFor('payments.v1', paymentV1)).resolves.toMatchObject({ schemaId: 1 });
  });

  it.each([400, 422])('dead-letters a request the registry refuses (%i): retrying cannot help', async (status) => {
    const { codec, registry } = setup();
    registry.failWith = Object.assign(new Error('Artifact ID is invalid'), { status });
    const error = await failureOf(codec.serializerFor('payments.v1', paymentV1));
    expect(error).toBeInstanceOf(RegistryRejectedError);
    expect(error.retriable).toBe(false);
  });

  it.each([408, 429, 500, 503])('waits on a registry answering %i (busy or failing): retriable', async (status) => {
    const { codec, registry } = setup();
    registry.failWith = Object.assign(new Error('try later'), { status });
    const error = await failureOf(codec.deserializerFor(paymentV1).decode(Buffer.from([0, 0, 0, 0, 1, 0])));
    expect(error).toBeInstanceOf(RegistryUnavailableError);
    expect(error.retriable).toBe(true);
  });

  it('reads Apicurio\'s "does not match any schema under the subject" as not registered, not as a wrong URL', async () => {
    const { codec, registry } = setup();
    registry.failWith = Object.assign(new Error('The given schema does not match any schema under the subject payments.v1-value'), {
      name: 'ConfluentSchemaRegistryError',
    });
    const error = await failureOf(codec.serializerFor('payments.v1', paymentV1));
    expect(error).toBeInstanceOf(SchemaNotRegisteredError);
    expect(error.retriable).toBe(false);
  });

  it('refuses to produce with a schema that is not registered when auto-registration is off', async () => {
    const { codec } = setup();
    await expect(codec.serializerFor('payments.v1', unrelated)).rejects.toBeInstanceOf(SchemaNotRegisteredError);
  });

  it('reports a writer schema the reader cannot resolve', async () => {
    const { codec, registry } = setup();
    registry.add(3, unrelated.json);
    const payload = Buffer.concat([Buffer.from([0, 0, 0, 0, 3]), unrelated.type.toBuffer({ x: 1 })]);
    await expect(codec.deserializerFor(paymentV1).decode(payload)).rejects.toBeInstanceOf(SchemaMismatchError);
  });

  it('names the invalid fields of a record that does not match its schema', async () => {
    const { codec } = setup();
    const serializer = await codec.serializerFor('payments.v1', paymentV1);
    const bad = { id: 7, amount: '1.234', at: new Date() } as unknown as typeof v1Value;
    const error = (() => {
      try {
        serializer.encode(bad);
      } catch (e) {
        return e as InvalidRecordError;
      }
    })();
    expect(error).toBeInstanceOf(InvalidRecordError);
    expect(error?.paths).toEqual(['id', 'amount']);
  });
});
