/**
 * Details of the codec that the behaviour specs leave open, each pinned down because mutation testing
 * showed a change to it going unnoticed: error messages, registry client wiring, error
 * classification edges, buffer growth, request de-duplication, and the decimal edge cases.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import {
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
import { bytesToUnscaled, checkPrecision, decimal, decimalFromBytes, decimalToBytes, DecimalError, fromUnscaled, toUnscaled, unscaledToBytes } from './decimal';
import { DecimalLogicalType, parseAvroSchema, TimestampMicrosLogicalType, TimestampMillisLogicalType } from './logical-types';
import { avroSchema, RegistryCodec, valueSubject } from './registry-codec';
import { createSchemaRegistry, registryAuthHeaders, registryDefaults, RegistryRequestCounter } from './schema-registry-client';
import { HEADER_LENGTH, MAGIC_BYTE, readSchemaId } from './wire-format';

async function failure(promise: Promise<unknown>): Promise<Error & { retriable?: boolean }> {
  try {
    await promise;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected a failure');
}

describe('codec error messages and verdicts', () => {
  it.each([
    [new MagicByteError(7), 'expected magic byte 0, got 7', false],
    [new MagicByteError(undefined), 'expected magic byte 0, got an empty payload', false],
    [new TruncatedPayloadError(3), 'payload of 3 bytes is truncated', false],
    [new UnknownSchemaIdError(9), 'schema id 9 is not known to the registry', false],
    [new RegistryUnavailableError('down'), 'schema registry unavailable: down', true],
    [new SchemaMismatchError(4, 'Order'), 'records written with schema id 4 cannot be read as Order', false],
    [new InvalidRecordError('Order', ['a', 'b.c']), 'record does not match Order: invalid a, b.c', false],
    [new InvalidRecordError('Order', []), 'record does not match Order: invalid value', false],
    [new CorruptPayloadError(5), 'payload for schema id 5 is not valid Avro', false],
    [new SchemaNotRegisteredError('t-value'), 'schema is not registered under subject t-value', false],
    [new IncompatibleSchemaError('t-value', 'field x'), 'schema is incompatible with subject t-value: field x', false],
    [new RegistryRejectedError(400, 'bad'), 'schema registry rejected the request (400): bad', false],
    [new RegistryAuthError(401, 'no'), 'schema registry refused the credentials (401): no', true],
  ])('%s', (error, message, retriable) => {
    expect(error.message).toBe(message);
    expect(error.retriable).toBe(retriable);
    expect(error.name).toBe(error.constructor.name);
  });
});

describe('wire format', () => {
  it('reads the schema id after the magic byte, big-endian', () => {
    expect(MAGIC_BYTE).toBe(0);
    expect(HEADER_LENGTH).toBe(5);
    expect(readSchemaId(Buffer.from([0, 1, 2, 3, 4]))).toBe(0x01020304);
  });

  it('needs the whole header', () => {
    expect(() => readSchemaId(Buffer.from([0, 0, 0, 1]))).toThrow(TruncatedPayloadError);
    expect(() => readSchemaId(Buffer.from([1, 0, 0, 0, 1]))).toThrow(MagicByteError);
  });
});

describe('registry client wiring', () => {
  it('fails fast: two retries, 100 ms to 1 s apart', () => {
    expect(registryDefaults).toEqual({ retries: 2, initialRetryTimeInSecs: 0.1, maxRetryTimeInSecs: 1 });
  });

  it('sends Basic auth only when a user is configured', () => {
    expect(registryAuthHeaders({ url: 'http://r' })).toEqual({});
    expect(registryAuthHeaders({ url: 'http://r', username: 'u', password: 'p' })).toEqual({
      Authorization: 'Basic ' + Buffer.from('u:p').toString('base64'),
    });
    expect(registryAuthHeaders({ url: 'http://r', username: 'u' })).toEqual({ Authorization: 'Basic ' + Buffer.from('u:').toString('base64') });
  });

  it('counts the requests that leave for the registry, and parses schemas with the platform logical types', async () => {
    const counter = new RegistryRequestCounter();
    expect(counter.count).toBe(0);
    const registry = createSchemaRegistry({ url: 'http://127.0.0.1:1' }, counter);
    await registry.getSchema(1).catch(() => undefined);
    expect(counter.count).toBeGreaterThan(0);
    // The client hands our avsc options to every schema it parses.
    const options = (registry as unknown as { options: { AVRO: { logicalTypes: Record<string, unknown> } } }).options;
    expect(options.AVRO.logicalTypes['decimal']).toBe(DecimalLogicalType);
  });
});

// A registry stand-in whose every call fails with `error`.
function failingCodec(error: unknown, autoRegister = false) {
  const fail = async () => {
    throw error;
  };
  const registry = { getSchema: fail, getRegistryIdBySchema: fail, register: fail };
  return new RegistryCodec(registry as unknown as SchemaRegistry, { autoRegister });
}
const orderSchema = avroSchema({ type: 'record', name: 'Order', namespace: 'com.acme', fields: [{ name: 'id', type: 'string' }] });

describe('registry error classification', () => {
  it('reads a 409 while registering as an incompatible schema', async () => {
    const error = await failure(failingCodec(Object.assign(new Error('Incompatible: loyaltyTier'), { status: 409 }), true).serializerFor('t', orderSchema));
    expect(error).toBeInstanceOf(IncompatibleSchemaError);
    expect(error.message).toContain('loyaltyTier');
  });

  it('reads a compatibility rule mismatch as an incompatible subject', async () => {
    const mismatch = Object.assign(new Error('Compatibility does not match'), { name: 'ConfluentSchemaRegistryCompatibilityError' });
    expect(await failure(failingCodec(mismatch, true).serializerFor('t', orderSchema))).toBeInstanceOf(IncompatibleSchemaError);
  });

  it('reads a 409 while fetching a schema by id as a registry failure, not as this record\'s fault', async () => {
    const error = await failure(failingCodec(Object.assign(new Error('conflict'), { status: 409 })).deserializerFor(orderSchema).decode(Buffer.from([0, 0, 0, 0, 1, 0])));
    expect(error).toBeInstanceOf(RegistryRejectedError);
  });

  it.each(['connect ECONNRESET', 'socket hang up', 'ETIMEDOUT', 'getaddrinfo EAI_AGAIN registry', 'EHOSTUNREACH', 'Request timeout', 'network error'])(
    'waits on a network failure reported as a 4xx (%s)',
    async (message) => {
      const error = await failure(failingCodec(Object.assign(new Error(message), { status: 400 })).serializerFor('t', orderSchema));
      expect(error).toBeInstanceOf(RegistryUnavailableError);
    },
  );

  it('waits on failures without an HTTP status', async () => {
    expect(await failure(failingCodec(new Error('boom')).serializerFor('t', orderSchema))).toBeInstanceOf(RegistryUnavailableError);
    expect(await failure(failingCodec(undefined).serializerFor('t', orderSchema))).toBeInstanceOf(RegistryUnavailableError);
  });

  it.each(['Subject not found', 'Schema 12 not found', 'subject \'x\' not found.'])('reads the registry\'s own "%s" as not registered', async (message) => {
    const error = await failure(failingCodec(Object.assign(new Error(message), { status: 404 })).serializerFor('t', orderSchema));
    expect(error).toBeInstanceOf(SchemaNotRegisteredError);
    expect((error as SchemaNotRegisteredError).subject).toBe('t-value');
  });

  it('passes codec errors through unchanged', async () => {
    const own = new SchemaMismatchError(1, 'x');
    expect(await failure(failingCodec(own).serializerFor('t', orderSchema))).toBe(own);
  });
});

describe('RegistryCodec internals', () => {
  it('names subjects after the topic (TopicNameStrategy)', () => {
    expect(valueSubject('orders.v1')).toBe('orders.v1-value');
  });

  it('grows its scratch buffer for records larger than 4 KiB', async () => {
    const registry = { getRegistryIdBySchema: async () => 3, getSchema: async () => orderSchema.type };
    const codec = new RegistryCodec(registry as unknown as SchemaRegistry, { autoRegister: false });
    const serializer = await codec.serializerFor<{ id: string }>('t', orderSchema);
    const big = { id: 'x'.repeat(20_000) };
    const bytes = serializer.encode(big);
    expect(bytes.readUInt32BE(1)).toBe(3);
    expect(await codec.deserializerFor(orderSchema).decode(bytes)).toEqual(big);
    // The next small record is not polluted by the big one.
    expect(await codec.deserializerFor(orderSchema).decode(serializer.encode({ id: 'y' }))).toEqual({ id: 'y' });
  });

  it('fetches a writer schema once for concurrent decodes, and again after a failed fetch', async () => {
    let calls = 0;
    let failNext = true;
    const registry = {
      getSchema: async () => {
        calls++;
        if (failNext) {
          failNext = false;
          throw Object.assign(new Error('busy'), { status: 503 });
        }
        return orderSchema.type;
      },
    };
    const codec = new RegistryCodec(registry as unknown as SchemaRegistry, { autoRegister: false });
    const deserializer = codec.deserializerFor(orderSchema);
    const payload = Buffer.concat([Buffer.from([0, 0, 0, 0, 1]), orderSchema.type.toBuffer({ id: 'a' })]);
    const first = await deserializer.decodeAll([payload, payload]);
    expect(first.map((r) => (r.ok ? 'ok' : r.error.constructor.name))).toEqual(['RegistryUnavailableError', 'RegistryUnavailableError']);
    expect(calls).toBe(1);
    const results = await Promise.all([deserializer.decode(payload), deserializer.decode(payload)]);
    expect(results).toEqual([{ id: 'a' }, { id: 'a' }]);
    expect(calls).toBe(2);
  });

  it('does not cache a failed schema id lookup', async () => {
    let calls = 0;
    const registry = {
      getRegistryIdBySchema: async () => {
        calls++;
        if (calls === 1) throw Object.assign(new Error('busy'), { status: 503 });
        return 8;
      },
    };
    const codec = new RegistryCodec(registry as unknown as SchemaRegistry, { autoRegister: false });
    await expect(codec.serializerFor('t', orderSchema)).rejects.toBeInstanceOf(RegistryUnavailableError);
    await expect(codec.serializerFor('t', orderSchema)).resolves.toMatchObject({ schemaId: 8 });
    await codec.serializerFor('t', orderSchema);
    expect(calls).toBe(2);
  });

  it('registers with BACKWARD_TRANSITIVE under the topic subject when auto-registering', async () => {
    const register = jest.fn(async () => ({ id: 11 }));
    const codec = new RegistryCodec({ register } as unknown as SchemaRegistry, { autoRegister: true });
    await expect(codec.serializerFor('t', orderSchema)).resolves.toMatchObject({ schemaId: 11 });
    expect(register).toHaveBeenCalledWith({ type: 'AVRO', schema: orderSchema.json }, { subject: 't-value', compatibility: 'BACKWARD_TRANSITIVE' });
  });

  it('looks the id up under the topic subject in production', async () => {
    const getRegistryIdBySchema = jest.fn(async () => 12);
    const codec = new RegistryCodec({ getRegistryIdBySchema } as unknown as SchemaRegistry, { autoRegister: false });
    await codec.serializerFor('t', orderSchema);
    expect(getRegistryIdBySchema).toHaveBeenCalledWith('t-value', { type: 'AVRO', schema: orderSchema.json });
  });
});

describe('registering a top-level union (unnamed schema)', () => {
  const union = avroSchema([
    { type: 'record', name: 'A', namespace: 'com.acme', fields: [{ name: 'a', type: 'int' }] },
    { type: 'record', name: 'B', namespace: 'com.acme', fields: [{ name: 'b', type: 'int' }] },
  ]);

  function apiWith(config: () => Promise<{ data(): { compatibilityLevel: string } }>) {
    const calls: string[] = [];
    const api = {
      Subject: {
        config: async (args: { subject: string }) => {
          calls.push(`config ${args.subject}`);
          return config();
        },
        register: async (args: { subject: string; body: { schema: string } }) => {
          calls.push(`register ${args.subject} ${args.body.schema === union.json}`);
          return { data: () => ({ id: 21 }) };
        },
        updateConfig: async (args: { subject: string; body: { compatibility: string } }) => {
          calls.push(`updateConfig ${args.subject} ${args.body.compatibility}`);
        },
      },
    };
    return { calls, codec: new RegistryCodec({ api } as unknown as SchemaRegistry, { autoRegister: true }) };
  }

  it('sets BACKWARD_TRANSITIVE on a new subject after registering', async () => {
    const { calls, codec } = apiWith(async () => {
      throw Object.assign(new Error('Subject not found'), { status: 404 });
    });
    await expect(codec.serializerFor('t', union)).resolves.toMatchObject({ schemaId: 21 });
    expect(calls).toEqual(['config t-value', 'register t-value true', 'updateConfig t-value BACKWARD_TRANSITIVE']);
  });

  it('keeps the rule of an existing subject that has it', async () => {
    const { calls, codec } = apiWith(async () => ({ data: () => ({ compatibilityLevel: 'backward_transitive' }) }));
    await codec.serializerFor('t', union);
    expect(calls).toEqual(['config t-value', 'register t-value true']);
  });

  it('refuses a subject with another rule, and passes other failures on', async () => {
    const other = apiWith(async () => ({ data: () => ({ compatibilityLevel: 'NONE' }) }));
    const error = await failure(other.codec.serializerFor('t', union));
    expect(error).toBeInstanceOf(IncompatibleSchemaError);
    expect(error.message).toContain("the subject's rule is NONE, not BACKWARD_TRANSITIVE");
    expect(other.calls).toEqual(['config t-value']);
    const down = apiWith(async () => {
      throw Object.assign(new Error('busy'), { status: 503 });
    });
    expect(await failure(down.codec.serializerFor('t', union))).toBeInstanceOf(RegistryUnavailableError);
    expect(down.calls).toEqual(['config t-value']);
  });
});

describe('logical types', () => {
  const withDecimal = (precision: number, scale?: number) =>
    parseAvroSchema(JSON.stringify({ type: 'bytes', logicalType: 'decimal', precision, ...(scale === undefined ? {} : { scale }) }));

  it('defaults the decimal scale to 0 and exports precision and scale', () => {
    const type = withDecimal(5) as DecimalLogicalType;
    expect(type).toBeInstanceOf(DecimalLogicalType);
    expect([type.precision, type.scale]).toEqual([5, 0]);
    expect(type.schema({ exportAttrs: true })).toEqual({ type: 'bytes', logicalType: 'decimal', precision: 5, scale: 0 });
  });

  it.each([
    [0, 0],
    [1.5, 0],
    [4, 5],
    [4, -1],
    [4, 1.5],
  ])('falls back to plain bytes for an invalid decimal(%s,%s)', (precision, scale) => {
    expect(withDecimal(precision, scale)).not.toBeInstanceOf(DecimalLogicalType);
  });

  it('refuses non-string amounts as invalid instead of guessing', () => {
    const type = withDecimal(18, 2);
    expect(type.isValid('1.00')).toBe(true);
    expect(type.isValid(1)).toBe(false);
  });

  it('reads a narrower-precision writer, never a wider one or another scale', () => {
    const reader = withDecimal(10, 2);
    expect(() => reader.createResolver(withDecimal(8, 2))).not.toThrow();
    expect(() => reader.createResolver(withDecimal(12, 2))).toThrow();
    expect(() => reader.createResolver(withDecimal(10, 3))).toThrow();
  });

  it('round-trips timestamps as Dates and refuses anything else', () => {
    const millis = parseAvroSchema('{"type":"long","logicalType":"timestamp-millis"}');
    const micros = parseAvroSchema('{"type":"long","logicalType":"timestamp-micros"}');
    expect(millis).toBeInstanceOf(TimestampMillisLogicalType);
    expect(micros).toBeInstanceOf(TimestampMicrosLogicalType);
    const at = new Date('2026-11-28T10:00:00.123Z');
    expect(millis.fromBuffer(millis.toBuffer(at))).toEqual(at);
    expect(micros.fromBuffer(micros.toBuffer(at))).toEqual(at);
    expect(parseAvroSchema('"long"').fromBuffer(micros.toBuffer(at))).toBe(at.getTime() * 1000);
    for (const type of [millis, micros]) {
      expect(type.isValid(at.getTime())).toBe(false);
      expect(type.isValid(new Date('nope'))).toBe(false);
    }
  });

  it('reads millis and micros writers as each other, plain long/int as millis, and nothing else', () => {
    const millis = parseAvroSchema('{"type":"long","logicalType":"timestamp-millis"}');
    const micros = parseAvroSchema('{"type":"long","logicalType":"timestamp-micros"}');
    const at = new Date('2026-11-28T10:00:00.123Z');
    expect(millis.fromBuffer(micros.toBuffer(at), millis.createResolver(micros))).toEqual(at);
    expect(micros.fromBuffer(millis.toBuffer(at), micros.createResolver(millis))).toEqual(at);
    const int = parseAvroSchema('"int"');
    expect(millis.fromBuffer(int.toBuffer(5), millis.createResolver(int))).toEqual(new Date(5));
    expect(() => millis.createResolver(parseAvroSchema('"string"'))).toThrow();
    expect(() => micros.createResolver(parseAvroSchema('"long"'))).toThrow();
  });

  it('keeps named types of separate schemas apart', () => {
    const a = parseAvroSchema('{"type":"record","name":"X","fields":[{"name":"a","type":"int"}]}');
    const b = parseAvroSchema('{"type":"record","name":"X","fields":[{"name":"b","type":"string"}]}');
    expect(a.isValid({ a: 1 })).toBe(true);
    expect(b.isValid({ b: 'x' })).toBe(true);
  });
});

describe('decimal edges', () => {
  it('scales whole bigints, and uses custom scale and precision', () => {
    expect(decimal(12n)).toBe('12.00');
    expect(decimal('1.5', 3)).toBe('1.500');
    expect(decimal('5', 0)).toBe('5');
    expect(() => decimal('100.00', 2, 4)).toThrow(DecimalError);
    expect(decimal('99.99', 2, 4)).toBe('99.99');
  });

  it('accepts extra zero fraction digits, not others, and names the problem', () => {
    expect(toUnscaled('1.2300', 2)).toBe(123n);
    expect(() => toUnscaled('1.2301', 2)).toThrow('1.2301 has more than 2 fraction digits');
    expect(() => toUnscaled('x', 2)).toThrow('not a decimal: "x"');
  });

  it('formats unscaled values with leading zeros and signs', () => {
    expect(fromUnscaled(5n, 2)).toBe('0.05');
    expect(fromUnscaled(-5n, 2)).toBe('-0.05');
    expect(fromUnscaled(5n, 0)).toBe('5');
    expect(fromUnscaled(0n, 2)).toBe('0.00');
  });

  it('checks precision at both ends', () => {
    expect(checkPrecision(9999n, 4)).toBe(9999n);
    expect(checkPrecision(-9999n, 4)).toBe(-9999n);
    expect(() => checkPrecision(10000n, 4)).toThrow('10000 does not fit in precision 4');
    expect(() => checkPrecision(-10000n, 4)).toThrow(DecimalError);
  });

  it.each([
    [0n, [0x00]],
    [127n, [0x7f]],
    [-1n, [0xff]],
    [-256n, [0xff, 0x00]],
    [-32768n, [0x80, 0x00]],
    [-32769n, [0xff, 0x7f, 0xff]],
    [2n ** 47n, [0x00, 0x80, 0, 0, 0, 0, 0]],
  ])('encodes %s in the fewest bytes', (unscaled, bytes) => {
    expect(unscaledToBytes(unscaled)).toEqual(Buffer.from(bytes));
  });

  it.each([
    ['1407374883553.28', 18],
    ['-1407374883553.28', 18],
    ['123.45', 10],
    ['0.5', 18],
    ['12', 18],
    ['-7', 18],
  ])('encodes %s (precision %i) like the exact BigInt path and reads it back', (value, precision) => {
    const bytes = decimalToBytes(value, 2, precision);
    expect(bytes).toEqual(unscaledToBytes(toUnscaled(value, 2)));
    expect(decimalFromBytes(bytes, 2)).toBe(decimal(value));
  });

  it('checks precision on the fast path too', () => {
    expect(() => decimalToBytes('123.45', 2, 4)).toThrow(DecimalError);
    expect(() => decimalToBytes('12345678901234.00', 2, 15)).toThrow(DecimalError);
  });

  it('reads empty bytes as zero and long byte strings exactly', () => {
    expect(decimalFromBytes(Buffer.alloc(0), 2)).toBe('0.00');
    expect(decimalFromBytes(Buffer.alloc(0), 0)).toBe('0');
    expect(decimalFromBytes(unscaledToBytes(-(10n ** 17n) + 1n), 2)).toBe('-999999999999999.99');
    expect(decimalFromBytes(Buffer.from([0x05]), 0)).toBe('5');
    expect(decimalFromBytes(Buffer.from([0xfb]), 1)).toBe('-0.5');
  });
});

describe('second round (survivors of the first codec mutation run)', () => {
  it('keeps the cause of every codec error', () => {
    const cause = new Error('root');
    for (const error of [
      new TruncatedPayloadError(1, cause),
      new UnknownSchemaIdError(1, cause),
      new RegistryUnavailableError('x', cause),
      new SchemaMismatchError(1, 'R', cause),
      new CorruptPayloadError(1, cause),
      new SchemaNotRegisteredError('s', cause),
      new IncompatibleSchemaError('s', 'd', cause),
      new RegistryRejectedError(400, 'd', cause),
      new RegistryAuthError(401, 'd', cause),
    ]) {
      expect(error.cause).toBe(cause);
    }
    expect(new DecimalError('x').name).toBe('DecimalError');
  });

  it('reads empty decimal bytes as zero', () => {
    expect(bytesToUnscaled(Buffer.alloc(0))).toBe(0n);
  });

  it('accepts the extreme valid decimal parameters', () => {
    expect(parseAvroSchema('{"type":"bytes","logicalType":"decimal","precision":1}')).toBeInstanceOf(DecimalLogicalType);
    expect(parseAvroSchema('{"type":"bytes","logicalType":"decimal","precision":4,"scale":4}')).toBeInstanceOf(DecimalLogicalType);
  });

  it('classifies by status first: a "not found" text on a 5xx waits, a registry error with a 4xx status is rejected', async () => {
    const busy = await failure(failingCodec(Object.assign(new Error("Subject 'x' not found"), { status: 500 })).serializerFor('t', orderSchema));
    expect(busy).toBeInstanceOf(RegistryUnavailableError);
    const bad = await failure(failingCodec(Object.assign(new Error('bad'), { status: 400, name: 'ConfluentSchemaRegistryError' })).serializerFor('t', orderSchema));
    expect(bad).toBeInstanceOf(RegistryRejectedError);
  });

  it('names nested invalid fields by their dotted path', async () => {
    const nested = avroSchema({
      type: 'record',
      name: 'Order',
      fields: [{ name: 'lines', type: { type: 'array', items: { type: 'record', name: 'Line', fields: [{ name: 'qty', type: 'int' }] } } }],
    });
    const codec = new RegistryCodec({ getRegistryIdBySchema: async () => 1 } as unknown as SchemaRegistry, { autoRegister: false });
    const serializer = await codec.serializerFor('t', nested);
    let error: InvalidRecordError | undefined;
    try {
      serializer.encode({ lines: [{ qty: 1 }, { qty: 'two' }] });
    } catch (err) {
      error = err as InvalidRecordError;
    }
    expect(error?.paths).toEqual(['lines.1.qty']);
  });

  it('says how many trailing bytes made a payload corrupt', async () => {
    const registry = { getSchema: async () => orderSchema.type };
    const codec = new RegistryCodec(registry as unknown as SchemaRegistry, { autoRegister: false });
    const payload = Buffer.concat([Buffer.from([0, 0, 0, 0, 1]), orderSchema.type.toBuffer({ id: 'a' }), Buffer.from([1, 2])]);
    const error = await failure(codec.deserializerFor(orderSchema).decode(payload));
    expect(error).toBeInstanceOf(CorruptPayloadError);
    expect((error.cause as Error).message).toBe('2 trailing bytes');
  });

  it('keeps one serializer per (topic, schema): two versions on one topic get their own ids', async () => {
    const v2 = avroSchema({ type: 'record', name: 'Order', namespace: 'com.acme', fields: [{ name: 'id', type: 'string' }, { name: 'n', type: ['null', 'int'], default: null }] });
    const ids = new Map([[orderSchema.json, 1], [v2.json, 2]]);
    const registry = { getRegistryIdBySchema: async (_s: string, schema: { schema: string }) => ids.get(schema.schema)! };
    const codec = new RegistryCodec(registry as unknown as SchemaRegistry, { autoRegister: false });
    expect((await codec.serializerFor('t', orderSchema)).schemaId).toBe(1);
    expect((await codec.serializerFor('t', v2)).schemaId).toBe(2);
    expect((await codec.serializerFor('u', orderSchema)).schemaId).toBe(1);
  });

  it('authenticates every request and retries a failing registry exactly twice', async () => {
    const seen: (string | undefined)[] = [];
    const server = createServer((req, res) => {
      seen.push(req.headers.authorization);
      res.writeHead(503, { 'Content-Type': 'application/json' }).end('{"error_code":50301,"message":"busy"}');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const registry = createSchemaRegistry({ url, username: 'svc', password: 'pw' });
      await registry.getSchema(1).catch(() => undefined);
      expect(seen).toEqual(Array(1 + registryDefaults.retries).fill('Basic ' + Buffer.from('svc:pw').toString('base64')));
      seen.length = 0;
      await createSchemaRegistry({ url, username: 'svc' }).getSchema(1).catch(() => undefined);
      expect(seen[0]).toBe('Basic ' + Buffer.from('svc:').toString('base64'));
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
